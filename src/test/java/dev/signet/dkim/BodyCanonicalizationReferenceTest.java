package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.signet.dkim.Canonicalization.Canon;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The streaming canonicalizers against a plain reading of RFC 6376 §3.4.3 and §3.4.4, written the
 * slow obvious way (split into lines, regular expressions), on random bodies cut into random writes.
 * The bodies are drawn from the bytes the rules are about (SP, HTAB, CR, LF, lone CR and LF, runs,
 * empty lines) so the fast paths of the canonicalizers and their chunk boundaries are crossed often.
 * Relaxed runs with each {@link RelaxedScan}: the eight-byte scan and the SIMD scan, with and without
 * its block path.
 */
class BodyCanonicalizationReferenceTest {
  private static final byte[] SPECIAL = {' ', ' ', '\t', '\r', '\n', '\r', '\n', 0, 0x0c, (byte) 0xe9};

  /** Lines are separated by CRLF; a lone CR or LF is content; the last line may lack its CRLF. */
  private static List<String> lines(byte[] body) {
    List<String> lines = new ArrayList<>(Arrays.asList(new String(body, StandardCharsets.ISO_8859_1).split("\r\n", -1)));
    if (lines.getLast().isEmpty()) {
      lines.removeLast(); // the body ended with CRLF (or was empty): no line after it
    }
    return lines;
  }

  static byte[] relaxedReference(byte[] body) {
    List<String> out = new ArrayList<>();
    for (String line : lines(body)) {
      out.add(line.replaceAll("[ \t]+\\z", "").replaceAll("[ \t]+", " ")); // §3.4.4 a, b
    }
    while (!out.isEmpty() && out.getLast().isEmpty()) {
      out.removeLast(); // §3.4.4 c: empty lines at the end are ignored
    }
    return join(out); // a non-empty body ends in CRLF; an empty one stays empty (erratum 1384)
  }

  static byte[] simpleReference(byte[] body) {
    List<String> out = lines(body);
    while (!out.isEmpty() && out.getLast().isEmpty()) {
      out.removeLast(); // §3.4.3: empty lines at the end are ignored
    }
    return out.isEmpty() ? "\r\n".getBytes(StandardCharsets.ISO_8859_1) : join(out); // no body: one CRLF
  }

