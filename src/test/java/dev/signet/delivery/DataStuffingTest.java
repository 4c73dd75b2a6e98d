package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** DATA content as RFC 5321 §4.5.2 and §2.3.8 want it, whatever the write boundaries. */
class DataStuffingTest {

  @Test
  void aLineOpeningWithADotGetsASecondOne() throws IOException {
    assertEquals("a\r\n..b\r\n...\r\nc.d\r\n.\r\n", stuffed("a\r\n.b\r\n..\r\nc.d\r\n"));
    assertEquals("..first\r\n.\r\n", stuffed(".first\r\n"));
  }

  @Test
  void theDataEndsWithCrlfDotCrlfWhetherOrNotTheLastLineWasEnded() throws IOException {
    assertEquals("abc\r\n.\r\n", stuffed("abc\r\n"));
    assertEquals("abc\r\n.\r\n", stuffed("abc"));
    assertEquals("abc\r\n.\r\n", stuffed("abc\r"));
    assertEquals(".\r\n", stuffed(""));
  }

  @Test
  void bareLineEndingsGoOutAsCrlf() throws IOException {
    assertEquals("a\r\nb\r\n.\r\n", stuffed("a\nb\n"));
    assertEquals("a\r\nb\r\n.\r\n", stuffed("a\rb"));
    assertEquals("a\r\n..b\r\n\r\n.\r\n", stuffed("a\r.b\n\n"));
    assertEquals("a\r\n\r\n.\r\n", stuffed("a\r\r"));
  }

  @Test
  void writeBoundariesChangeNothing() throws IOException {
    Random random = new Random(20261207);
    byte[] alphabet = ".\r\nab".getBytes(StandardCharsets.US_ASCII);
    for (int round = 0; round < 2000; round++) {
      byte[] message = new byte[random.nextInt(40)];
      for (int i = 0; i < message.length; i++) {
        message[i] = alphabet[random.nextInt(alphabet.length)];
      }
      String text = new String(message, StandardCharsets.US_ASCII);
      ByteArrayOutputStream pieces = new ByteArrayOutputStream();
      DataStuffing data = new DataStuffing(pieces);
      for (int at = 0; at < message.length; ) {
        int n = Math.min(message.length - at, 1 + random.nextInt(5));
        data.write(message, at, n);
        at += n;
      }
      data.end();
      assertEquals(reference(text), pieces.toString(StandardCharsets.US_ASCII), "for " + text.replace("\r", "\\r")
          .replace("\n", "\\n"));
    }
  }

  /** The rules stated separately: every line ending CRLF, the last line ended, dots doubled, the end line. */
  private static String reference(String message) {
    String crlf = message.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n");
    if (!crlf.isEmpty() && !crlf.endsWith("\r\n")) {
      crlf += "\r\n";
    }
    StringBuilder out = new StringBuilder();
    for (String line : crlf.split("(?<=\r\n)")) {
      out.append(line.startsWith(".") ? "." : "").append(line);
    }
    return out + ".\r\n";
  }

  private static String stuffed(String message) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    DataStuffing data = new DataStuffing(out);
    byte[] bytes = message.getBytes(StandardCharsets.US_ASCII);
    data.write(bytes, 0, bytes.length);
    data.end();
    return out.toString(StandardCharsets.US_ASCII);
  }
}
