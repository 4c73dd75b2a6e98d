package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code dkim} is the signing library under the relay (docs/ARCHITECTURE.md, "Packages"): it may
 * use the JDK and its crypto libraries, never another Signet package, so it can be read, tested and
 * reused on its own. Checked on the compiled classes: every class a dkim class refers to by name
 * (fields, calls, signatures, nested types) is in its constant pool as {@code dev/signet/...}.
 */
class DkimIsALibraryTest {
  private static final Pattern SIGNET_CLASS = Pattern.compile("dev/signet/([a-z0-9]+)/[A-Za-z0-9_$]+");

  @Test
  void dkimClassesReferToNoOtherSignetPackage() throws Exception {
    Path dir = Path.of(Signer.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .resolve("dev/signet/dkim");
    assertTrue(Files.isDirectory(dir), "compiled dkim classes expected under " + dir);
    List<Path> classes;
    try (Stream<Path> files = Files.list(dir)) {
      classes = files.filter(f -> f.toString().endsWith(".class")).toList();
    }
    assertTrue(classes.size() > 20, "found only " + classes.size() + " classes in " + dir);
    TreeSet<String> outside = new TreeSet<>();
    for (Path file : classes) {
      outside.addAll(references(file).stream()
          .map(r -> file.getFileName() + " -> " + r)
          .toList());
    }
    assertEquals(new TreeSet<>(), outside, "dkim must not depend on the rest of Signet");
  }

  @Test
  void theCheckSeesAReferenceToAnotherPackage() throws Exception {
    // This test class itself is compiled into dev/signet/dkim and names a config type below.
    Path self = Path.of(DkimIsALibraryTest.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .resolve("dev/signet/dkim/DkimIsALibraryTest.class");
    assertEquals(List.of("dev/signet/config/SignetConfig"), references(self));
    assertTrue(dev.signet.config.SignetConfig.class.isRecord());
  }

  /** The dev.signet classes outside dkim that a class file names. */
  private static List<String> references(Path classFile) throws IOException {
    String text = new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1);
    TreeSet<String> found = new TreeSet<>();
    Matcher m = SIGNET_CLASS.matcher(text);
    while (m.find()) {
      if (!m.group(1).equals("dkim")) {
        found.add(m.group());
      }
    }
    return List.copyOf(found);
  }
}
