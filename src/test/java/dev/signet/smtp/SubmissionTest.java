package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.queue.Envelope;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mail in, signed mail in the spool: the happy paths, with real clients. */
class SubmissionTest {
  @TempDir Path dir;

  static Properties plain(int port) {
    Properties p = new Properties();
    p.put("mail.smtp.host", "127.0.0.1");
    p.put("mail.smtp.port", Integer.toString(port));
    p.put("mail.smtp.connectiontimeout", "5000");
    p.put("mail.smtp.timeout", "20000");
    p.put("mail.smtp.localhost", "client.test"); // no local host name lookup
    return p;
  }

  static MimeMessage message(Session session, String from, String subject, String text) throws Exception {
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress(from));
    m.setRecipient(Message.RecipientType.TO, new InternetAddress("bob@example.org"));
    m.setSubject(subject);
    m.setText(text, "UTF-8");
    return m;
  }

  /** Sends one message with Jakarta Mail and returns the server's last reply. */
  static String send(Properties props, String user, MimeMessage m) throws Exception {
    Session session = Session.getInstance(props);
    try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
      if (user == null) {
        t.connect();
      } else {
        t.connect(user, TestRelay.PASSWORD);
      }
      t.sendMessage(m, m.getAllRecipients());
      return t.getLastServerResponse();
    }
  }

  @Test
  void messageFromAListedNetworkIsSignedAndSpooledBeforeThe250() throws Exception {
    try (TestRelay relay = TestRelay.start(dir)) {
      Properties p = plain(relay.port());
      String reply = send(p, null, message(Session.getInstance(p), "app@example.com", "hello", "Hi Bob!\n"));
      assertTrue(reply.startsWith("250 2.0.0 Ok: queued as "), reply);
      String id = reply.substring("250 2.0.0 Ok: queued as ".length()).trim();
      List<Envelope> queued = relay.queued();
      assertEquals(1, queued.size());
      Envelope e = queued.get(0);
      assertEquals(id, e.id());
      assertEquals("app@example.com", e.sender());
      assertEquals("bob@example.org", e.recipients().get(0).address());
      assertEquals("127.0.0.1", e.client());
      assertEquals(Optional.empty(), e.authUser());
      assertEquals(List.of("d=example.com s=rsa2026 a=rsa-sha256"), e.signatures());
      byte[] spooled = relay.message(id);
      assertEquals(e.size(), spooled.length);
      String text = new String(spooled, StandardCharsets.UTF_8);
      assertTrue(text.startsWith("DKIM-Signature:"), text);
      assertTrue(text.contains("Received: from client") || text.contains("Received:"), text);
      assertTrue(text.contains("queued as") || text.contains(id), "the Received field names the queue id: " + text);
      assertEquals(1, TestRelay.verify(spooled).size(), "jDKIM verifies the spooled message:\n" + text);
    }
  }

  @Test
  void messageForADomainWithoutKeyIsRefusedTemporarily() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@nokey.example>"));
      assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<bob@example.org>"));
      assertTrue(c.command("DATA").startsWith("354"));
      String reply = c.command("From: app@nokey.example\r\nSubject: x\r\n\r\nbody\r\n.");
      assertTrue(reply.startsWith("451 4.3.5 "), reply);
      assertEquals(List.of(), relay.queued());
      assertEquals(List.of(), relay.files("tmp"));
    }
  }

  @Test
  void twentyConcurrentClientsAllGetTheirMessagesSpooledAndSigned() throws Exception {
    int clients = 20;
    int each = 5;
    try (TestRelay relay = TestRelay.start(dir)) {
      Properties p = plain(relay.port());
      ExecutorService pool = Executors.newFixedThreadPool(clients);
      List<Future<List<String>>> results = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        results.add(pool.submit(() -> {
          List<String> ids = new ArrayList<>();
          Session session = Session.getInstance(p);
          try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            for (int i = 0; i < each; i++) {
              MimeMessage m = message(session, "app@example.com", "client " + client + " message " + i, "text " + i);
              t.sendMessage(m, m.getAllRecipients());
              ids.add(t.getLastServerResponse().replaceAll(".*queued as ", "").trim());
            }
          }
          return ids;
        }));
      }
      List<String> acknowledged = new ArrayList<>();
      for (Future<List<String>> f : results) {
        acknowledged.addAll(f.get());
      }
      pool.shutdown();
      acknowledged.sort(null);
      List<Envelope> queued = relay.queued();
      assertEquals(acknowledged, queued.stream().map(Envelope::id).toList());
      for (Envelope e : queued) {
        assertEquals(1, TestRelay.verify(relay.message(e.id())).size(), e.id());
      }
    }
  }

  @Test
  void bdatChunksMakeOneSignedMessage() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      assertTrue(c.hello().contains("CHUNKING"));
      c.command("MAIL FROM:<app@example.com>");
      c.command("RCPT TO:<bob@example.org>");
      String part1 = "From: app@example.com\r\nTo: bob@example.org\r\nSubject: chunks\r\n\r\nfirst ";
      String part2 = "line\r\n.second line starts with a dot\r\n";
      c.write("BDAT " + part1.length() + "\r\n" + part1);
      assertEquals("250 2.0.0 " + part1.length() + " octets received", c.read());
      c.write("BDAT " + part2.length() + " LAST\r\n" + part2);
      String reply = c.read();
      assertTrue(reply.startsWith("250 2.0.0 Ok: queued as"), reply);
      byte[] spooled = relay.message(relay.queued().get(0).id());
      String text = new String(spooled, StandardCharsets.US_ASCII);
      assertTrue(text.endsWith("\r\n\r\nfirst line\r\n.second line starts with a dot\r\n"), text);
      assertEquals(1, TestRelay.verify(spooled).size());
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"), "session goes on after BDAT LAST");
    }
  }

  @Test
  void utf8AddressesNeedSmtputf8AndEightBitBodiesAreKept() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      String ehlo = c.hello();
      assertTrue(ehlo.contains("250-8BITMIME") && ehlo.contains("SMTPUTF8"), ehlo);
      assertTrue(c.command("MAIL FROM:<app@example.com>").startsWith("250"));
      assertTrue(c.command("RCPT TO:<bjørn@example.org>").startsWith("553 5.6.7"), "no SMTPUTF8 on MAIL");
      c.command("RSET");
      assertTrue(c.command("MAIL FROM:<app@example.com> BODY=8BITMIME SMTPUTF8").startsWith("250"));
      assertTrue(c.command("RCPT TO:<bjørn@example.org>").startsWith("250"));
      c.command("DATA");
      String reply = c.command("From: app@example.com\r\nTo: bjørn@example.org\r\nSubject: grüße\r\n"
          + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHallo Bjørn, schöne Grüße\r\n.");
      assertTrue(reply.startsWith("250 2.0.0"), reply);
      Envelope e = relay.queued().get(0);
      assertEquals("bjørn@example.org", e.recipients().get(0).address());
      byte[] spooled = relay.message(e.id());
      assertTrue(new String(spooled, StandardCharsets.UTF_8).contains("Hallo Bjørn, schöne Grüße\r\n"));
      assertEquals(1, TestRelay.verify(spooled).size());
    }
  }

  @Test
  void nullSenderIsAcceptedFromAListedNetwork() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<>"));
      c.command("RCPT TO:<bob@example.org>");
      c.command("DATA");
      assertTrue(c.command("From: mailer-daemon@example.com\r\nSubject: x\r\n\r\nbounce\r\n.").startsWith("250"));
      Envelope e = relay.queued().get(0);
      assertTrue(e.nullSender());
      assertFalse(e.signatures().isEmpty());
    }
  }
}
