package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.signet.delivery.TestDnsServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delivery events end to end, with the relay in this JVM: a real MX on loopback refuses one
 * recipient with 550 5.1.1, a real HTTP receiver checks each POST's HMAC; the bounced address is
 * then suppressed and refused at RCPT without any connection to the MX.
 */
class EventsTest {
  static final String SECRET = "0123456789abcdef-test-secret";
  private static final Pattern QUEUED = Pattern.compile("queued as (\\S+)");

  @TempDir Path dir;

  @Test
  void deliveredAndBouncedEventsReachTheWebhookSignedAndTheBouncedAddressIsSuppressed() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    int mxPort = OpsRig.freePort();
    try (TestDnsServer dns = TestDnsServer.start();
        WebhookReceiver hook = WebhookReceiver.start(0, SECRET);
        RefusingMx mx = new RefusingMx("127.0.0.3", mxPort)) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.3");
      Path config = OpsRig.config(dir, dns, mxPort, "delivery.retry: [1h]",
          "events.webhooks: [{url: 'http://127.0.0.1:" + hook.port() + "/hook', secret: '" + SECRET + "'}]");
      try (Relay relay = OpsRig.start(config)) {
        String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "events"), "ok@dest.test", "gone@dest.test");
        Matcher m = QUEUED.matcher(reply);
        assertTrue(m.find(), reply);
        String id = m.group(1);

        OpsRig.await("delivered and bounced events at the webhook", Duration.ofSeconds(30),
            () -> hook.of("delivered", "ok@dest.test").size() == 1 && hook.of("bounced", "gone@dest.test").size() == 1
                && hook.of("dsn-sent", "gone@dest.test").size() == 1);
        assertEquals(0, hook.badSignatures.get());
        assertEquals(1, hook.of("accepted", "ok@dest.test").size());
        JsonNode delivered = hook.of("delivered", "ok@dest.test").get(0);
        assertEquals(id, delivered.get("queue_id").asText());
        assertEquals("app@example.com", delivered.get("sender").asText());
        assertEquals(1, delivered.get("attempt").asInt());
        assertEquals("mx.dest.test", delivered.get("mx").asText());
        assertTrue(delivered.get("message_id").asText().startsWith("<"), delivered.toString());
        JsonNode bounced = hook.of("bounced", "gone@dest.test").get(0);
        assertEquals("5.1.1", bounced.get("status").asText());
        assertEquals("invalid-recipient", bounced.get("class").asText());
        assertTrue(bounced.get("reply").asText().contains("User unknown"), bounced.toString());
        assertEquals(delivered.get("message_id"), bounced.get("message_id"));

        // The 550 5.1.1 suppressed the address: the next message to it is refused at RCPT, no MX asked.
        int sessions = mx.sessions.get();
        String refused = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "again"), "gone@dest.test");
        assertTrue(refused.startsWith("550 5.1.1 <gone@dest.test>: suppressed since "), refused);
        assertTrue(refused.contains("(invalid-recipient)"), refused);
        OpsRig.await("suppressed event", Duration.ofSeconds(30), () -> hook.of("suppressed", "gone@dest.test").size() == 1);
        assertEquals(sessions, mx.sessions.get(), "no connection to the MX for a suppressed address");

        String metrics = OpsRig.get(relay.metricsPort(), "/metrics").body();
        assertEquals(1.0, OpsRig.sample(metrics, "signet_events_total{type=\"delivered\"}"));
        assertEquals(1.0, OpsRig.sample(metrics, "signet_bounces_total{class=\"invalid-recipient\"}"));
        assertTrue(OpsRig.sample(metrics, "signet_webhook_deliveries_total{result=\"delivered\"}") >= 5);
        OpsRig.await("backlog drained", Duration.ofSeconds(10), () -> {
          try {
            return OpsRig.sample(OpsRig.get(relay.metricsPort(), "/metrics").body(), "signet_webhook_backlog") == 0;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
      }
    }
  }
}