  private static byte[] join(List<String> lines) {
    StringBuilder s = new StringBuilder();
    lines.forEach(line -> s.append(line).append("\r\n"));
    return s.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  /**
   * A body of mostly text, mostly special bytes, text lines with CRLFs, long lines of words with a
   * rare flaw (runs longer than any vector), or lines full of WSP, depending on {@code kind}.
   */
  private static byte[] randomBody(Random random, int kind) {
    if (kind == 3) {
      return plainText(random);
    }
    if (kind == 4) {
      return whitespaceText(random);
    }
    byte[] body = new byte[random.nextInt(random.nextBoolean() ? 40 : 600)];
    for (int i = 0; i < body.length; i++) {
      int r = random.nextInt(30);
      body[i] = switch (kind) {
        case 0 -> SPECIAL[random.nextInt(SPECIAL.length)];
        case 1 -> r < 12 ? (byte) ('a' + r) : SPECIAL[r % 7];
        default -> r < 24 ? (byte) ('a' + r) : SPECIAL[r % 7];
      };
    }
    if (kind == 2) {
      for (int i = 0; i + 1 < body.length; i++) {
        if (body[i] == '\r' || body[i] == '\n') {
          body[i] = '\r';
          body[++i] = '\n'; // proper line ends, so long clean runs cross several lines
        }
      }
    }
    return body;
  }

  private static byte[] plainText(Random random) {
    StringBuilder s = new StringBuilder();
    int lines = random.nextInt(40);
    for (int n = 0; n < lines; n++) {
      int words = random.nextInt(15);
      for (int w = 0; w < words; w++) {
        s.append(w == 0 ? "" : " ").append("abcdefghij", 0, 1 + random.nextInt(10));
      }
      // now and then one flaw, anywhere in the line
      if (random.nextInt(8) == 0) {
        s.insert(random.nextInt(s.length() + 1), new String[] {" ", "\t", "  ", "\r", "\n", " \r\n"}[random.nextInt(6)]);
      }
      s.append("\r\n");
    }
    return s.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  /**
   * Text lines with what relaxed canonicalization rewrites, as mail has it: words separated by runs
   * of SP and HTAB, WSP at the start and end of lines, empty lines and lines of WSP only, and now and
   * then a run longer than a vector (a SIMD block).
   */
  private static byte[] whitespaceText(Random random) {
    String[] gaps = {" ", " ", " ", " ", "  ", "\t", " \t ", "   "};
    StringBuilder s = new StringBuilder();
    int lines = random.nextInt(60);
    for (int n = 0; n < lines; n++) {
      int words = random.nextInt(12);
      if (random.nextInt(6) == 0) {
        s.append(gaps[random.nextInt(gaps.length)]);
      }
      for (int w = 0; w < words; w++) {
        s.append(w == 0 ? "" : gaps[random.nextInt(gaps.length)]).append("abcdefghij", 0, 1 + random.nextInt(10));
      }
      switch (random.nextInt(10)) {
        case 0, 1 -> s.append(gaps[random.nextInt(gaps.length)]); // trailing WSP
        case 2 -> s.append(" ".repeat(random.nextInt(150))); // maybe longer than a block
        default -> { }
      }
      s.append("\r\n");
    }
    return s.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] canonicalInPieces(Canon canon, RelaxedScan scan, byte[] body, Random random) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BodyCanonicalizer c = canon == Canon.RELAXED ? new RelaxedBody(out::write, scan) : BodyCanonicalizer.of(canon, out::write);
    for (int at = 0; at < body.length; ) {
      int len = Math.min(body.length - at, switch (random.nextInt(8)) {
        case 0 -> random.nextInt(4);
        case 1 -> body.length; // the rest in one write: long runs for the vector loop
        default -> random.nextInt(300);
      });
      c.write(body, at, len);
      at += len;
    }
    c.finish();
    return out.toByteArray();
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void relaxedMatchesTheReferenceOnRandomBodiesAndCuts(long seed) {
    matchesTheReference(seed, Canon.RELAXED, RelaxedScan.SCALAR, BodyCanonicalizationReferenceTest::relaxedReference);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void relaxedWithTheSimdScanMatchesTheReferenceOnRandomBodiesAndCuts(long seed) {
    matchesTheReference(seed, Canon.RELAXED, simd(), BodyCanonicalizationReferenceTest::relaxedReference);
  }

  /**
   * The SIMD scan with its block path forced on or off: this machine's choice is tested above; here
   * both paths are, whatever the hardware (where compress is emulated, the block path is slow, not wrong).
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void relaxedWithTheSimdBlockPathOnAndOffMatchesTheReference(boolean blocks) throws Exception {
    simd();
    RelaxedScan scan = (RelaxedScan) Class.forName("dev.signet.dkim.VectorScan")
        .getDeclaredConstructor(boolean.class).newInstance(blocks);
    assertEquals(blocks, scan.toString().contains("blocks"), scan.toString());
    for (long seed = 1; seed <= 3; seed++) {
      matchesTheReference(seed, Canon.RELAXED, scan, BodyCanonicalizationReferenceTest::relaxedReference);
    }
  }

  /** The SIMD scan; the build runs tests with the Vector API module, so on x86-64 it must be there. */
  static RelaxedScan simd() {
    java.util.Optional<RelaxedScan> simd = RelaxedScan.simd();
    if (System.getProperty("os.arch").equals("amd64")) {
      assertTrue(simd.isPresent(), "no SIMD scan: is the test JVM missing --add-modules jdk.incubator.vector?");
    }
    assumeTrue(simd.isPresent(), "no SIMD scan on " + System.getProperty("os.arch"));
    return simd.get();
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void simpleMatchesTheReferenceOnRandomBodiesAndCuts(long seed) {
    matchesTheReference(seed, Canon.SIMPLE, null, BodyCanonicalizationReferenceTest::simpleReference);
  }

  private static void matchesTheReference(long seed, Canon canon, RelaxedScan scan, UnaryOperator<byte[]> reference) {
    Random random = new Random(seed);
    for (int n = 0; n < 8_000; n++) {
      byte[] body = randomBody(random, n % 5);
      assertEquals(printable(reference.apply(body)), printable(canonicalInPieces(canon, scan, body, random)),
          () -> canon + " body of " + printable(body));
    }
  }

  /** CR, LF, HTAB and SP spelled out, so a failure shows where the bodies differ. */
  private static String printable(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte b : bytes) {
      switch (b) {
        case '\r' -> s.append("\\r");
        case '\n' -> s.append("\\n");
        case '\t' -> s.append("\\t");
        case ' ' -> s.append('_');
        default -> s.append(b >= 0x21 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff));
      }
    }
    return s.toString();
  }
}
