package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one pass over a queued message: its size, 8-bit octets and Received fields. */
class MessageFileTest {
  @TempDir Path dir;

  private MessageFile scan(String prefix, String message) throws Exception {
    Path file = dir.resolve("m.msg");
    byte[] head = prefix.getBytes(StandardCharsets.US_ASCII);
    byte[] body = message.getBytes(StandardCharsets.UTF_8);
    byte[] all = java.util.Arrays.copyOf(head, head.length + body.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    Files.write(file, all);
    return MessageFile.scan(new MessageSource(file, head.length));
  }

  @Test
  void countsReceivedFieldsOfTheHeaderBlockOnlyInAnyCase() throws Exception {
    MessageFile file = scan("envelope bytes before the message\n",
        "Received: from a by b; Sat, 5 Dec 2026 10:00:00 +0000\r\n"
        + "RECEIVED: from c by d\r\n"
        + "received:\r\n  from e by f\r\n" // folded, name in lower case
        + "Received-SPF: pass\r\n" // another field
        + "X-Received: by g\r\n" // another field
        + "Subject: Received: not a field name here\r\n"
        + "\r\n"
        + "Received: in the body, not a field\r\n");
    assertEquals(3, file.hops());
    assertFalse(file.eightBit());
  }

  @Test
  void sizeAndEightBitComeFromTheMessageAloneNotTheEnvelopeBeforeIt() throws Exception {
    String message = "Subject: caf\u00e9\r\nReceived: x\r\n\r\nbody\r\n";
    MessageFile file = scan("pr\u00e9fix\n".replace('\u00e9', 'e'), message);
    assertEquals(message.getBytes(StandardCharsets.UTF_8).length, file.size());
    assertTrue(file.eightBit());
    assertTrue(file.utf8Headers());
    assertEquals(1, file.hops());
  }

  @Test
  void aHeaderBlockLongerThanTheReadBufferIsCountedWhole() throws Exception {
    String received = "Received: from a.test by b.test; Sat, 5 Dec 2026 10:00:00 +0000\r\n";
    MessageFile file = scan("", "Subject: x\r\n" + received.repeat(1500) + "\r\n" + "8-bit body \u00e9\r\n");
    assertEquals(1500, file.hops()); // about 100 KB of header: several 64 KB reads
    assertTrue(file.eightBit());
    assertFalse(file.utf8Headers());
  }
}
