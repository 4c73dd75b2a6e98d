package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.PublicKeyRecordRetriever;
import org.apache.james.jdkim.api.SignatureRecord;
import org.apache.james.jdkim.exceptions.FailException;
import org.apache.james.jdkim.exceptions.PermFailException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Apache jDKIM, an independent verifier, accepts what Signer produces (rsa-sha256 only: jDKIM has
 * no ed25519) for every canonicalization, and rejects it once one body byte or one signed header
 * is changed. The public key reaches jDKIM as the TXT value DnsRecord renders.
 */
class JdkimInteropTest {
  static final List<String> CORPUS = List.of(
      "01-plain.eml", "02-empty-body.eml", "03-blank-lines-only.eml", "04-whitespace.eml",
      "05-folded-long-headers.eml", "06-multipart-attachment.eml", "07-utf8.eml", "08-duplicate-headers.eml");
  static final List<String> CANONICALIZATIONS = List.of("simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed");

  @TempDir static Path keysDir;
  static SigningKey rsa;

  @BeforeAll
  static void keys() throws Exception {
    rsa = Fixtures.key(Fixtures.exampleKeys(keysDir), "rsa2048");
  }

  /** Messages whose body canonicalizes to nothing under relaxed (RFC 6376 §3.4.4, erratum 1376). */
  static final List<String> EMPTY_RELAXED_BODY = List.of("02-empty-body.eml", "03-blank-lines-only.eml");

  /**
   * Every canonicalization and message, except relaxed bodies that canonicalize to nothing: there
   * jDKIM 0.5 hashes CRLF instead of the empty input (see {@link #jdkimDeviatesOnTheEmptyRelaxedBody}),
   * so it cannot judge them. BodyHashTest checks those hashes against the RFC's own values.
   */
  static Stream<Arguments> cases() {
    return CANONICALIZATIONS.stream().flatMap(c -> CORPUS.stream()
        .filter(m -> !(c.endsWith("/relaxed") && EMPTY_RELAXED_BODY.contains(m)))
        .map(m -> Arguments.of(c, m)));
  }

  /** If a jDKIM upgrade fixes this, the empty-body cases above can be verified by it too. */
  @org.junit.jupiter.api.Test
  void jdkimDeviatesOnTheEmptyRelaxedBody() throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (var c = new org.apache.james.jdkim.canon.RelaxedBodyCanonicalizer(out)) {
      c.write(new byte[0]);
    }
    assertEquals("\r\n", out.toString(StandardCharsets.US_ASCII));
  }

  static byte[] signed(String canonicalization, String message) throws Exception {
    Fixtures.Message m = Fixtures.Message.parse(Fixtures.crlf(
        new String(Fixtures.resource("dkim/corpus/" + message), StandardCharsets.UTF_8)));
    Signer signer = new Signer(Fixtures.settings(canonicalization), Clock.systemUTC());
    BodyHash body = signer.bodyHash();
    body.write(m.body());
    body.close();
    return m.with(signer.sign(m.headers(), body, List.of(rsa)));
  }

  static boolean verifies(byte[] message) throws Exception {
    return verifies(message, rsa);
  }

  /** jDKIM's verdict, with {@code key}'s record as the only DNS data it can find. */
  static boolean verifies(byte[] message, SigningKey key) throws Exception {
    PublicKeyRecordRetriever dns = (method, selector, domain) -> {
      if (selector.toString().equals(key.selector()) && domain.toString().equals(key.domain())) {
        return List.of(DnsRecord.of(key).value());
      }
      throw new PermFailException("no key for " + selector + "._domainkey." + domain);
    };
    DKIMVerifier verifier = new DKIMVerifier(dns);
    try {
      List<SignatureRecord> valid = verifier.verify(new ByteArrayInputStream(message));
      return valid != null && !valid.isEmpty() && verifier.hasAnyValidSignature();
    } catch (FailException e) {
      return false;
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void jdkimVerifiesTheSignature(String canonicalization, String message) throws Exception {
    byte[] signed = signed(canonicalization, message);
    assertTrue(verifies(signed), () -> new String(signed, StandardCharsets.UTF_8));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void jdkimRejectsAChangedBodyByte(String canonicalization, String message) throws Exception {
    byte[] signed = signed(canonicalization, message);
    String text = new String(signed, StandardCharsets.ISO_8859_1);
    int body = text.indexOf("\r\n\r\n") + 4;
    String tampered = body < text.length()
        ? text.substring(0, body) + (text.charAt(body) == 'X' ? 'Y' : 'X') + text.substring(body + 1)
        : text + "X\r\n"; // an empty body: any content changes it
    assertNotEquals(text, tampered);
    assertFalse(verifies(tampered.getBytes(StandardCharsets.ISO_8859_1)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void jdkimRejectsAChangedSignedHeader(String canonicalization, String message) throws Exception {
    String text = new String(signed(canonicalization, message), StandardCharsets.ISO_8859_1);
    String tampered = text.replaceFirst("\r\nSubject:([^\r]*)", "\r\nSubject:$1!");
    assertNotEquals(text, tampered);
    assertFalse(verifies(tampered.getBytes(StandardCharsets.ISO_8859_1)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("canonicalizations")
  void jdkimRejectsAnAddedOversignedHeader(String canonicalization) throws Exception {
    String text = new String(signed(canonicalization, "01-plain.eml"), StandardCharsets.ISO_8859_1);
    int body = text.indexOf("\r\n\r\n") + 2;
    String added = text.substring(0, body) + "Subject: a second subject\r\n" + text.substring(body);
    assertFalse(verifies(added.getBytes(StandardCharsets.ISO_8859_1)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("canonicalizations")
  void jdkimIgnoresAnAddedUnsignedHeader(String canonicalization) throws Exception {
    String text = new String(signed(canonicalization, "01-plain.eml"), StandardCharsets.ISO_8859_1);
    int body = text.indexOf("\r\n\r\n") + 2;
    String added = text.substring(0, body) + "X-Spam-Score: 0\r\n" + text.substring(body);
    assertTrue(verifies(added.getBytes(StandardCharsets.ISO_8859_1)));
  }

  static Stream<String> canonicalizations() {
    return CANONICALIZATIONS.stream();
  }
}
