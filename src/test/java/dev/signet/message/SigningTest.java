package dev.signet.message;

import static dev.signet.message.Fixtures.crlf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SignatureTags;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey.Algorithm;
import dev.signet.dkim.SigningKey;
import dev.signet.dkim.TagList;
import dev.signet.testkit.TestKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline's signing step: which keys, which fields are signed, and what happens without a key. */
class SigningTest {
  @TempDir static Path dir;
  static KeyRing ring;
  static SigningKey rsa;

  @BeforeAll
  static void keys() throws Exception {
    ring = KeyRing.load(TestKeys.install(dir));
    rsa = ring.keysFor(TestKeys.DOMAIN, false).stream()
        .filter(k -> k.algorithm() == SigningKey.Algorithm.RSA_SHA256).findFirst().orElseThrow();
  }

  private static Submission relay(String... settings) {
    SignetConfig config = Fixtures.config(settings);
    return new Submission(config, ring, new Signer(config.dkim().signer(), Clock.systemUTC()));
  }

  @Test
  void addedDateAndMessageIdAreSignedAndReceivedIsNot() throws Exception {
    Fixtures.Result r = Fixtures.submit(relay(), crlf("From: a@example.com\nSubject: s\n\nbody\n"));
    List<String> signed = Pattern.compile(":").splitAsStream(tag(r.text(), "h")).map(String::strip)
        .map(h -> h.toLowerCase(Locale.ROOT)).toList();
    assertTrue(signed.contains("date"), signed.toString());
    assertTrue(signed.contains("message-id"), signed.toString());
    assertFalse(signed.contains("received"), signed.toString());
    assertEquals(1, Jdkim.verify(r.message(), rsa).size());
  }

  @Test
  void changingTheAddedDateBreaksTheSignature() throws Exception {
    Fixtures.Result r = Fixtures.submit(relay(), crlf("From: a@example.com\nSubject: s\n\nbody\n"));
    byte[] tampered = r.text().replace("Date: Wed, 25 Nov", "Date: Thu, 26 Nov").getBytes(StandardCharsets.UTF_8);
    assertEquals(List.of(), Jdkim.verify(tampered, rsa));
  }

  @Test
  void changingTheReceivedFieldKeepsTheSignatureValid() throws Exception {
    Fixtures.Result r = Fixtures.submit(relay(), crlf("From: a@example.com\nSubject: s\n\nbody\n"));
    byte[] changed = r.text().replace("client.example.net", "other.example.net").getBytes(StandardCharsets.UTF_8);
    assertEquals(1, Jdkim.verify(changed, rsa).size());
  }

  @Test
  void domainWithTwoKeysGetsTwoSignaturesRsaAndEd25519() throws Exception {
    Fixtures.Result r = Fixtures.submit(relay(), crlf("From: a@example.com\nSubject: s\n\nbody\n"));
    assertEquals(List.of(new SignatureTags("example.com", "ed2026", Algorithm.ED25519_SHA256),
            new SignatureTags("example.com", "rsa2026", Algorithm.RSA_SHA256)),
        r.prepared().signatures().stream().sorted(Comparator.comparing(SignatureTags::selector)).toList());
    assertEquals(2, Pattern.compile("(?m)^DKIM-Signature:").matcher(r.text()).results().count());
    assertTrue(r.text().indexOf("DKIM-Signature:") < r.text().indexOf("Received:"), "signatures come first");
  }

  @Test
  void subdomainIsSignedByTheParentOnlyWhenConfigured() throws Exception {
    byte[] data = crlf("From: a@mail.example.com\nSubject: s\n\nbody\n");
    MessageException e = assertThrows(MessageException.class, () -> Fixtures.submit(relay(), data));
    assertEquals("451 4.3.5 no DKIM key for mail.example.com", e.smtpReply());
    Fixtures.Result r = Fixtures.submit(relay("SIGNET_DKIM_SUBDOMAINS", "true"), data);
    assertEquals("mail.example.com", r.prepared().authorDomain());
    assertEquals(2, r.prepared().signatures().size());
  }

  @Test
  void noKeyForTheAuthorDomainIsATemporaryFailureByDefault() {
    MessageException e = assertThrows(MessageException.class,
        () -> Fixtures.submit(relay(), crlf("From: a@example.org\n\nbody\n")));
    assertEquals("451 4.3.5 no DKIM key for example.org", e.smtpReply());
  }

  @Test
  void noKeyWithUnsignedRelayPassesTheMessageUnsigned() throws Exception {
    Fixtures.Result r = Fixtures.submit(relay("SIGNET_DKIM_UNSIGNED", "relay"), crlf("From: a@example.org\n\nbody\n"));
    assertEquals(List.of(), r.prepared().signatures());
    assertFalse(r.text().contains("DKIM-Signature"), r.text());
  }

  @Test
  void sizeCountsHeaderBlockAndBody() throws Exception {
    Fixtures.Result r = Fixtures.submit(relay(), crlf("From: a@example.com\n\nbody\n"));
    assertEquals(r.message().length, r.prepared().size());
  }

  /** The value of tag {@code name} in the first DKIM-Signature (RFC 6376 §3.2 tag-list), unfolded. */
  static String tag(String message, String name) {
    int start = message.indexOf("DKIM-Signature:");
    int end = message.indexOf("\r\n", start);
    while (message.charAt(end + 2) == ' ' || message.charAt(end + 2) == '\t') {
      end = message.indexOf("\r\n", end + 2);
    }
    String value = message.substring(message.indexOf(':', start) + 1, end);
    return TagList.value(value, name).orElseThrow(() -> new AssertionError("no " + name + "= in " + value));
  }
}
