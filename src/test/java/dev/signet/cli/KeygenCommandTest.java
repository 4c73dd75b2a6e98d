package dev.signet.cli;

import static dev.signet.cli.OpsRig.signet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.cli.OpsRig.Run;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeygenCommandTest {
  @TempDir Path dir;

  private static final Pattern ZONE_LINE =
      Pattern.compile("(\\S+) IN TXT \\( ((?:\"[^\"]*\" ?)+)\\)\\n?");

  /** The quoted strings of a zone-file TXT line, checked against RFC 6376 §3.6.1 and
   * the zone-file shape keygen prints. */
  static List<String> txtStrings(String out, String expectedName) {
    Matcher m = ZONE_LINE.matcher(out.strip());
    assertTrue(m.matches(), out);
    assertEquals(expectedName, m.group(1));
    List<String> strings = new ArrayList<>();
    Matcher q = Pattern.compile("\"([^\"]*)\"").matcher(m.group(2));
    while (q.find()) {
      strings.add(q.group(1));
    }
    return strings;
  }

  static byte[] p(List<String> strings) {
    String value = String.join("", strings);
    Matcher p = Pattern.compile("(?:^|;)\\s*p=([A-Za-z0-9+/=]+)").matcher(value);
    assertTrue(p.find(), value);
    return Base64.getDecoder().decode(p.group(1));
  }

  static SigningKey onDisk(Path keys, String selector) throws Exception {
    return KeyRing.load(keys).all().stream().filter(k -> k.selector().equals(selector)).findFirst().orElseThrow();
  }

  @Test
  void rsaKeyIsWrittenMode0600AndItsRecordPrinted() throws Exception {
    Run run = signet("keygen", "--domain", "Example.com", "--selector", "rsa2026", "--keys", dir.toString());
    assertEquals(0, run.exit(), run.err());
    Path file = dir.resolve("example.com/rsa2026.pem");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    assertTrue(Files.readString(file).startsWith("-----BEGIN PRIVATE KEY-----\n"));
    List<String> strings = txtStrings(run.out(), "rsa2026._domainkey.example.com.");
    assertEquals("v=DKIM1; k=rsa; ", strings.get(0));
    assertTrue(strings.size() >= 3, strings.toString()); // a 2048-bit key does not fit one string
    strings.forEach(s -> assertTrue(s.length() <= 255, s));
    SigningKey key = onDisk(dir, "rsa2026");
    assertEquals(2048, key.bits());
    assertArrayEquals(key.publicKey().getEncoded(), p(strings));
  }

  @Test
  void ed25519RecordCarriesTheRaw32ByteKeyOfTheFile() throws Exception {
    Run run = signet("keygen", "--domain", "example.com", "--selector", "ed2026", "--algorithm", "ed25519",
        "--keys", dir.toString());
    assertEquals(0, run.exit(), run.err());
    List<String> strings = txtStrings(run.out(), "ed2026._domainkey.example.com.");
    assertEquals("v=DKIM1; k=ed25519; ", strings.get(0));
    byte[] p = p(strings);
    assertEquals(32, p.length);
    SigningKey key = onDisk(dir, "ed2026");
    assertEquals(SigningKey.Algorithm.ED25519_SHA256, key.algorithm());
    byte[] spki = key.publicKey().getEncoded();
    assertArrayEquals(java.util.Arrays.copyOfRange(spki, spki.length - 32, spki.length), p);
  }

  @Test
  void existingKeyIsNotOverwritten() throws Exception {
    assertEquals(0, signet("keygen", "--domain", "example.com", "--selector", "s1", "--algorithm", "ed25519",
        "--keys", dir.toString()).exit());
    Path file = dir.resolve("example.com/s1.pem");
    String before = Files.readString(file);
    Run again = signet("keygen", "--domain", "example.com", "--selector", "s1", "--algorithm", "ed25519",
        "--keys", dir.toString());
    assertEquals(1, again.exit());
    assertTrue(again.err().contains(file.toString()) && again.err().contains("--force"), again.err());
    assertEquals("", again.out());
    assertEquals(before, Files.readString(file));
  }

  @Test
  void forceReplacesTheKeyKeepingMode0600() throws Exception {
    String[] args = {"keygen", "--domain", "example.com", "--selector", "s1", "--algorithm", "ed25519",
        "--keys", dir.toString()};
    assertEquals(0, signet(args).exit());
    Path file = dir.resolve("example.com/s1.pem");
    String before = Files.readString(file);
    String[] forced = java.util.Arrays.copyOf(args, args.length + 1);
    forced[args.length] = "--force";
    Run run = signet(forced);
    assertEquals(0, run.exit(), run.err());
    assertNotEquals(before, Files.readString(file));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    byte[] spki = onDisk(dir, "s1").publicKey().getEncoded(); // the new key is the one printed
    assertArrayEquals(java.util.Arrays.copyOfRange(spki, spki.length - 32, spki.length),
        p(txtStrings(run.out(), "s1._domainkey.example.com.")));
    try (var files = Files.list(file.getParent())) {
      assertEquals(List.of("s1.pem"), files.map(f -> f.getFileName().toString()).toList()); // no temp left
    }
  }

  @Test
  void badDomainIsRefused() {
    for (String domain : List.of("-bad.example.com", "exa mple.com", "localhost", "a..b.com")) {
      Run run = signet("keygen", "--domain", domain, "--selector", "s", "--keys", dir.toString());
      assertEquals(1, run.exit(), domain);
      assertTrue(run.err().contains("--domain"), run.err());
    }
    assertFalse(Files.exists(dir.resolve("localhost")));
  }

  @Test
  void badSelectorIsRefused() {
    Run run = signet("keygen", "--domain", "example.com", "--selector", "s/../../x", "--keys", dir.toString());
    assertEquals(1, run.exit());
    assertTrue(run.err().contains("--selector"), run.err());
  }

  @Test
  void rsaBitsOutside1024To4096AreRefused() {
    for (String bits : List.of("512", "1023", "8192")) {
      Run run = signet("keygen", "--domain", "example.com", "--selector", "s", "--bits", bits, "--keys", dir.toString());
      assertEquals(1, run.exit(), bits);
      assertTrue(run.err().contains("--bits " + bits), run.err());
    }
    assertFalse(Files.exists(dir.resolve("example.com/s.pem")));
  }

  @Test
  void bitsWithEd25519IsRefused() {
    Run run = signet("keygen", "--domain", "example.com", "--selector", "s", "--algorithm", "ed25519",
        "--bits", "2048", "--keys", dir.toString());
    assertEquals(1, run.exit());
    assertTrue(run.err().contains("--bits"), run.err());
  }

  @Test
  void keysDirectoryComesFromTheConfigUnlessGivenExplicitly() throws Exception {
    Path fromConfig = dir.resolve("configured");
    Path config = dir.resolve("signet.yaml");
    Files.writeString(config, "dkim:\n  keys: " + fromConfig + "\n");
    assertEquals(0, signet("keygen", "--config", config.toString(), "--domain", "example.com", "--selector", "a",
        "--algorithm", "ed25519").exit());
    assertTrue(Files.exists(fromConfig.resolve("example.com/a.pem")));
    Path explicit = dir.resolve("explicit");
    assertEquals(0, signet("keygen", "--config", config.toString(), "--keys", explicit.toString(),
        "--domain", "example.com", "--selector", "b", "--algorithm", "ed25519").exit());
    assertTrue(Files.exists(explicit.resolve("example.com/b.pem")));
    assertFalse(Files.exists(fromConfig.resolve("example.com/b.pem")));
  }
}
