package dev.signet.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import dev.signet.testkit.TestKeys;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;
import org.apache.james.jdkim.api.SignatureRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every corpus message (src/test/resources/corpus), signed by the Submission pipeline with rsa-sha256
 * under each of the four canonicalizations, verifies with Apache jDKIM; one changed body byte or one
 * changed signed header byte makes it fail. This is the one jDKIM run over the shared corpus; the
 * engine alone is checked against jDKIM on its own cases by dev.signet.dkim.JdkimInteropTest. (jDKIM
 * has no ed25519; .ci/interop-dkim.sh checks that with dkimpy and Mail::DKIM.)
 */
class JdkimInteropTest {
  @TempDir static Path dir;
  static SigningKey rsa;

  @BeforeAll
  static void keys() throws Exception {
    KeyRing ring = KeyRing.load(TestKeys.install(dir));
    rsa = ring.keysFor(TestKeys.DOMAIN, false).stream()
        .filter(k -> k.algorithm() == SigningKey.Algorithm.RSA_SHA256).findFirst().orElseThrow();
  }

  static Stream<Arguments> corpusTimesCanonicalization() {
    return Corpus.messages().stream()
        .flatMap(m -> Corpus.CANONICALIZATIONS.stream().map(c -> Arguments.of(m.getFileName().toString(), c)));
  }

  /**
   * jDKIM 0.5 canonicalizes a relaxed body by running its simple canonicalizer after the WSP rules,
   * so for a body that is empty after relaxed canonicalization it hashes CRLF. RFC 6376 §3.4.4 adds
   * a CRLF only to a non-empty body (the fix of RFC 4871 erratum 1384), so the correct bh= is SHA-256
   * of nothing; dkimpy and Mail::DKIM agree (.ci/interop-dkim.sh). For those cases this test checks
   * that value instead.
   */
  static final String EMPTY_BODY_SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

  static boolean jdkimHashesBlankRelaxedBodyWrongly(String name, String canonicalization) throws Exception {
    if (!canonicalization.endsWith("/relaxed")) {
      return false;
    }
    byte[] data = Files.readAllBytes(Path.of(Corpus.class.getResource("/corpus/" + name).toURI()));
    int body = indexOf(data, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
    for (int i = body < 0 ? data.length : body + 4; i < data.length; i++) {
      if (" \t\r\n".indexOf(data[i]) < 0) {
        return false;
      }
    }
    return true;
  }

  static Stream<Arguments> verifiableByJdkim() {
    return corpusTimesCanonicalization().filter(a -> {
      try {
        return !jdkimHashesBlankRelaxedBodyWrongly((String) a.get()[0], (String) a.get()[1]);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("corpusTimesCanonicalization")
  void jdkimVerifiesTheSignedMessage(String name, String canonicalization) throws Exception {
    byte[] signed = sign(name, canonicalization);
    if (jdkimHashesBlankRelaxedBodyWrongly(name, canonicalization)) {
      assertEquals(EMPTY_BODY_SHA256, SigningTest.tag(new String(signed, StandardCharsets.UTF_8), "bh"));
      return;
    }
    List<SignatureRecord> valid = Jdkim.verify(signed, rsa);
    assertEquals(1, valid.size(), () -> "jDKIM rejected " + name + " signed with c=" + canonicalization + ":\n"
        + new String(signed, StandardCharsets.UTF_8).substring(0, Math.min(signed.length, 1500)));
    assertEquals("example.com", valid.get(0).getDToken().toString());
    assertEquals(canonicalization, valid.get(0).getHeaderCanonicalisationMethod() + "/"
        + valid.get(0).getBodyCanonicalisationMethod());
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("verifiableByJdkim")
  void oneChangedBodyByteFailsVerification(String name, String canonicalization) throws Exception {
    byte[] signed = sign(name, canonicalization);
    int bodyStart = indexOf(signed, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0) + 4;
    int target = -1;
    for (int i = bodyStart; i < signed.length && target < 0; i++) {
      if (Character.isLetterOrDigit(signed[i])) {
        target = i;
      }
    }
    byte[] tampered = signed.clone();
    if (target < 0) {
      // An empty or blank body: one more letter is the smallest change that is not whitespace.
      tampered = (new String(signed, StandardCharsets.ISO_8859_1) + "x\r\n").getBytes(StandardCharsets.ISO_8859_1);
    } else {
      tampered[target] = (byte) (tampered[target] == 'a' ? 'b' : 'a');
    }
    assertNotEquals(0, Jdkim.verify(signed, rsa).size(), "untampered copy must verify");
    assertEquals(List.of(), Jdkim.verify(tampered, rsa), "a changed body byte must fail: " + name);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("corpusTimesCanonicalization")
  void oneChangedFromByteFailsVerification(String name, String canonicalization) throws Exception {
    byte[] signed = sign(name, canonicalization);
    int from = indexOf(signed, "\r\nfrom:".getBytes(StandardCharsets.US_ASCII), 0);
    int at = indexOf(signed, "@".getBytes(StandardCharsets.US_ASCII), from);
    assertTrue(from > 0 && at > from, "From field with an @ expected in " + name);
    byte[] tampered = signed.clone();
    tampered[at - 1] = (byte) (tampered[at - 1] == 'e' ? 'f' : 'e'); // the last character of the local part
    assertEquals(List.of(), Jdkim.verify(tampered, rsa), "a changed From byte must fail: " + name);
  }

  private static byte[] sign(String name, String canonicalization) throws Exception {
    SignetConfig config = Fixtures.config("SIGNET_DKIM_CANONICALIZATION", canonicalization);
    Submission submission = new Submission(config, new Signer(config.dkim().signer(), Clock.systemUTC()), d -> List.of(rsa));
    byte[] data = Files.readAllBytes(Path.of(Corpus.class.getResource("/corpus/" + name).toURI()));
    Fixtures.Collected sink = new Fixtures.Collected();
    submission.prepare(new ByteArrayInputStream(data), Fixtures.trace(), sink, Long.MAX_VALUE);
    return sink.message();
  }

  /** Case-insensitive for ASCII letters. */
  private static int indexOf(byte[] data, byte[] needle, int from) {
    outer:
    for (int i = Math.max(from, 0); i <= data.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (Character.toLowerCase(data[i + j]) != Character.toLowerCase(needle[j])) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
