package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Signer#prepare} lays out fields whose placeholders the spool writes and fsyncs while the
 * signatures are computed; {@link Signer#complete} computes a value a crash kept off the disk again.
 */
class PendingSignatureTest {
  @TempDir static Path keysDir;
  static KeyRing ring;
  static SigningKey rsa;
  static SigningKey ed25519;
  static Fixtures.Message message;

  @BeforeAll
  static void setUp() throws Exception {
    ring = Fixtures.exampleKeys(keysDir);
    rsa = Fixtures.key(ring, "rsa2048");
    ed25519 = Fixtures.key(ring, "ed25519");
    message = Fixtures.Message.parse(Fixtures.crlf(
        "From: a@example.com\nTo: b@example.org\nTO: c@example.org\nSubject: s\nX-Other: o\nDate: d\n\nbody\n"));
  }

  private static Signer.Pending prepare(Signer signer, Fixtures.Message m, List<SigningKey> keys) throws DkimException {
    BodyHash body = signer.bodyHash();
    body.write(m.body(), 0, m.body().length);
    body.close();
    return signer.prepare(m.headers(), body, keys);
  }

  private static List<Signer> signers() {
    return List.of(
        new Signer(Fixtures.settings("relaxed/relaxed"), SignerTest.FIXED),
        new Signer(Fixtures.settings("simple/simple", Optional.of(Duration.ofDays(3))), SignerTest.FIXED),
        new Signer(Fixtures.settings("relaxed/simple", List.of("From", "To", "Subject", "Cc"), List.of("to", "cc")),
            SignerTest.FIXED));
  }

  @Test
  void placeholderFieldsAreAsLongAndLaidOutAsTheSignedOnes() throws Exception {
    for (Signer signer : signers()) {
      Signer.Pending pending = prepare(signer, message, List.of(rsa, ed25519));
      List<String> placeholders = pending.placeholders();
      List<String> signed = pending.sign();
      assertEquals(2, signed.size());
      for (int i = 0; i < signed.size(); i++) {
        String p = placeholders.get(i);
        String s = signed.get(i);
        assertEquals(s.length(), p.length());
        int b = p.indexOf(Signer.PLACEHOLDER);
        assertTrue(p.substring(0, b).endsWith("b="), p);
        assertEquals(p.substring(0, b), s.substring(0, b), "the same tags and folding up to b=");
        for (int c = b; c < p.length(); c++) {
          char expected = s.charAt(c);
          boolean fold = expected == '\r' || expected == '\n' || expected == '\t';
          assertEquals(fold ? expected : Signer.PLACEHOLDER, p.charAt(c), "at " + c + " of " + p);
        }
        assertFalse(s.indexOf(Signer.PLACEHOLDER) >= 0, s);
      }
    }
  }

  @Test
  void signingInTwoStepsIsSigningInOne() throws Exception {
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed"), SignerTest.FIXED);
    assertEquals(SignerTest.sign(signer, message, List.of(rsa, ed25519)),
        prepare(signer, message, List.of(rsa, ed25519)).sign());
  }

  @Test
  void completeComputesTheFieldAgainByteForByte() throws Exception {
    for (Signer signer : signers()) {
      Signer.Pending pending = prepare(signer, message, List.of(rsa, ed25519));
      List<String> placeholders = pending.placeholders();
      List<String> signed = pending.sign();
      for (int i = 0; i < signed.size(); i++) {
        assertEquals(signed.get(i), signer.complete(placeholders.get(i), message.headers(), ring));
      }
    }
  }

  @Test
  void completeUsesTheFieldsTagsNotTheSignersSettings() throws Exception {
    Signer before = new Signer(Fixtures.settings("simple/simple", List.of("From", "Subject"), List.of("from")),
        SignerTest.FIXED);
    Signer.Pending pending = prepare(before, message, List.of(rsa));
    // The relay restarted with other settings: c= and h= of the field still decide.
    Signer after = new Signer(Fixtures.settings("relaxed/relaxed"), SignerTest.FIXED);
    assertEquals(pending.sign().get(0), after.complete(pending.placeholders().get(0), message.headers(), ring));
  }

  @Test
  void completeSignsOverTheFieldsGivenSoAChangedFieldChangesTheSignature() throws Exception {
    Signer signer = signers().get(0);
    Signer.Pending pending = prepare(signer, message, List.of(rsa));
    List<HeaderField> changed = new java.util.ArrayList<>(message.headers());
    changed.set(3, HeaderField.of("Subject: other\r\n"));
    assertNotEquals(pending.sign().get(0), signer.complete(pending.placeholders().get(0), changed, ring));
  }

  @Test
  void completeTakesARetiredKey(@TempDir Path dir) throws Exception {
    Signer signer = signers().get(0);
    Signer.Pending pending = prepare(signer, message, List.of(rsa));
    KeyRing keys = Fixtures.exampleKeys(dir);
    Files.move(dir.resolve("example.com/rsa2048.pem"), dir.resolve("example.com/rsa2048.pem.retired"));
    KeyRing retired = KeyRing.load(dir);
    assertTrue(retired.all().stream().noneMatch(k -> k.selector().equals("rsa2048")), "the key no longer signs");
    assertEquals(pending.sign().get(0), signer.complete(pending.placeholders().get(0), message.headers(), retired));
    assertEquals(2, keys.all().size());
  }

  @Test
  void completeWithoutTheKeyNamesTheKey(@TempDir Path dir) throws Exception {
    Signer signer = signers().get(0);
    String field = prepare(signer, message, List.of(rsa)).placeholders().get(0);
    Fixtures.installKey(dir, "example.com/ed25519.pem", "example.com/ed25519.pem");
    DkimException e = assertThrows(DkimException.class,
        () -> signer.complete(field, message.headers(), KeyRing.load(dir)));
    assertTrue(e.getMessage().contains("d=example.com s=rsa2048 a=rsa-sha256"), e.getMessage());
  }

  @Test
  void completeRefusesAFieldWithoutPlaceholder() throws Exception {
    Signer signer = signers().get(0);
    String whole = prepare(signer, message, List.of(rsa)).sign().get(0);
    assertThrows(DkimException.class, () -> signer.complete(whole, message.headers(), ring));
    assertThrows(DkimException.class, () -> signer.complete("Subject: b=\0\0\r\n", message.headers(), ring));
  }

  @Test
  void selectionByNamesIsTheSelectionThatMadeTheNames() {
    List<HeaderField> headers = List.of(HeaderField.of("From: a\r\n"), HeaderField.of("Cc: 1\r\n"),
        HeaderField.of("To: x\r\n"), HeaderField.of("cc: 2\r\n"), HeaderField.of("CC: 3\r\n"));
    HeaderSelection selection = HeaderSelection.select(headers,
        HeaderSelection.Policy.of(List.of("From", "Cc", "To", "Subject"), List.of("cc", "subject")));
    assertEquals(List.of("from", "cc", "cc", "cc", "cc", "to", "subject"), selection.names());
    assertEquals(selection.fields(), HeaderSelection.byNames(headers, selection.names()));
    assertEquals("CC: 3\r\n", new String(selection.fields().get(1).raw(), StandardCharsets.US_ASCII));
  }
}
