package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 5321 §6.3: a message that has come round too often is refused, as Postfix's hopcount_limit (50) does. */
class HopLimitTest {
  @TempDir Path dir;

  private static String received(int n) {
    return "Received: from a.test by b.test; Sat, 5 Dec 2026 10:00:00 +0000\r\n".repeat(n);
  }

  @Test
  void fiftyReceivedFieldsAreRefusedWith554546() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      LimitsTest.envelope(c);
      c.command("DATA");
      assertEquals("554 5.4.6 too many hops: 50 Received header fields (limit 50 with this relay's own), mail loop",
          c.command(received(50) + LimitsTest.HEADERS + "x\r\n."));
      assertEquals(List.of(), relay.queued());
      LimitsTest.envelope(c);
      c.command("DATA");
      assertTrue(c.command(received(49) + LimitsTest.HEADERS + "x\r\n.").startsWith("250 2.0.0"));
    }
  }
}
