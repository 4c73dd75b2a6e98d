package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.signet.dkim.Canonicalization.Canon;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BodyHashTest {

  static String bh(Canon canon, byte[] body) {
    BodyHash hash = new BodyHash(canon);
    hash.write(body, 0, body.length);
    hash.close();
    return hash.base64();
  }

  @Test
  void emptyBodyHashesAsTheRfcSays() {
    // SHA-256 of CRLF (simple, RFC 6376 §3.4.3) and of nothing (relaxed, erratum 1384): the values
    // every verifier computes for an empty body.
    assertEquals("frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", bh(Canon.SIMPLE, new byte[0]));
    assertEquals("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", bh(Canon.RELAXED, new byte[0]));
  }

  @Test
  void hashIsOnlyAvailableAfterClose() {
    BodyHash hash = new BodyHash(Canon.RELAXED);
    hash.write(new byte[] {'a'}, 0, 1);
    assertThrows(IllegalStateException.class, hash::base64);
    hash.close();
    assertThrows(IllegalStateException.class, () -> hash.write('b'));
  }

  @Test
  void byteByByteEqualsWholeForBothCanonicalizations() {
    byte[] body = Fixtures.crlf("Hello  \t world \n\n  indented\t\n\nlast   \n\n \n\t\n");
    for (Canon canon : Canon.values()) {
      BodyHash whole = new BodyHash(canon);
      whole.write(body, 0, body.length);
      whole.close();
      BodyHash single = new BodyHash(canon);
      for (byte b : body) {
        single.write(b);
      }
      single.close();
      assertEquals(whole.base64(), single.base64(), canon.toString());
    }
  }

  /**
   * Any chunking of any body gives the output of a plain line-by-line implementation of §3.4.3 and
   * §3.4.4 (below): proves the streaming state machine, including its fast paths, across splits
   * inside CRLF and inside WSP runs.
   */
  @Test
  void anyChunkingMatchesALineByLineReference() {
    Random random = new Random(6376);
    byte[] alphabet = {'a', 'b', ' ', '\t', '\r', '\n', '\r', '\n'};
    for (int round = 0; round < 3000; round++) {
      byte[] body = new byte[random.nextInt(60)];
      for (int i = 0; i < body.length; i++) {
        body[i] = random.nextInt(3) == 0 && i + 1 < body.length
            ? (byte) '\r'
            : alphabet[random.nextInt(alphabet.length)];
        if (body[i] == '\r' && i + 1 < body.length && random.nextBoolean()) {
          body[++i] = '\n';
        }
      }
      for (Canon canon : Canon.values()) {
        String expected = escape(reference(canon, new String(body, StandardCharsets.ISO_8859_1)));
        String what = canon + " of " + escape(body);
        assertEquals(expected, escape(chunked(canon, body, random)), what);
        assertEquals(expected, escape(chunked(canon, body, null)), what);
      }
    }
  }

  /** Long, mostly plain lines: exercises the eight-bytes-at-once path of the relaxed scan. */
  @Test
  void anyChunkingOfMostlyPlainTextMatchesTheReference() {
    Random random = new Random(8463);
    byte[] alphabet = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz  \t\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    for (int round = 0; round < 3000; round++) {
      byte[] body = new byte[random.nextInt(400)];
      for (int i = 0; i < body.length; i++) {
        body[i] = alphabet[random.nextInt(alphabet.length)];
      }
      for (Canon canon : Canon.values()) {
        String expected = escape(reference(canon, new String(body, StandardCharsets.ISO_8859_1)));
        String what = canon + " of " + escape(body);
        assertEquals(expected, escape(chunked(canon, body, random)), what);
        assertEquals(expected, escape(chunked(canon, body, new Random(round))), what);
      }
    }
  }

  /** Every tricky sequence at every offset within an eight-byte word, in one write. */
  @Test
  void trickySequencesAtEveryWordOffsetMatchTheReference() {
    List<String> tricky = List.of(" \r\n", "  ", "\t", " \t", "\r\n ", "\r\n\r\n", " \r", "\r\nx", "\rx", "\nx",
        "x \r\ny", "x\r\n\ty", "x \n", "x\r\r\ny");
    for (String t : tricky) {
      for (int k = 0; k < 17; k++) {
        String body = "a".repeat(k) + t + "bcdefghijklmnopqrstuvwxyz\r\n" + "a".repeat(k) + t;
        for (Canon canon : Canon.values()) {
          assertEquals(escape(reference(canon, body)), escape(BodyCanonicalizationTest.canonical(canon, body)),
              canon + " of " + escape(body));
        }
      }
    }
  }

  /**
   * Every tricky sequence at every word offset, inside enough plain text for the word-at-a-time
   * scan (which looks up to 16 bytes ahead), with the body split in two writes at every position:
   * a WSP run split across writes before a CRLF, a CR ending one write and its LF starting the next.
   */
  @Test
  void trickySequencesSplitAtEveryPositionMatchTheReference() {
    List<String> tricky = List.of(" \r\n", "  \r\n", "  ", "\t", " \t ", "\r\n ", "\r\n\r\n", "\r\n \r\n",
        "\rx", "\nx", "x \n", "x\r\r\ny", "\r\n\t", " \r\n\r\n");
    String plain = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (String t : tricky) {
      for (int k = 0; k < 9; k++) {
        String body = plain.substring(0, 20 + k) + t + plain + "\r\n" + plain.substring(k) + t;
        byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
        String expected = escape(reference(Canon.RELAXED, body));
        for (int split = 0; split <= bytes.length; split++) {
          assertEquals(expected, escape(inTwoWrites(bytes, split)), "split at " + split + " of " + escape(body));
        }
      }
    }
  }

  /**
   * Canonical output of exactly the relaxed canonicalizer's buffer size, one byte less and one more,
   * ending in a WSP run, a CRLF or trailing empty lines: nothing lost or doubled at the flushes.
   */
  @Test
  void outputAroundTheBufferSizeMatchesTheReference() {
    for (String tail : List.of("", " ", "\r\n", "  \r\n\r\n", "\r")) {
      for (int size = RelaxedBody.BUFFER - 3; size <= RelaxedBody.BUFFER + 3; size++) {
        String line = "word  word\tword \r\n";
        StringBuilder sb = new StringBuilder();
        while (sb.length() + line.length() < size) {
          sb.append(line);
        }
        sb.append("x".repeat(size - sb.length())).append(tail);
        String body = sb.toString();
        byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
        String expected = escape(reference(Canon.RELAXED, body));
        assertEquals(expected, escape(BodyCanonicalizationTest.relaxed(body)), "one write, size " + size);
        for (int split : new int[] {1, RelaxedBody.BUFFER / 2, bytes.length - 1}) {
          assertEquals(expected, escape(inTwoWrites(bytes, split)), "size " + size + " split at " + split);
        }
      }
    }
  }

  private static String inTwoWrites(byte[] body, int split) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BodyCanonicalizer c = BodyCanonicalizer.of(Canon.RELAXED, out::write);
    c.write(body, 0, split);
    c.write(body, split, body.length - split);
    c.finish();
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  private static String chunked(Canon canon, byte[] body, Random random) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BodyCanonicalizer c = BodyCanonicalizer.of(canon, out::write);
    int i = 0;
    while (i < body.length) {
      int n = random == null ? 1 : 1 + random.nextInt(body.length - i);
      c.write(body, i, n);
      i += n;
    }
    c.finish();
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  /** RFC 6376 §3.4.3 and §3.4.4 read literally, on a whole body. */
  static String reference(Canon canon, String body) {
    List<String> lines = new ArrayList<>(List.of(body.split("\r\n", -1)));
    if (lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1); // the body ended with CRLF (or was empty)
    }
    if (canon == Canon.RELAXED) {
      lines.replaceAll(line -> line.replaceAll("[ \t]+", " ").replaceAll(" \\z", ""));
    }
    while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1);
    }
    if (lines.isEmpty()) {
      return canon == Canon.SIMPLE ? "\r\n" : "";
    }
    return String.join("\r\n", lines) + "\r\n";
  }

  private static String escape(byte[] body) {
    return escape(new String(body, StandardCharsets.ISO_8859_1));
  }

  private static String escape(String body) {
    return body.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t");
  }
}
