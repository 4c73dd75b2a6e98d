package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.TestDnsServer;
import dev.signet.message.Dkimpy;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relay whose delivery fails for good sends the sender a bounce, DKIM-signed with the keys of the
 * bounce's From domain (the hostname's, or a parent's, or bounce.from) so that it verifies.
 */
class SignedBounceTest {
  @TempDir Path dir;

  /** Sends app@example.com -> user@nomail.test (null MX: fails at once) and returns the bounce the sender's MX got. */
  private ScriptedMx.Copy bounce(String... settings) throws Exception {
    Path keys = dir.resolve("keys");
    OpsRig.installKey(keys, "rsa2048.pem", "example.com", "s1");
    int mxPort = OpsRig.freePort();
    try (TestDnsServer dns = TestDnsServer.start()) {
      // RFC 7505 null MX: the recipient domain accepts no mail; the sender's domain's MX takes the bounce.
      dns.add("nomail.test. 300 IN MX 0 .", "example.com. 300 IN MX 10 mx.example.com.",
          "mx.example.com. 300 IN A 127.0.0.2");
      StringBuilder yaml = new StringBuilder()
          .append("listen.submission: 127.0.0.1:0\nmetrics.listen: 127.0.0.1:0\nadmin.listen: 127.0.0.1:0\n")
          .append("dkim.keys: ").append(keys).append('\n')
          .append("spool.dir: ").append(dir.resolve("spool")).append('\n')
          .append("delivery.dns: [").append(dns.address().host()).append(':').append(dns.address().port()).append("]\n")
          .append("delivery.port: ").append(mxPort).append('\n');
      for (String s : settings) {
        yaml.append(s).append('\n');
      }
      Path config = Files.writeString(dir.resolve("signet.yaml"), yaml);
      ScriptedMx mx = ScriptedMx.start("127.0.0.2", mxPort).hostName("mx.test");
      try (Relay relay = OpsRig.start(config)) {
        String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "to nowhere"), "user@nomail.test");
        assertTrue(reply.startsWith("250"), reply);
        Await.await("bounce delivered", Duration.ofSeconds(30), () -> mx.copies().size() == 1);
        return mx.copies().get(0);
      } finally {
        mx.close();
      }
    }
  }

  @Test
  void bounceIsSignedWithTheKeysOfTheHostnamesParentDomain() throws Exception {
    ScriptedMx.Copy bounce = bounce("hostname: relay.example.com");
    assertEquals("", bounce.from());
    String text = new String(bounce.data(), StandardCharsets.UTF_8);
    assertTrue(text.contains("From: Mail Delivery System <MAILER-DAEMON@relay.example.com>"), text);
    assertTrue(text.contains("\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;"), text);
    assertEquals(List.of("ok"), Dkimpy.verify(bounce.data(), dir.resolve("keys"), dir), text);
  }

  @Test
  void bounceFromTakesTheConfiguredDomainAndItsKeys() throws Exception {
    ScriptedMx.Copy bounce = bounce("hostname: relay.other.test", "bounce.from: example.com");
    String text = new String(bounce.data(), StandardCharsets.UTF_8);
    assertTrue(text.contains("From: Mail Delivery System <MAILER-DAEMON@example.com>"), text);
    assertTrue(text.contains("Reporting-MTA: dns; relay.other.test"), text);
    assertEquals(List.of("ok"), Dkimpy.verify(bounce.data(), dir.resolve("keys"), dir), text);
  }
}
