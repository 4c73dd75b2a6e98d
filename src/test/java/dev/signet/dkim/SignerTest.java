package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignerTest {
  /** 2025-11-24T16:00:00Z: the t= of the golden files. */
  static final Clock FIXED = Clock.fixed(Instant.ofEpochSecond(1764000000L), ZoneOffset.UTC);

  @TempDir static Path keysDir;
  static SigningKey rsa;
  static SigningKey ed25519;
  static Fixtures.Message message;

  @BeforeAll
  static void setUp() throws Exception {
    KeyRing ring = Fixtures.exampleKeys(keysDir);
    rsa = Fixtures.key(ring, "rsa2048");
    ed25519 = Fixtures.key(ring, "ed25519");
    message = Fixtures.Message.parse(Fixtures.crlf(new String(Fixtures.resource("dkim/message.eml"), StandardCharsets.UTF_8)));
  }

  static List<String> sign(Signer signer, Fixtures.Message m, List<SigningKey> keys) throws DkimException {
    BodyHash body = signer.bodyHash();
    body.write(m.body(), 0, m.body().length);
    body.close();
    return signer.sign(m.headers(), body, keys);
  }

  static String golden(String name) {
    return new String(Fixtures.crlf(new String(Fixtures.resource("dkim/" + name), StandardCharsets.US_ASCII)), StandardCharsets.US_ASCII);
  }

  @Test
  void rsaSignatureMatchesTheGoldenFileByteForByte() throws Exception {
    List<String> fields = sign(new Signer(Fixtures.settings("relaxed/relaxed"), FIXED), message, List.of(rsa));
    assertEquals(golden("golden-rsa2048-relaxed.txt"), fields.get(0));
  }

  @Test
  void ed25519SignatureMatchesTheGoldenFileByteForByte() throws Exception {
    List<String> fields = sign(new Signer(Fixtures.settings("relaxed/relaxed"), FIXED), message, List.of(ed25519));
    assertEquals(golden("golden-ed25519-relaxed.txt"), fields.get(0));
  }

  @Test
  void simpleSimpleSignatureMatchesTheGoldenFileByteForByte() throws Exception {
    List<String> fields = sign(new Signer(Fixtures.settings("simple/simple"), FIXED), message, List.of(rsa, ed25519));
    assertEquals(golden("golden-dual-simple.txt"), String.join("", fields));
  }

  @Test
  void everyLineIsAtMost78OctetsAndTheFieldEndsWithCrlf() throws Exception {
    for (String c : List.of("simple/simple", "relaxed/relaxed")) {
      for (String field : sign(new Signer(Fixtures.settings(c), FIXED), message, List.of(rsa, ed25519))) {
        assertTrue(field.startsWith("DKIM-Signature: "), field);
        assertTrue(field.endsWith("\r\n"), field);
        assertFalse(field.substring(0, field.length() - 2).contains("\r\n\r\n"), field);
        for (String line : field.substring(0, field.length() - 2).split("\r\n", -1)) {
          assertTrue(line.length() <= 78, () -> line.length() + " octets: " + line);
        }
      }
    }
  }

  @Test
  void oneFieldPerKeyInTheOrderOfTheKeys() throws Exception {
    List<String> fields = sign(new Signer(Fixtures.settings("relaxed/relaxed"), FIXED), message, List.of(ed25519, rsa));
    assertEquals(2, fields.size());
    assertTrue(tags(fields.get(0)).contains("a=ed25519-sha256;"), fields.get(0));
    assertTrue(tags(fields.get(1)).contains("a=rsa-sha256;"), fields.get(1));
    assertEquals(List.of(), sign(new Signer(Fixtures.settings("relaxed/relaxed"), FIXED), message, List.of()));
  }

  @Test
  void tagsAreTheRequiredOnesAndNeverL() throws Exception {
    String t = tags(sign(new Signer(Fixtures.settings("relaxed/simple"), FIXED), message, List.of(rsa)).get(0));
    for (String tag : List.of("v=1;", "a=rsa-sha256;", "c=relaxed/simple;", "d=example.com;", "s=rsa2048;", "t=1764000000;")) {
      assertTrue(t.contains(" " + tag), () -> tag + " missing in " + t);
    }
    assertTrue(Pattern.compile(" h=[a-z:-]+; bh=[A-Za-z0-9+/=]{44}; b=[A-Za-z0-9+/=]+$").matcher(t).find(), t);
    assertFalse(t.contains(" l="), t);
    assertFalse(t.contains(" x="), t);
  }

  @Test
  void expiryAddsXAfterT() throws Exception {
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed", Optional.of(Duration.ofDays(7))), FIXED);
    String t = tags(sign(signer, message, List.of(rsa)).get(0));
    assertTrue(t.contains(" t=1764000000; x=" + (1764000000L + 7 * 86400) + ";"), t);
  }

  @Test
  void headerListNamesEachOccurrenceAndOversignsOnceMore() throws Exception {
    Fixtures.Message m = Fixtures.Message.parse(Fixtures.crlf(
        "From: a@example.com\nTo: b@example.org\nReceived: x\nTO: c@example.org\nSubject: s\nX-Other: o\n\nbody\n"));
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed",
        List.of("From", "to", "Subject", "Cc", "Date"), List.of("from", "Subject", "Reply-To")), FIXED);
    String t = tags(sign(signer, m, List.of(rsa)).get(0));
    assertTrue(t.contains(" h=from:from:to:to:subject:subject:reply-to;"), t);
  }

  @Test
  void duplicateHeadersAreSignedBottomUp() {
    HeaderField first = HeaderField.of("Cc: first\r\n");
    HeaderField second = HeaderField.of("cc: second\r\n");
    HeaderSelection selection = HeaderSelection.select(
        List.of(HeaderField.of("From: a\r\n"), first, second), HeaderSelection.Policy.of(List.of("From", "Cc"), List.of()));
    assertEquals(List.of("from", "cc", "cc"), selection.names());
    assertEquals(second, selection.fields().get(1));
    assertEquals(first, selection.fields().get(2));
  }

  @Test
  void oneNameGetsAtMost20EntriesInH() {
    List<HeaderField> headers = new java.util.ArrayList<>();
    headers.add(HeaderField.of("From: a\r\n"));
    for (int i = 0; i < 30; i++) {
      headers.add(HeaderField.of("To: r" + i + "@example.org\r\n"));
    }
    headers.add(HeaderField.of("Cc: c@example.org\r\n"));
    HeaderSelection selection = HeaderSelection.select(headers,
        HeaderSelection.Policy.of(List.of("From", "To", "Cc"), List.of("From", "To", "Cc")));
    assertEquals(20, selection.names().stream().filter("to"::equals).count());
    assertEquals("To: r29@example.org\r\n", new String(selection.fields().get(1).raw(),
        java.nio.charset.StandardCharsets.US_ASCII), "the bottom-most first");
    assertEquals(List.of("cc", "cc"), selection.names().subList(selection.names().size() - 2, selection.names().size()),
        "names under the cap are still oversigned");
  }

  @Test
  void rsaKeyUnder1024BitsIsRefused() throws Exception {
    Path file = Fixtures.installKey(keysDir, "rsa512.pem", "weak/rsa512.pem");
    PemKeys.Loaded weak = PemKeys.read(file);
    SigningKey key = new SigningKey("example.com", "weak", weak.algorithm(), weak.privateKey(), weak.publicKey(), file);
    DkimException e = assertThrows(DkimException.class,
        () -> sign(new Signer(Fixtures.settings("relaxed/relaxed"), FIXED), message, List.of(key)));
    assertTrue(e.getMessage().contains("512 bits"), e.getMessage());
    assertTrue(e.getMessage().contains("1024"), e.getMessage());
  }

  @Test
  void bodyHashMustBeClosedBeforeSigning() {
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed"), FIXED);
    BodyHash open = signer.bodyHash();
    assertThrows(IllegalStateException.class, () -> signer.sign(message.headers(), open, List.of(rsa)));
  }

  /** The JDK fallback (ACCP absent) signs too, and identically: RSASSA-PKCS1-v1_5 is deterministic. */
  @Test
  void jdkProviderFallbackSignsTheSameBytes() throws Exception {
    Signer preferred = new Signer(Fixtures.settings("relaxed/relaxed"), FIXED);
    Signer jdk = new Signer(Fixtures.settings("relaxed/relaxed"), FIXED, RsaKeySigner.jdk());
    assertTrue(jdk.providers().contains("rsa-sha256: SunRsaSign"), jdk.providers());
    assertEquals(sign(preferred, message, List.of(rsa)), sign(jdk, message, List.of(rsa)));
    assertEquals(golden("golden-rsa2048-relaxed.txt"), sign(jdk, message, List.of(rsa)).get(0));
  }

  @Test
  void accpSignsWhereItsNativeLibraryLoads() {
    // This machine is Linux x86_64, where ACCP's native library is expected to load.
    assertEquals("AmazonCorrettoCryptoProvider", RsaKeySigner.preferredProvider().getName());
  }

  @Test
  void concurrentSigningGivesTheSameFieldsAsSequential() throws Exception {
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed"), FIXED);
    List<String> expected = sign(signer, message, List.of(rsa, ed25519));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<List<String>>> results = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        results.add(pool.submit(() -> sign(signer, message, List.of(rsa, ed25519))));
      }
      for (Future<List<String>> r : results) {
        assertEquals(expected, r.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * RFC 8463 §3 checked with the JDK's own Ed25519 (SunEC, independent of BouncyCastle): the
   * signature verifies over SHA-256 of the canonical header data rebuilt here from the RFC, and
   * fails for changed data.
   */
  @Test
  void ed25519SignatureVerifiesWithTheJdkOverTheSha256OfTheSignedHeaders() throws Exception {
    Fixtures.Message m = Fixtures.Message.parse(Fixtures.crlf(
        "From:  Alice <a@example.com>\nTo: b@example.org\nSubject: Hi\n  there\n\nbody\n"));
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed", List.of("From", "To", "Subject"), List.of()), FIXED);
    String field = sign(signer, m, List.of(ed25519)).get(0);
    // RFC 6376 §3.7: relaxed selected fields, then the signature field with b= empty, no final CRLF.
    Matcher b = Pattern.compile("b=([A-Za-z0-9+/=\\s]+)\\r\\n$").matcher(field);
    assertTrue(b.find(), field);
    byte[] signature = Base64.getMimeDecoder().decode(b.group(1).replaceAll("\\s", ""));
    String withoutB = field.substring(0, b.start()) + "b=";
    String unfolded = withoutB.replace("\r\n", "").replaceAll("[ \t]+", " ");
    String data = "from:Alice <a@example.com>\r\nto:b@example.org\r\nsubject:Hi there\r\n"
        + "dkim-signature:" + unfolded.substring("DKIM-Signature:".length()).strip();
    byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(data.getBytes(StandardCharsets.US_ASCII));

    assertTrue(jdkVerifies(hash, signature));
    hash[0] ^= 1;
    assertFalse(jdkVerifies(hash, signature));
    // Ed25519 over the data itself (not its hash) is not what RFC 8463 signs.
    assertFalse(jdkVerifies(data.getBytes(StandardCharsets.US_ASCII), signature));
  }

  private static boolean jdkVerifies(byte[] signed, byte[] signature) throws Exception {
    byte[] raw = Base64.getDecoder().decode(DnsRecord.publicKeyBase64(ed25519.algorithm(), ed25519.publicKey()));
    assertEquals(32, raw.length);
    byte[] spki = new byte[44]; // RFC 8410 §4 SubjectPublicKeyInfo: fixed prefix + the raw key
    byte[] prefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    System.arraycopy(prefix, 0, spki, 0, 12);
    System.arraycopy(raw, 0, spki, 12, 32);
    PublicKey key = KeyFactory.getInstance("Ed25519", "SunEC").generatePublic(new X509EncodedKeySpec(spki));
    Signature verifier = Signature.getInstance("Ed25519", "SunEC");
    verifier.initVerify(key);
    verifier.update(signed);
    return verifier.verify(signature);
  }

  @Test
  void bodyHashFromAnotherCanonicalizationIsRefused() {
    Signer simple = new Signer(Fixtures.settings("simple/simple"), FIXED);
    Signer relaxed = new Signer(Fixtures.settings("relaxed/relaxed"), FIXED);
    BodyHash body = simple.bodyHash();
    body.close();
    assertThrows(IllegalArgumentException.class, () -> relaxed.sign(message.headers(), body, List.of(rsa)));
  }

  @Test
  void fromIsSignedEvenWhenTheConfigOmitsIt() throws Exception {
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed", List.of("Subject"), List.of()), FIXED);
    String t = tags(sign(signer, message, List.of(rsa)).get(0));
    assertTrue(t.contains(" h=from:subject;"), t);
  }

  @Test
  void messageWithoutFromIsRefused() {
    Fixtures.Message noFrom = Fixtures.Message.parse(Fixtures.crlf("To: b@example.org\nSubject: s\n\nbody\n"));
    DkimException e = assertThrows(DkimException.class,
        () -> sign(new Signer(Fixtures.settings("relaxed/relaxed"), FIXED), noFrom, List.of(rsa)));
    assertEquals("550 5.6.0", e.replyCode() + " " + e.enhancedCode());
  }

  /** The field as one line {@code DKIM-Signature: v=1; a=...; b=...}, FWS inside values removed. */
  static String tags(String field) {
    List<String> tags = new ArrayList<>();
    TagList.parse(field.substring(field.indexOf(':') + 1)).forEach((name, value) -> tags.add(name + "=" + value));
    return "DKIM-Signature: " + String.join("; ", tags);
  }
}
