package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.cli.Main;
import dev.signet.message.Dkimpy;
import dev.signet.queue.Envelope;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SMTPUTF8 sessions (RFC 6531) and internationalized From domains, over a real socket. */
class InternationalMailTest {
  @TempDir Path dir;

  private static String protocolOf(String message) {
    Matcher m = Pattern.compile("\\(Signet\\) with (\\S+) id ").matcher(message);
    assertTrue(m.find(), message);
    return m.group(1);
  }

  private static String send(SmtpClient c, String mail, String from) throws Exception {
    assertTrue(c.command(mail).startsWith("250"));
    assertTrue(c.command("RCPT TO:<bob@example.org>").startsWith("250"));
    assertTrue(c.command("DATA").startsWith("354"));
    return c.command("From: " + from + "\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nhello\r\n.");
  }

  @Test
  void receivedSaysUtf8SmtpForAnSmtputf8Transaction() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      String reply = send(c, "MAIL FROM:<app@example.com> SMTPUTF8", "app@example.com");
      assertTrue(reply.startsWith("250 2.0.0"), reply);
      String id = reply.substring(reply.lastIndexOf(' ') + 1).trim();
      // RFC 6531 §3.7.3: "UTF8SMTP" for ESMTP with SMTPUTF8.
      assertEquals("UTF8SMTP", protocolOf(new String(relay.message(id), StandardCharsets.UTF_8)));
      reply = send(c, "MAIL FROM:<app@example.com>", "app@example.com");
      id = reply.substring(reply.lastIndexOf(' ') + 1).trim();
      assertEquals("ESMTP", protocolOf(new String(relay.message(id), StandardCharsets.UTF_8)));
    }
  }

  @Test
  void receivedSaysUtf8SmtpsaUnderTlsWithAuth() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, concat(TestRelay.tls(dir), TestRelay.users(dir),
        "clients.networks: [\"10.0.0.0/8\"]"));
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      c.startTls();
      assertTrue(c.command("EHLO client.test").contains("AUTH"));
      String auth = java.util.Base64.getEncoder().encodeToString(
          ("\0alice\0" + TestRelay.PASSWORD).getBytes(StandardCharsets.UTF_8));
      assertTrue(c.command("AUTH PLAIN " + auth).startsWith("235"));
      String reply = send(c, "MAIL FROM:<app@example.com> SMTPUTF8", "app@example.com");
      assertTrue(reply.startsWith("250 2.0.0"), reply);
      String id = reply.substring(reply.lastIndexOf(' ') + 1).trim();
      assertEquals("UTF8SMTPSA", protocolOf(new String(relay.message(id), StandardCharsets.UTF_8)));
    }
  }

  @Test
  void internationalizedFromDomainSignsWithTheALabelKeys() throws Exception {
    Path keys = dir.resolve("keys"); // the relay's dkim.keys (TestRelay adds example.com's key)
    // keygen takes the U-label form and files the key under the A-label, as d= needs.
    assertEquals(0, Main.run("keygen", "--domain", "b\u00fccher.example", "--selector", "s1",
        "--algorithm", "ed25519", "--keys", keys.toString()));
    assertTrue(keys.resolve("xn--bcher-kva.example").resolve("s1.pem").toFile().isFile());
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      String reply = send(c, "MAIL FROM:<a@xn--bcher-kva.example> SMTPUTF8", "A <a@b\u00fccher.example>");
      assertTrue(reply.startsWith("250 2.0.0"), "was 451 forever: " + reply);
      Envelope e = relay.queued().get(0);
      assertEquals(List.of("d=xn--bcher-kva.example s=s1 a=ed25519-sha256"), e.signatures());
      String message = new String(relay.message(e.id()), StandardCharsets.UTF_8);
      assertTrue(message.contains("d=xn--bcher-kva.example;"), message);
      assertEquals(List.of("ok"), Dkimpy.verify(relay.message(e.id()), keys, dir), message);
    }
  }

  @Test
  void keygenTakesTheALabelFormToo() {
    Path keys = dir.resolve("a-label-keys");
    assertEquals(0, Main.run("keygen", "--domain", "XN--BCHER-KVA.example", "--selector", "s2",
        "--algorithm", "ed25519", "--keys", keys.toString()));
    assertTrue(keys.resolve("xn--bcher-kva.example").resolve("s2.pem").toFile().isFile());
  }

  private static String[] concat(String[] tls, String... more) {
    String[] all = java.util.Arrays.copyOf(tls, tls.length + more.length);
    System.arraycopy(more, 0, all, tls.length, more.length);
    return all;
  }
}
