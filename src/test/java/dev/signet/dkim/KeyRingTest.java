package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyRingTest {
  @TempDir Path dir;

  static List<String> selectors(List<SigningKey> keys) {
    return keys.stream().map(k -> k.domain() + "/" + k.selector()).toList();
  }

  @Test
  void loadsRsaAndEd25519KeysNamedByTheirPath() throws Exception {
    KeyRing ring = Fixtures.exampleKeys(dir);
    assertEquals(List.of("example.com/ed25519", "example.com/rsa2048"), selectors(ring.all()));
    SigningKey rsa = Fixtures.key(ring, "rsa2048");
    assertEquals(SigningKey.Algorithm.RSA_SHA256, rsa.algorithm());
    assertEquals(2048, rsa.bits());
    assertEquals(dir.resolve("example.com/rsa2048.pem"), rsa.file());
    assertEquals(SigningKey.Algorithm.ED25519_SHA256, Fixtures.key(ring, "ed25519").algorithm());
  }

  @Test
  void domainDirectoryNameIsLowercased() throws Exception {
    Fixtures.installKey(dir, "example.com/ed25519.pem", "Example.COM/ed.pem");
    KeyRing ring = KeyRing.load(dir);
    assertEquals(List.of("example.com/ed"), selectors(ring.all()));
  }

  @Test
  void retiredKeysAreVisibleButNeverSign() throws Exception {
    Fixtures.installKey(dir, "example.com/rsa2048.pem", "example.com/old.pem.retired");
    Fixtures.installKey(dir, "example.com/ed25519.pem", "example.com/new.pem");
    KeyRing ring = KeyRing.load(dir);
    assertEquals(List.of("example.com/new"), selectors(ring.all()));
    assertEquals(List.of("example.com/new"), selectors(ring.keysFor("example.com", false)));
    assertEquals(List.of("example.com/old"), selectors(ring.retired()));
  }

  @Test
  void keyReadableByOthersIsRefusedWithAChmodHint() throws Exception {
    Path file = Fixtures.installKey(dir, "example.com/rsa2048.pem", "example.com/rsa2048.pem");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    DkimException e = assertThrows(DkimException.class, () -> KeyRing.load(dir));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("chmod 600 " + file), e.getMessage());
  }

  @Test
  void keyWritableByGroupIsRefused() throws Exception {
    Path file = Fixtures.installKey(dir, "example.com/ed25519.pem", "example.com/ed.pem");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw--w----"));
    DkimException e = assertThrows(DkimException.class, () -> KeyRing.load(dir));
    assertTrue(e.getMessage().contains("chmod 600 " + file), e.getMessage());
  }

  @Test
  void badPemNamesTheFile() throws Exception {
    Path file = dir.resolve("example.com/broken.pem");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    DkimException e = assertThrows(DkimException.class, () -> KeyRing.load(dir));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
  }

  @Test
  void fileWithoutAKeyNamesTheFile() throws Exception {
    Path file = dir.resolve("example.com/empty.pem");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "hello\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    DkimException e = assertThrows(DkimException.class, () -> KeyRing.load(dir));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("BEGIN PRIVATE KEY"), e.getMessage());
  }

  @Test
  void rsaKeyUnder1024BitsIsRefusedAtLoadNamingTheFile() throws Exception {
    Path file = Fixtures.installKey(dir, "rsa512.pem", "example.com/weak.pem");
    DkimException e = assertThrows(DkimException.class, () -> KeyRing.load(dir));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("512 bits"), e.getMessage());
  }

  @Test
  void missingKeysDirectoryIsNamed() {
    Path missing = dir.resolve("nope");
    DkimException e = assertThrows(DkimException.class, () -> KeyRing.load(missing));
    assertTrue(e.getMessage().startsWith(missing.toString()), e.getMessage());
  }

  @Test
  void keysForMatchesTheDomainExactlyIgnoringCase() throws Exception {
    KeyRing ring = Fixtures.exampleKeys(dir);
    assertEquals(2, ring.keysFor("EXAMPLE.com", false).size());
    assertEquals(2, ring.keysFor("example.com.", false).size());
    assertEquals(List.of(), ring.keysFor("mail.example.com", false));
    assertEquals(List.of(), ring.keysFor("example.org", true));
  }

  @Test
  void subdomainsUseTheNearestParentWithKeys() throws Exception {
    Fixtures.installKey(dir, "example.com/rsa2048.pem", "example.com/parent.pem");
    Fixtures.installKey(dir, "example.com/ed25519.pem", "eu.example.com/eu.pem");
    KeyRing ring = KeyRing.load(dir);
    assertEquals(List.of("eu.example.com/eu"), selectors(ring.keysFor("a.b.eu.example.com", true)));
    assertEquals(List.of("example.com/parent"), selectors(ring.keysFor("us.example.com", true)));
    assertEquals(List.of("eu.example.com/eu"), selectors(ring.keysFor("eu.example.com", true)));
  }

  @Test
  void subdomainWalkStopsBeforeTheTopLevelDomain() throws Exception {
    Fixtures.installKey(dir, "example.com/ed25519.pem", "com/tld.pem");
    KeyRing ring = KeyRing.load(dir);
    assertEquals(List.of("com/tld"), selectors(ring.all()));
    assertEquals(List.of(), ring.keysFor("example.com", true));
  }

  @Test
  void invalidSelectorFileNameIsRefused() throws Exception {
    Path file = Fixtures.installKey(dir, "example.com/ed25519.pem", "example.com/bad_selector!.pem");
    DkimException e = assertThrows(DkimException.class, () -> KeyRing.load(dir));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
  }

  @Test
  void keyOutsideADomainDirectoryIsRefused() throws Exception {
    Path file = Fixtures.installKey(dir, "example.com/ed25519.pem", "ed.pem");
    DkimException e = assertThrows(DkimException.class, () -> KeyRing.load(dir));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
  }

  @Test
  void directoryThatIsNotADomainIsRefused() throws Exception {
    Files.createDirectories(dir.resolve("example_com"));
    DkimException e = assertThrows(DkimException.class, () -> KeyRing.load(dir));
    assertTrue(e.getMessage().contains("example_com"), e.getMessage());
  }

  @Test
  void otherFilesAndHiddenDirectoriesAreIgnored() throws Exception {
    Files.writeString(dir.resolve("README.md"), "keys go here\n");
    Files.createDirectories(dir.resolve(".git"));
    assertEquals(List.of(), KeyRing.load(dir).all());
  }
}
