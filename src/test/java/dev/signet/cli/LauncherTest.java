package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.TestKeys;
import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./signet} launcher script as a user runs it, on a jar that is the test class path (a
 * manifest pointing at it), so the test does not wait for {@code mvn package}.
 */
class LauncherTest {
  private static final String LF_MESSAGE = "From: Alice <alice@example.com>\nTo: bob@example.net\n"
      + "Subject: hello\n\nHi Bob.\n";

  @TempDir Path dir;
  private Path launcher;
  private Path keys;

  @BeforeEach
  void install() throws Exception {
    Path home = Files.createDirectories(dir.resolve("signet"));
    launcher = Files.copy(Path.of("signet"), home.resolve("signet"));
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Main.class.getName());
    // As the shaded jar's manifest (pom.xml): ACCP loads its native library.
    manifest.getMainAttributes().putValue("Enable-Native-Access", "ALL-UNNAMED");
    List<String> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      urls.add(Path.of(entry).toAbsolutePath().toUri().toString());
    }
    manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", urls));
    Path jar = Files.createDirectories(home.resolve("target")).resolve("signet.jar");
    try (OutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
      out.flush();
    }
    keys = TestKeys.install(dir);
  }

  private record Run(int exit, String stdout, String stderr) {}

  private Run run(String stdin, Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", launcher.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("SIGNET_"));
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().putAll(env);
    builder.redirectError(dir.resolve("stderr.txt").toFile());
    Process p = builder.start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not finish");
    return new Run(p.exitValue(), stdout, Files.readString(dir.resolve("stderr.txt")));
  }

  @Test
  void signTakesAnLfFileAndPrintsNothingOnStderr() throws Exception {
    Run r = run(LF_MESSAGE, Map.of(), "sign", "--keys", keys.toString());
    assertEquals(0, r.exit(), r.stderr());
    assertEquals("", r.stderr(), "scripts read sign's stderr: no JVM notices there");
    assertTrue(r.stdout().startsWith("DKIM-Signature: ") && r.stdout().endsWith("\r\n\r\nHi Bob.\r\n"), r.stdout());
  }

  @Test
  void readmeLoggingSwitchWorksWithEveryCommand() throws Exception {
    Map<String, String> env = Map.of("SIGNET_JAVA_OPTS",
        "-Dlogback.configurationFile=" + Path.of("conf/logback.xml").toAbsolutePath());
    Run sign = run(LF_MESSAGE, env, "sign", "--keys", keys.toString());
    assertEquals(0, sign.exit(), sign.stderr());
    Run keygen = run("", env, "keygen", "--domain", "example.org", "--selector", "s1", "--keys", keys.toString());
    assertEquals(0, keygen.exit(), keygen.stderr());
  }
}
