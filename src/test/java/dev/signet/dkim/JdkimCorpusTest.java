package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shared interop corpus (src/test/resources/corpus, CRLF, byte-exact) signed by the engine
 * with rsa-sha256 in all four canonicalizations: Apache jDKIM verifies each, and fails each once a
 * body byte changes. End-to-end checks through `signet sign` and the other verifiers are in the
 * interop script; this pins the engine itself.
 */
class JdkimCorpusTest {
  static final String EMPTY_SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

  @TempDir static Path keysDir;
  static SigningKey rsa;

  @BeforeAll
  static void keys() throws Exception {
    rsa = Fixtures.key(Fixtures.exampleKeys(keysDir), "rsa2048");
  }

  static List<Path> corpus() {
    try (Stream<Path> files = Files.list(Path.of(JdkimCorpusTest.class.getResource("/corpus").toURI()))) {
      return files.filter(f -> f.toString().endsWith(".eml")).sorted().toList();
    } catch (java.io.IOException | URISyntaxException e) {
      throw new IllegalStateException("cannot list the corpus", e);
    }
  }

  static Stream<Arguments> cases() {
    return JdkimInteropTest.CANONICALIZATIONS.stream()
        .flatMap(c -> corpus().stream().map(f -> Arguments.of(c, f.getFileName().toString())));
  }

  @Test
  void corpusHasAtLeastThirtyMessages() {
    assertTrue(corpus().size() >= 30, corpus().toString());
  }

  record Signed(byte[] message, String bh) {}

  static Signed sign(String canonicalization, String name) throws Exception {
    Fixtures.Message m = Fixtures.Message.parse(Files.readAllBytes(corpus().stream()
        .filter(f -> f.getFileName().toString().equals(name)).findFirst().orElseThrow()));
    Signer signer = new Signer(Fixtures.settings(canonicalization), Clock.systemUTC());
    BodyHash body = signer.bodyHash();
    body.write(m.body());
    body.close();
    return new Signed(m.with(signer.sign(m.headers(), body, List.of(rsa))), body.base64());
  }

  /** jDKIM 0.5 hashes an empty relaxed body as CRLF (see JdkimInteropTest): it cannot judge those. */
  static void assumeJdkimCanJudge(String canonicalization, Signed signed) {
    assumeFalse(canonicalization.endsWith("/relaxed") && signed.bh().equals(EMPTY_SHA256),
        "jDKIM 0.5 deviates from RFC 6376 erratum 1376 on empty relaxed bodies");
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void jdkimVerifiesTheCorpusMessage(String canonicalization, String name) throws Exception {
    Signed signed = sign(canonicalization, name);
    assumeJdkimCanJudge(canonicalization, signed);
    assertTrue(JdkimInteropTest.verifies(signed.message(), rsa));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void jdkimRejectsTheCorpusMessageWithOneBodyByteChanged(String canonicalization, String name) throws Exception {
    Signed signed = sign(canonicalization, name);
    assumeJdkimCanJudge(canonicalization, signed);
    byte[] tampered = signed.message().clone();
    int body = new String(tampered, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n") + 4;
    int at = body;
    while (at < tampered.length && (tampered[at] == '\r' || tampered[at] == '\n' || tampered[at] == ' ' || tampered[at] == '\t')) {
      at++; // a byte that every canonicalization keeps
    }
    assumeFalse(at >= tampered.length, "no body content to change");
    tampered[at] = (byte) (tampered[at] == 'X' ? 'Y' : 'X');
    assertFalse(JdkimInteropTest.verifies(tampered, rsa));
  }
}
