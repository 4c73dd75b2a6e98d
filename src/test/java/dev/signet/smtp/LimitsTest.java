package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Size, recipients, connections, timeouts, and what a disk error looks like to a client. */
class LimitsTest {
  @TempDir Path dir;

  static final String HEADERS = "From: app@example.com\r\nTo: bob@example.org\r\nSubject: s\r\n\r\n";

  static void envelope(SmtpClient c) throws Exception {
    assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"));
    assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<bob@example.org>"));
  }

  @Test
  void declaredSizeAboveTheLimitIsRefusedAtMail() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "limits.message-size: 20000");
         SmtpClient c = new SmtpClient(relay.port())) {
      assertTrue(c.hello().contains("250-SIZE 20000"));
      assertEquals("552 5.3.4 Message size exceeds fixed limit of 20000 bytes",
          c.command("MAIL FROM:<app@example.com> BODY=8BITMIME SIZE=20001"));
      assertEquals("552 5.3.4 Message size exceeds fixed limit of 20000 bytes",
          c.command("MAIL FROM:<app@example.com> SIZE=99999999999999999999"));
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com> SIZE=20000 BODY=8BITMIME"));
    }
  }

  @Test
  void oversizedDataIsRefusedAndNothingIsKept() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "limits.message-size: 20000");
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      envelope(c);
      c.command("DATA");
      // 30 kB of body, over a buffer boundary, with lines that look like commands
      String line = "MAIL FROM:<smuggled@example.com> and more text to make the line longer ......\r\n";
      String body = line.repeat(30_000 / line.length());
      assertEquals("552 5.3.4 Message size exceeds fixed limit of 20000 bytes", c.command(HEADERS + body + "."));
      assertEquals(List.of(), relay.queued());
      assertEquals(List.of(), relay.files("tmp"));
      envelope(c);
      c.command("DATA");
      assertTrue(c.command(HEADERS + "small\r\n.").startsWith("250 2.0.0"), "the session goes on");
      assertEquals(1, relay.queued().size());
    }
  }

  @Test
  void oversizedBdatIsRefusedAndItsChunksConsumed() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "limits.message-size: 1000");
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      envelope(c);
      String chunk = HEADERS + "x".repeat(2000) + "\r\n";
      c.write("BDAT " + chunk.length() + "\r\n" + chunk);
      assertEquals("552 5.3.4 Message size exceeds fixed limit of 1000 bytes", c.read());
      String rest = "QUIT\r\n";
      c.write("BDAT " + rest.length() + " LAST\r\n" + rest);
      assertEquals("503 5.5.1 Need MAIL and RCPT before BDAT", c.read(), "the refused transaction's next chunk is skipped");
      assertEquals("250 Ok", c.command("NOOP"));
      assertEquals(List.of(), relay.queued());
    }
  }

  @Test
  void recipientsBeyondTheLimitGet452() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "limits.recipients: 2");
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      c.command("MAIL FROM:<app@example.com>");
      assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<a@example.org>"));
      assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<b@example.org>"));
      assertEquals("452 4.5.3 Too many recipients (limit 2)", c.command("RCPT TO:<c@example.org>"));
      c.command("DATA");
      assertTrue(c.command(HEADERS + "x\r\n.").startsWith("250"));
      assertEquals(2, relay.queued().get(0).recipients().size());
    }
  }

  @Test
  void connectionsBeyondThePerAddressLimitGet421() throws Exception {
    // 127.0.0.1 is a stranger here: clients.networks are exempt from the per-address limit.
    try (TestRelay relay = TestRelay.start(dir, "limits.connections-per-ip: 2", "clients.networks: [192.0.2.0/24]");
         SmtpClient a = new SmtpClient(relay.port());
         SmtpClient b = new SmtpClient(relay.port());
         SmtpClient other = new SmtpClient("127.0.0.3", relay.port())) {
      a.hello();
      b.hello();
      other.hello();
      try (SmtpClient c = new SmtpClient(relay.port())) {
        assertEquals("421 4.7.0 Too many connections from your address, try again later", c.read());
        assertTrue(c.closedByServer());
      }
      assertEquals("221 2.0.0 Bye", a.command("QUIT"));
      try (SmtpClient c = new SmtpClient(relay.port())) {
        assertTrue(c.hello().startsWith("250"), "a slot is free again");
      }
    }
  }

  @Test
  void connectionsBeyondTheTotalLimitGet421() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "limits.connections: 2", "limits.connections-reserved: 0");
         SmtpClient a = new SmtpClient(relay.port());
         SmtpClient b = new SmtpClient("127.0.0.3", relay.port())) {
      a.hello();
      b.hello();
      // Connect the third only once both sessions are admitted: sessions start on their own
      // threads, so three simultaneous connects may be admitted in any order.
      try (SmtpClient c = new SmtpClient("127.0.0.4", relay.port())) {
        assertEquals("421 4.7.0 Too many connections, try again later", c.read());
      }
    }
  }

  @Test
  void idleClientIsDisconnected() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "limits.idle-timeout: 300ms");
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      Thread.sleep(600);
      assertTrue(c.read().startsWith("421"));
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void busyClientIsDisconnectedAtTheSessionTimeout() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "limits.session-timeout: 1s");
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      long start = System.nanoTime();
      boolean closed = false;
      while (!closed && System.nanoTime() - start < 5_000_000_000L) {
        try {
          closed = !c.command("NOOP").startsWith("250");
          Thread.sleep(100);
        } catch (java.io.IOException e) {
          closed = true;
        }
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(closed, "still open after 5 s");
      assertTrue(ms >= 900 && ms < 3000, "closed after " + ms + " ms");
    }
  }

  @Test
  void diskErrorAtAcceptIsATemporaryFailureWithNothingLeftVisible() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      // Root ignores chmod, so break the spool for real: queue/ is now a file.
      Path queue = dir.resolve("spool/queue");
      Files.delete(queue);
      Files.writeString(queue, "in the way");
      envelope(c);
      c.command("DATA");
      assertEquals("451 4.3.0 Temporary failure writing to the spool, try again later", c.command(HEADERS + "x\r\n."));
      // and when tmp/ is unusable the message cannot even start
      Path tmp = dir.resolve("spool/tmp");
      Files.delete(tmp);
      Files.writeString(tmp, "in the way");
      envelope(c);
      c.command("DATA");
      assertEquals("451 4.3.0 Temporary failure writing to the spool, try again later", c.command(HEADERS + "x\r\n."));
      Files.delete(queue);
      Files.delete(tmp);
      Files.createDirectories(queue);
      Files.createDirectories(tmp);
      assertEquals(List.of(), relay.queued());
      assertEquals(List.of(), relay.files("tmp"));
      envelope(c);
      c.command("DATA");
      assertTrue(c.command(HEADERS + "x\r\n.").startsWith("250 2.0.0"), "recovers once the disk is back");
    }
  }

  @Test
  void connectionLostInsideTheDataKeepsNothing() throws Exception {
    try (TestRelay relay = TestRelay.start(dir)) {
      String valid = HEADERS + "a complete-looking message\r\n";
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        envelope(c);
        // a BDAT chunk declared longer than what arrives before the connection drops
        c.write("BDAT " + (valid.length() + 500) + " LAST\r\n" + valid);
      }
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        envelope(c);
        c.command("DATA");
        c.write(valid); // and no CRLF.CRLF
      }
      Thread.sleep(1000);
      assertEquals(List.of(), relay.queued());
      assertEquals(List.of(), relay.files("tmp"));
    }
  }
}
