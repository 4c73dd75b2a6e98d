package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DATA as it arrives (RFC 5321 §4.1.1.4, §4.5.2): dot-stuffed lines, the CRLF "." CRLF terminator
 * and a command pipelined after it, read through a BufferedInputStream like the session's, with the
 * bytes arriving in random pieces and read back in random amounts.
 */
class DotDataTest {

  /** Hands out its bytes a few at a time, like a socket receiving small segments. */
  private static final class Trickle extends InputStream {
    private final byte[] bytes;
    private final Random random;
    private int at;

    Trickle(byte[] bytes, Random random) {
      this.bytes = bytes;
      this.random = random;
    }

    @Override
    public int read() {
      return at < bytes.length ? bytes[at++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (at == bytes.length) {
        return -1;
      }
      int n = Math.min(Math.min(len, bytes.length - at), 1 + random.nextInt(random.nextBoolean() ? 7 : 3000));
      System.arraycopy(bytes, at, b, off, n);
      at += n;
      return n;
    }

    @Override
    public int available() {
      return 0; // never promise more: BufferedInputStream then returns what one read brought
    }
  }

  /** What a client sends for {@code content} (which ends in CRLF): a period added to lines starting with one. */
  private static byte[] stuffed(byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    boolean lineStart = true;
    for (int i = 0; i < content.length; i++) {
      if (lineStart && content[i] == '.') {
        out.write('.');
      }
      out.write(content[i]);
      lineStart = content[i] == '\n' && i > 0 && content[i - 1] == '\r';
    }
    out.writeBytes(".\r\n".getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  private static byte[] randomContent(Random random) {
    byte[] alphabet = {'.', '.', '\r', '\n', '\r', '\n', 'a', 'b', ' ', '\t', 0};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int size = random.nextInt(random.nextBoolean() ? 30 : 40_000);
    for (int i = 0; i < size; i++) {
      out.write(random.nextInt(3) == 0 ? alphabet[random.nextInt(alphabet.length)] : 'a' + random.nextInt(26));
    }
    out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  private static byte[] readAll(InputStream in, Random random) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[10_000];
    while (true) {
      int n;
      if (random.nextInt(10) == 0) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        out.write(b);
        continue;
      }
      n = in.read(buffer, 0, 1 + random.nextInt(buffer.length));
      if (n < 0) {
        break;
      }
      out.write(buffer, 0, n);
    }
    return out.toByteArray();
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4})
  void decodesStuffedDataAndLeavesThePipelinedCommand(long seed) throws IOException {
    Random random = new Random(seed);
    for (int n = 0; n < 300; n++) {
      byte[] content = randomContent(random);
      ByteArrayOutputStream wire = new ByteArrayOutputStream();
      wire.writeBytes(stuffed(content));
      wire.writeBytes("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
      BufferedInputStream session = new BufferedInputStream(new Trickle(wire.toByteArray(), random), 8192);
      assertArrayEquals(content, readAll(new DotData(session), random));
      assertEquals("QUIT\r\n", new String(session.readAllBytes(), StandardCharsets.US_ASCII));
    }
  }

  private static String decode(String wire) throws IOException {
    DotData data = new DotData(new BufferedInputStream(
        new java.io.ByteArrayInputStream(wire.getBytes(StandardCharsets.ISO_8859_1))));
    return new String(data.readAllBytes(), StandardCharsets.ISO_8859_1);
  }

  @Test
  void aPeriodStartingTheFirstLineIsUnstuffed() throws IOException {
    assertEquals(".hidden\r\n", decode("..hidden\r\n.\r\n"));
  }

  @Test
  void emptyDataIsEmpty() throws IOException {
    assertEquals("", decode(".\r\n"));
  }

  @Test
  void onlyCrlfPeriodCrlfEndsTheData() throws IOException {
    assertEquals("a\n.\nb\r.\rc\r\n", decode("a\n.\nb\r.\rc\r\n.\r\n"));
  }

  @Test
  void aLineOfPeriodCrWithoutLfIsData() throws IOException {
    assertEquals("\rx\r\n", decode(".\rx\r\n.\r\n"));
  }

  @Test
  void aConnectionClosedBeforeTheTerminatorIsAnError() {
    assertThrows(EOFException.class, () -> decode("Subject: cut\r\n\r\nbody\r\n"));
  }
}
