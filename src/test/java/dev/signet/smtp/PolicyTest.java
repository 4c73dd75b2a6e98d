package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.queue.Envelope;
import dev.signet.testkit.TestKeys;
import jakarta.mail.Session;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Who may relay, AUTH only under TLS (or from loopback), users only with their domains. */
class PolicyTest {
  @TempDir Path dir;

  /** A client on 127.0.0.2: not in clients.networks below, and not "local" for cleartext AUTH. */
  private static final String REMOTE = "127.0.0.2";
  private static final String ONLY_LOCALHOST = "clients.networks: [127.0.0.1/32]";

  private static String plain(String user, String password) {
    return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String[] with(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void clientOutsideTheNetworksIsRefusedAsRelay() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, ONLY_LOCALHOST);
         SmtpClient c = new SmtpClient(REMOTE, relay.port())) {
      assertFalse(c.hello().contains("AUTH"));
      String reply = c.command("MAIL FROM:<app@example.com>");
      assertTrue(reply.startsWith("554 5.7.1 Relay access denied"), reply);
      assertTrue(c.command("RCPT TO:<bob@example.org>").startsWith("503 5.5.1"), "no transaction was started");
    }
    try (TestRelay relay = TestRelay.start(dir.resolve("listed"));
         SmtpClient c = new SmtpClient(REMOTE, relay.port())) {
      c.hello();
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"), "127.0.0.0/8 is listed by default");
    }
  }

  @Test
  void remoteClientGetsAuthOnlyAfterStartTls() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, with(TestRelay.tls(dir), ONLY_LOCALHOST, TestRelay.users(dir)));
         SmtpClient c = new SmtpClient(REMOTE, relay.port())) {
      String ehlo = c.hello();
      assertTrue(ehlo.contains("STARTTLS"), ehlo);
      assertFalse(ehlo.contains("AUTH"), ehlo);
      assertTrue(c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)).startsWith("538 5.7.11"));
      assertTrue(c.command("MAIL FROM:<app@example.com>").startsWith("530 5.7.0 Must issue a STARTTLS"));
      c.startTls();
      ehlo = c.command("EHLO client.test");
      assertTrue(ehlo.contains("AUTH PLAIN LOGIN"), ehlo);
      assertFalse(ehlo.contains("STARTTLS"), ehlo);
      assertTrue(c.command("MAIL FROM:<app@example.com>").startsWith("530 5.7.0 Authentication required"));
      assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"));
      c.command("RCPT TO:<bob@example.org>");
      c.command("DATA");
      assertTrue(c.command("From: app@example.com\r\nSubject: s\r\n\r\nx\r\n.").startsWith("250 2.0.0"));
      Envelope e = relay.queued().get(0);
      assertEquals(Optional.of("alice"), e.authUser());
      assertEquals(REMOTE, e.client());
      assertEquals(1, TestRelay.verify(relay.message(e.id())).size());
    }
  }

  @Test
  void loopbackClientMayAuthenticateWithoutTls() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, ONLY_LOCALHOST, TestRelay.users(dir));
         SmtpClient c = new SmtpClient(relay.port())) {
      assertTrue(c.hello().contains("AUTH PLAIN LOGIN"));
      assertEquals("334 " + b64("Username:"), c.command("AUTH LOGIN"));
      assertEquals("334 " + b64("Password:"), c.command(b64("alice")));
      assertEquals("235 2.7.0 Authentication successful", c.command(b64(TestRelay.PASSWORD)));
      assertTrue(c.command("AUTH LOGIN").startsWith("503 5.5.1"));
    }
  }

  @Test
  void startTlsDiscardsAnEarlierAuth() throws Exception {
    // 127.0.0.1 may AUTH in cleartext (loopback) but is not in clients.networks: only AUTH lets it relay.
    try (TestRelay relay = TestRelay.start(dir, with(TestRelay.tls(dir), "clients.networks: [192.0.2.0/24]",
        TestRelay.users(dir)));
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
      c.startTls();
      // RFC 3207 §4.2: the server discards what it knew of the client; EHLO again, AUTH again.
      assertEquals("503 5.5.1 Send EHLO first", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
      c.command("EHLO client.test");
      assertEquals("530 5.7.0 Authentication required", c.command("MAIL FROM:<app@example.com>"));
      assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"));
    }
  }

  @Test
  void authBeforeEhloIsRefused() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, TestRelay.users(dir));
         SmtpClient c = new SmtpClient(relay.port())) {
      c.read(); // greeting
      assertEquals("503 5.5.1 Send EHLO first", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
      c.command("EHLO client.test");
      assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
    }
  }

  @Test
  void jakartaMailSubmitsWithStartTlsAndAuth() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, with(TestRelay.tls(dir), TestRelay.users(dir)))) {
      Properties p = SubmissionTest.plain(relay.port());
      p.put("mail.smtp.starttls.enable", "true");
      p.put("mail.smtp.starttls.required", "true");
      p.put("mail.smtp.auth", "true");
      p.put("mail.smtp.ssl.socketFactory", TestRelay.clientFactory());
      String reply = SubmissionTest.send(p, "alice",
          SubmissionTest.message(Session.getInstance(p), "app@example.com", "tls", "over TLS"));
      assertTrue(reply.startsWith("250 2.0.0 Ok: queued as"), reply);
      assertEquals(Optional.of("alice"), relay.queued().get(0).authUser());
    }
  }

  @Test
  void implicitTlsListenerStartsWithTheHandshakeAndOffersAuth() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, with(TestRelay.tls(dir), TestRelay.users(dir)));
         SmtpClient c = new SmtpClient(TestRelay.clientFactory().createSocket("127.0.0.1", relay.smtpsPort()))) {
      String ehlo = c.hello();
      assertTrue(ehlo.contains("AUTH PLAIN LOGIN"), ehlo);
      assertFalse(ehlo.contains("STARTTLS"), ehlo);
      String protocol = ((SSLSocket) c.socket()).getSession().getProtocol();
      assertTrue(protocol.equals("TLSv1.3") || protocol.equals("TLSv1.2"), protocol);
      assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
    }
  }

  @Test
  void serverRefusesTlsBelow12() throws Exception {
    Path cert = dir.resolve("c.pem");
    Path key = dir.resolve("k.pem");
    TestRelay.CERTIFICATE.writePem(cert, key);
    assertEquals(List.of("TLSv1.3", "TLSv1.2"), Tls.load(cert, key).protocols());
  }

  @Test
  void authenticatedUserMayUseOnlyItsDomains() throws Exception {
    // other.org has a key too, so only the user's domain list can refuse it.
    Path keys = Files.createDirectories(dir.resolve("keys/other.org"));
    TestKeys.installRsa(dir.resolve("keys"));
    Files.copy(dir.resolve("keys/example.com/rsa2026.pem"), keys.resolve("rsa2026.pem"));
    try (TestRelay relay = TestRelay.start(dir, ONLY_LOCALHOST, TestRelay.users(dir));
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
      assertEquals("550 5.7.1 Sender domain other.org is not allowed for user alice",
          c.command("MAIL FROM:<app@other.org>"));
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@Example.COM>"));
      c.command("RCPT TO:<bob@example.org>");
      c.command("DATA");
      assertEquals("550 5.7.1 From/Sender domain other.org is not allowed for user alice",
          c.command("From: boss@other.org\r\nSubject: s\r\n\r\nx\r\n."));
      assertEquals(List.of(), relay.queued());
      assertEquals(List.of(), relay.files("tmp"));
    }
  }

  /** The security probe's forms: each once got 250 and a d=example.com signature for alice. */
  @ParameterizedTest(name = "From: {0}")
  @ValueSource(strings = {
      "app@example.com, ceo@victim.test",
      "x: app@example.com, ceo@victim.test;",
      "<app@example.com> <ceo@victim.test>",
      "<app@example.com> ceo@victim.test",
      "ceo\\@victim.test@example.com",
  })
  void everyFromMailboxIsCheckedAndOnlyMailboxListsPass(String from) throws Exception {
    try (TestRelay relay = TestRelay.start(dir, ONLY_LOCALHOST, TestRelay.users(dir));
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"));
      c.command("RCPT TO:<bob@example.org>");
      c.command("DATA");
      String reply = c.command("From: " + from + "\r\nSubject: s\r\n\r\nx\r\n.");
      assertTrue(reply.startsWith("550 5.6.0 the From header field is not a valid RFC 5322 mailbox list")
          || reply.startsWith("550 5.6.0 From holds 2 mailboxes: a Sender header field naming the one who sent it"
          + " is required"), reply);
      assertEquals(List.of(), relay.queued());
    }
  }

  @Test
  void aSenderDoesNotLetAForeignAuthorThrough() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, ONLY_LOCALHOST, TestRelay.users(dir));
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
      String[][] cases = {
          {"From: app@example.com, ceo@victim.test\r\nSender: app@example.com",
              "550 5.7.1 From/Sender domain victim.test is not allowed for user alice"},
          {"From: app@example.com\r\nSender: ceo@victim.test",
              "550 5.7.1 From/Sender domain victim.test is not allowed for user alice"},
          {"From: app@example.com, Boss <boss@example.com>\r\nSender: app@example.com", "250 2.0.0"},
      };
      for (String[] t : cases) {
        assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"));
        c.command("RCPT TO:<bob@example.org>");
        c.command("DATA");
        String reply = c.command(t[0] + "\r\nSubject: s\r\n\r\nx\r\n.");
        assertTrue(reply.startsWith(t[1]), t[0] + " -> " + reply);
      }
      assertEquals(1, relay.queued().size());
    }
  }

  @Test
  void repeatedAuthFailuresAreDelayedThenTheConnectionIsDropped() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, TestRelay.users(dir));
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("535 5.7.8 Authentication credentials invalid", c.command("AUTH PLAIN " + plain("alice", "guess1")));
      assertEquals("535 5.7.8 Authentication credentials invalid", c.command("AUTH PLAIN " + plain("mallory", "x")));
      assertTrue(c.command("AUTH PLAIN " + plain("alice", "guess3")).startsWith("421 4.7.0"));
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void anAddressWithTooManyRecentFailuresIsNotCheckedAnyMore() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, TestRelay.users(dir))) {
      for (int connection = 0; connection < 4; connection++) {
        try (SmtpClient c = new SmtpClient(relay.port())) {
          c.hello();
          for (int i = 0; i < 3; i++) {
            String reply = c.command("AUTH PLAIN " + plain("alice", "wrong"));
            if (reply.startsWith("421")) {
              break;
            }
          }
        }
      }
      try (SmtpClient c = new SmtpClient(relay.port())) {
        c.hello();
        String reply = c.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD));
        assertTrue(reply.startsWith("421 4.7.0 Too many authentication failures"), "even the right password: " + reply);
      }
    }
  }

  @Test
  void usersFileWithoutBcryptHashIsRefusedNamingTheLine() throws Exception {
    Path file = dir.resolve("users");
    Files.writeString(file, "# comment\nalice:secret:example.com\n");
    IOException e = assertThrows(IOException.class, () -> Users.load(file));
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    assertTrue(e.getMessage().contains("bcrypt"), e.getMessage());
  }
}
