package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.TestDnsServer;
import dev.signet.dkim.KeyRing;
import dev.signet.message.Dkimpy;
import dev.signet.testkit.Await;
import dev.signet.testkit.Rfc8460Schema;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestClock;
import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relay with delivery.tls-reports.from set mails the reports of ended days through its own queue,
 * DKIM-signed by the reporting domain: the counts of 2026-12-05 are on disk (as a relay stopped that
 * day left them), the relay starts on the next day, and the report reaches the mailto: address.
 */
class TlsReportMailTest {
  @TempDir Path dir;

  private Path config(TestDnsServer dns, int mxPort, String from) throws IOException {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "s1");
    return OpsRig.config(dir, dns, mxPort, "delivery.tls-reports.from: " + from,
        "delivery.tls-reports.organization: Example Mail Ltd");
  }

  private static Relay start(Path configFile, Instant now) throws Exception {
    SignetConfig c = SignetConfig.load(Optional.of(configFile), Map.of());
    return Relay.start(c, KeyRing.load(c.dkim().keys()), new TestClock(now));
  }

  @Test
  void anEndedDaysReportIsMailedThroughTheQueueSignedByTheReportingDomain() throws Exception {
    int mxPort = OpsRig.freePort();
    try (TestDnsServer dns = TestDnsServer.start()) {
      dns.add("_smtp._tls.dest.test. 300 IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@reports.test\"",
          "reports.test. 300 IN MX 10 mx.reports.test.", "mx.reports.test. 300 IN A 127.0.0.2");
      Path configFile = config(dns, mxPort, "tls-reports@example.com");
      Path counts = dir.resolve("spool/tls-reports/2026-12-05.tally");
      Files.createDirectories(counts.getParent());
      try (InputStream in = getClass().getResourceAsStream("/tlsrpt/2026-12-05.tally")) {
        Files.write(counts, in.readAllBytes());
      }
      ScriptedMx mx = ScriptedMx.start("127.0.0.2", mxPort).hostName("mx.reports.test").stampReceived();
      try (Relay relay = start(configFile, Instant.parse("2026-12-06T00:05:00Z"))) {
        Await.await("report delivered", Duration.ofSeconds(30), () -> mx.copies().size() == 1);
        ScriptedMx.Copy got = mx.copies().get(0);
        assertEquals("tls-reports@example.com", got.from());
        assertEquals("tlsrpt@reports.test", got.recipient());
        String text = new String(got.data(), StandardCharsets.UTF_8);
        assertTrue(text.contains("\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;"), text);
        assertEquals(List.of("ok"), Dkimpy.verify(got.data(), dir.resolve("keys"), dir), text);

        MimeMessage m = new MimeMessage(Session.getInstance(new Properties()),
            new ByteArrayInputStream(got.data()));
        assertEquals("Report Domain: dest.test Submitter: example.com Report-ID: "
            + "<2026-12-05T00:00:00Z_dest.test@example.com>", m.getSubject());
        assertEquals("dest.test", m.getHeader("TLS-Report-Domain", null));
        assertEquals("example.com", m.getHeader("TLS-Report-Submitter", null));
        Multipart parts = (Multipart) m.getContent();
        String json;
        try (InputStream in = new GZIPInputStream(parts.getBodyPart(1).getInputStream())) {
          json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals("valid", Rfc8460Schema.validate(json, dir), json);
        assertTrue(json.contains("\"summary\":{\"total-successful-session-count\":7,"
            + "\"total-failure-session-count\":2}"), json);
        assertTrue(json.contains("\"result-type\":\"certificate-expired\""), json);
        assertFalse(Files.exists(counts), "the reported day's counts are gone");
      } finally {
        mx.close();
      }
    }
  }

  @Test
  void aReportingAddressWhoseDomainHasNoKeyIsRefusedAtStart() throws Exception {
    Path configFile = config(null, 25, "tls-reports@nokey.test");
    IOException e = assertThrows(IOException.class, () -> start(configFile, Instant.now()));
    assertTrue(e.getMessage().contains("delivery.tls-reports.from tls-reports@nokey.test: no DKIM key for nokey.test"),
        e.getMessage());
  }
}
