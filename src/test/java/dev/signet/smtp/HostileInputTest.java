package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile-input suite: malformed and adversarial sessions against a real SubmissionServer over
 * real sockets. Each test checks the exact reply, that nothing reached the spool, and that the
 * server still serves a well-behaved client afterwards ({@link #stillServes}). Smuggling variants
 * already in {@link SmugglingTest} are not repeated here.
 */
class HostileInputTest {
  @TempDir Path dir;

  private static final String HEADERS = LimitsTest.HEADERS;

  /** A well-behaved client submits one message and gets its 250. */
  static void stillServes(int port) throws Exception {
    try (SmtpClient c = new SmtpClient(port)) {
      assertTrue(c.hello().startsWith("250"));
      LimitsTest.envelope(c);
      assertTrue(c.command("DATA").startsWith("354"));
      String reply = c.command(HEADERS + "a normal message\r\n.");
      assertTrue(reply.startsWith("250 2.0.0 Ok: queued as "), reply);
      assertEquals("221 2.0.0 Bye", c.command("QUIT"));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"\r.\r", "\n.\r", "\r.\n", "\r\n..\n", "\r\n.\0\r\n", "\r\n\0.\r\n"})
  void moreFakeEndsOfDataAreRefusedAndTheCommandsPipelinedAfterTheRealEndStillRun(String fakeEnd)
      throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      LimitsTest.envelope(c);
      assertTrue(c.command("DATA").startsWith("354"));
      // One write: the message with a fake end and a hidden transaction, the real end, then
      // pipelined commands (RFC 2920) that must run as commands, once each.
      c.write(HEADERS + "innocent" + fakeEnd + "MAIL FROM:<evil@example.com>\r\nRCPT TO:<v@example.org>\r\n"
          + "DATA\r\nFrom: ceo@example.com\r\n\r\npay\r\n.\r\n"
          + "MAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n");
      String reply = c.read();
      assertTrue(reply.startsWith("550 5.6.0 "), reply);
      // The hidden MAIL/RCPT/DATA sit inside the refused message and must not have been answered.
      assertEquals("250 2.1.0 Ok", c.read());
      assertEquals("250 2.1.5 Ok", c.read());
      assertTrue(c.read().startsWith("354"));
      assertTrue(c.command(HEADERS + "the real second message\r\n.").startsWith("250 2.0.0"));
      assertEquals(1, relay.queued().size());
      assertEquals(List.of("bob@example.org"), relay.queued().get(0).recipients().stream()
          .map(r -> r.address()).toList());
    }
  }

  @Test
  void nulInTheBodyAndADataLineOver998OctetsAreRefusedAndTheSessionGoesOn() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      LimitsTest.envelope(c);
      c.command("DATA");
      assertEquals("550 5.6.0 NUL byte in message data (line 5)", c.command(HEADERS + "a\0b\r\n."));
      LimitsTest.envelope(c);
      c.command("DATA");
      // RFC 5322 §2.1.1: 998 octets is the most a line may have, 999 is refused.
      assertTrue(c.command(HEADERS + "y".repeat(998) + "\r\n.").startsWith("250 2.0.0"));
      LimitsTest.envelope(c);
      c.command("DATA");
      assertEquals("550 5.6.0 line 5 is longer than 998 octets (RFC 5322 section 2.1.1)",
          c.command(HEADERS + "y".repeat(999) + "\r\n."));
      assertEquals(1, relay.queued().size());
      assertEquals("250 Ok", c.command("NOOP"));
    }
  }

  @Test
  void commandLinesUpTo997OctetsAreReadLongerOnesEndTheSessionWithBoundedMemory() throws Exception {
    try (TestRelay relay = TestRelay.start(dir)) {
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        // RFC 5321 §4.5.3.1.4 allows 512; SubEthaSMTP reads up to 997 (MAIL with SIZE, BODY, AUTH=
        // and SMTPUTF8 parameters legitimately needs more than 512).
        assertEquals("250 Ok", c.command("NOOP " + "x".repeat(992)));
        assertEquals("501 Input line length is too long!", c.command("NOOP " + "x".repeat(993)));
        assertTrue(c.closedByServer());
      }
      // 10 MB without a line end: the server stops reading at 998 octets and hangs up.
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        byte[] mb = "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
        try {
          for (int i = 0; i < 10; i++) {
            c.write(mb);
          }
        } catch (IOException expected) {
          // connection reset once the server closed: what we want
        }
        assertEquals("501 Input line length is too long!", c.read());
        assertTrue(c.closedByServer());
      }
      stillServes(relay.port());
    }
  }

  @Test
  void invalidUtf8InACommandEndsTheSessionWith501() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      // C3 28: a two-byte UTF-8 lead followed by a non-continuation byte.
      c.write(bytes("MAIL FROM:<a", 0xC3, 0x28, "@example.com>\r\n"));
      assertEquals("501 Syntax error: invalid character encoding.", c.read());
      assertTrue(c.closedByServer());
      stillServes(relay.port());
    }
  }

  @Test
  void invalidUtf8InAHeaderIsSpooledByteForByteUnderTheSignature() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      LimitsTest.envelope(c);
      c.command("DATA");
      byte[] subject = bytes("Subject: broken ", 0xC3, 0x28, 0xFF, 0xFE, " bytes\r\n");
      ByteArrayOutputStream message = new ByteArrayOutputStream();
      message.write("From: app@example.com\r\nTo: bob@example.org\r\n".getBytes(StandardCharsets.US_ASCII));
      message.write(subject);
      message.write(bytes("\r\nbody ", 0xC0, 0xAF, "\r\n.\r\n"));
      c.write(message.toByteArray());
      String reply = c.read();
      assertTrue(reply.startsWith("250 2.0.0"), reply);
      byte[] spooled = relay.message(relay.queued().get(0).id());
      assertTrue(indexOf(spooled, subject) >= 0, "the header bytes are kept as they came");
      // jDKIM decodes header bytes before canonicalizing and so cannot verify this one; dkimpy
      // verifies the same spooled bytes (checked by hand). Signet signs bytes, not text.
      assertTrue(new String(spooled, StandardCharsets.ISO_8859_1).startsWith("DKIM-Signature: v=1;"));
    }
  }

  @Test
  void pipelinedGarbageGetsOneReplyPerLineAndTheSessionGoesOn() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      c.write("\u0001\u0002GARBAGE\r\nNO\0OP\r\nFOO\r\nNOOP\r\nHELP ME\r\nVRFY root\r\nEXPN staff\r\nTURN\r\n"
          + "DATA\r\nRCPT TO:<x@example.org>\r\nRSET\r\n");
      assertEquals("500 Error: command not implemented", c.read());
      assertEquals("500 Error: command not implemented", c.read());
      assertEquals("500 Error: bad syntax", c.read());
      assertEquals("250 Ok", c.read());
      assertEquals("504 HELP topic \"ME\" unknown.", c.read());
      assertEquals("502 VRFY command is disabled", c.read());
      assertEquals("502 EXPN command is disabled", c.read());
      assertEquals("500 Error: command not implemented", c.read());
      assertEquals("503 5.5.1 Need MAIL before DATA", c.read());
      assertTrue(c.read().startsWith("503"), "RCPT before MAIL");
      assertEquals("250 Ok", c.read());
      LimitsTest.envelope(c);
      c.command("DATA");
      assertTrue(c.command(HEADERS + "x\r\n.").startsWith("250 2.0.0"));
    }
  }

  @Test
  void aBareCrInACommandEndsTheSession() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      c.write("NOOP\rMAIL FROM:<evil@example.com>\r\n");
      assertEquals("501 Syntax error at character position 4. CR and LF must be CRLF paired.  See RFC 2821 #2.7.1.",
          c.read());
      assertTrue(c.closedByServer());
      stillServes(relay.port());
    }
  }

  @Test
  void headerBombsAreRefusedWith552AndTheSessionGoesOn() throws Exception {
    try (TestRelay relay = TestRelay.start(dir)) {
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        // 100 000 header fields (1.7 MB)
        StringBuilder fields = new StringBuilder("From: app@example.com\r\n");
        for (int i = 0; i < 100_000; i++) {
          fields.append("X-Bomb-").append(i).append(": x\r\n");
        }
        LimitsTest.envelope(c);
        c.command("DATA");
        assertEquals("552 5.3.4 too many header fields (limit 1000)", c.command(fields + "\r\nbody\r\n."));
        // 250 000 empty fields: under the 1 MB limit, once 25 MB of heap per session
        LimitsTest.envelope(c);
        c.command("DATA");
        assertEquals("552 5.3.4 too many header fields (limit 1000)",
            c.command("From: app@example.com\r\n" + "X:\r\n".repeat(250_000) + "\r\nbody\r\n."));
        // one field folded over 10 MB
        String fold = " continued folded value of the one header field that never ends ........\r\n";
        LimitsTest.envelope(c);
        c.command("DATA");
        c.write("From: app@example.com\r\nSubject: bomb\r\n");
        byte[] chunk = fold.repeat(1 << 14).getBytes(StandardCharsets.US_ASCII); // ~1.2 MB
        for (int written = 0; written < 10 << 20; written += chunk.length) {
          c.write(chunk);
        }
        assertEquals("552 5.3.4 header block larger than 1048576 bytes", c.command("\r\nbody\r\n."));
        assertEquals("250 Ok", c.command("NOOP"));
      }
      assertEquals(List.of(), relay.queued());
      assertEquals(List.of(), relay.files("tmp"));
      stillServes(relay.port());
    }
  }

  @Test
  void tenThousandRecipientsGet452BeyondTheLimitAndTheMessageGoesToTheFirst100() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"));
      int accepted = 0;
      int refused = 0;
      // Pipelined in batches: a client that writes 10 000 commands without reading would deadlock
      // on full socket buffers (the server stops reading while its replies are not read).
      for (int batch = 0; batch < 20; batch++) {
        StringBuilder commands = new StringBuilder();
        for (int i = 0; i < 500; i++) {
          commands.append("RCPT TO:<r").append(batch * 500 + i).append("@example.org>\r\n");
        }
        c.write(commands.toString());
        for (int i = 0; i < 500; i++) {
          String reply = c.read();
          if (reply.equals("250 2.1.5 Ok")) {
            accepted++;
          } else {
            assertEquals("452 4.5.3 Too many recipients (limit 100)", reply);
            refused++;
          }
        }
      }
      assertEquals(100, accepted);
      assertEquals(9_900, refused);
      c.command("DATA");
      assertTrue(c.command(HEADERS + "x\r\n.").startsWith("250 2.0.0"));
      assertEquals(100, relay.queued().get(0).recipients().size());
      assertEquals("r99@example.org", relay.queued().get(0).recipients().get(99).address());
    }
  }

  @Test
  void aClientDribblingOneBytePerSecondIsCutOffAtTheSessionTimeout() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "limits.idle-timeout: 3s", "limits.session-timeout: 4s")) {
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        LimitsTest.envelope(c);
        c.command("DATA");
        long start = System.nanoTime();
        boolean cut = false;
        byte[] message = (HEADERS + "slow body\r\n").getBytes(StandardCharsets.US_ASCII);
        // one byte a second: never idle for 3 s, so only the session timeout can end this
        for (int i = 0; i < message.length && !cut; i++) {
          try {
            c.write(new byte[] {message[i]});
            Thread.sleep(1000);
          } catch (IOException e) {
            cut = true;
          }
          if (!cut && System.nanoTime() - start > 10_000_000_000L) {
            break;
          }
        }
        if (!cut) {
          cut = c.closedByServer();
        }
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertTrue(cut, "still connected after " + seconds + " s");
        assertTrue(seconds >= 3 && seconds <= 7, "cut off after " + seconds + " s");
      }
      assertEquals(List.of(), relay.queued());
      Await.await("every session ended", Duration.ofSeconds(5), () -> relay.meter("signet.smtp.sessions.active") == 0);
      stillServes(relay.port());
    }
  }

  @Test
  void tlsHandshakeGarbageOnBothListenersClosesOnlyThatConnection() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, TestRelay.tls(dir))) {
      byte[] garbage = new byte[4096];
      new Random(6).nextBytes(garbage);
      // STARTTLS, then garbage instead of a ClientHello
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        assertTrue(c.command("STARTTLS").startsWith("220"));
        writeIgnoringReset(c, garbage);
        assertTrue(drainedToEof(c.socket()));
      }
      // STARTTLS, then a TLS record header announcing a huge handshake, and silence
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        c.command("STARTTLS");
        writeIgnoringReset(c, new byte[] {0x16, 0x03, 0x01, (byte) 0xff, (byte) 0xff, 0x01, 0x00});
        c.socket().shutdownOutput();
        assertTrue(drainedToEof(c.socket()));
      }
      // implicit TLS: garbage, plaintext SMTP, and a silent client that must not block the others
      try (Socket silent = connect(relay.smtpsPort())) {
        for (byte[] junk : new byte[][] {garbage, "EHLO client.test\r\n".getBytes(StandardCharsets.US_ASCII)}) {
          try (Socket s = connect(relay.smtpsPort())) {
            try {
              s.getOutputStream().write(junk);
            } catch (IOException expected) {
              // reset by the server: fine
            }
            assertTrue(drainedToEof(s));
          }
        }
        try (Socket plain = connect(relay.smtpsPort())) {
          SSLSocket tls = (SSLSocket) TestRelay.clientFactory().createSocket(plain, "relay.test", plain.getPort(), true);
          tls.startHandshake();
          try (SmtpClient c = new SmtpClient(tls)) {
            assertTrue(c.hello().startsWith("250"), "a proper TLS client is served while one sits silent");
          }
        }
      }
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        c.startTls();
        assertTrue(c.command("EHLO client.test").startsWith("250"));
      }
      stillServes(relay.port());
      assertEquals(1, relay.queued().size());
    }
  }

  @Test
  void authBruteForceIsThrottledDisconnectedBlockedAndCounted() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, TestRelay.users(dir))) {
      int refused = 0;
      int dropped = 0;
      int blocked = 0;
      long start = System.nanoTime();
      for (int connection = 0; connection < 10; connection++) {
        try (SmtpClient c = new SmtpClient(relay.port())) {
          c.hello();
          for (int attempt = 0; attempt < 5; attempt++) {
            String reply = c.command("AUTH PLAIN " + plain("alice", "guess" + connection + "-" + attempt));
            if (reply.equals("535 5.7.8 Authentication credentials invalid")) {
              refused++;
              continue;
            }
            if (reply.equals("421 4.7.0 Too many authentication failures, closing connection")) {
              dropped++;
            } else {
              assertEquals("421 4.7.0 Too many authentication failures, try again later", reply);
              blocked++;
            }
            assertTrue(c.closedByServer());
            break;
          }
        }
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      // 3 per connection (the third ends it), 10 per address in the window: connections 1-3 use
      // 9 failures, the 4th gets one more check (the 10th), then the address is blocked unchecked.
      assertEquals(7, refused);
      assertEquals(3, dropped);
      assertEquals(7, blocked);
      assertEquals(10.0, relay.meter("signet.smtp.auth.failures"), "every checked wrong password is counted");
      System.out.printf("auth brute force: 10 connections -> %d x 535, %d x 421 drop, %d x 421 blocked in %d ms%n",
          refused, dropped, blocked, ms);
      stillServes(relay.port());
    }
  }

  static String plain(String user, String password) {
    return java.util.Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(20_000);
    return s;
  }

  /** Reads (an alert, say) until the server closes; false if it is still open after 10 s or 64 kB. */
  private static boolean drainedToEof(Socket s) throws IOException {
    s.setSoTimeout(10_000);
    try {
      for (int i = 0; i < 65_536; i++) {
        if (s.getInputStream().read() < 0) {
          return true;
        }
      }
      return false;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset: closed as well
    }
  }

  private static void writeIgnoringReset(SmtpClient c, byte[] bytes) {
    try {
      c.write(bytes);
    } catch (IOException e) {
      // the server may close while we write: that is the expected outcome
    }
  }

  static byte[] bytes(Object... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String s) {
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
      } else {
        out.write((Integer) p);
      }
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
