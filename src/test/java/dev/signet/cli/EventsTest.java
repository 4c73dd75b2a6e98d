package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.signet.delivery.TestDnsServer;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestCa;
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
        ScriptedMx mx = OpsRig.refusingMx("127.0.0.3", mxPort)) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.3");
      Path config = OpsRig.config(dir, dns, mxPort, "delivery.retry: [1h]",
          "events.webhooks: [{url: 'http://127.0.0.1:" + hook.port() + "/hook', secret: '" + SECRET + "'}]");
      try (Relay relay = OpsRig.start(config)) {
        String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "events"), "ok@dest.test", "gone@dest.test");
        Matcher m = QUEUED.matcher(reply);
        assertTrue(m.find(), reply);
        String id = m.group(1);

        Await.await("delivered and bounced events at the webhook", Duration.ofSeconds(30),
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
        assertEquals("opportunistic none", delivered.get("tls").asText(), "a plaintext session: " + delivered);
        JsonNode bounced = hook.of("bounced", "gone@dest.test").get(0);
        assertEquals("5.1.1", bounced.get("status").asText());
        assertEquals("invalid-recipient", bounced.get("class").asText());
        assertTrue(bounced.get("reply").asText().contains("User unknown"), bounced.toString());
        assertEquals(delivered.get("message_id"), bounced.get("message_id"));
        assertEquals("opportunistic none", bounced.get("tls").asText(), bounced.toString());
        assertEquals(0, hook.of("tls-failed", "gone@dest.test").size(), "a 5.1.1 is no TLS failure");

        // The 550 5.1.1 suppressed the address: the next message to it is refused at RCPT, no MX asked.
        int sessions = mx.sessions();
        String refused = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "again"), "gone@dest.test");
        assertTrue(refused.startsWith("550 5.1.1 <gone@dest.test>: suppressed since "), refused);
        assertTrue(refused.contains("(invalid-recipient)"), refused);
        Await.await("suppressed event", Duration.ofSeconds(30), () -> hook.of("suppressed", "gone@dest.test").size() == 1);
        assertEquals(sessions, mx.sessions(), "no connection to the MX for a suppressed address");

        String metrics = OpsRig.get(relay.metricsPort(), "/metrics").body();
        assertEquals(1.0, OpsRig.sample(metrics, "signet_events_total{type=\"delivered\"}"));
        assertEquals(1.0, OpsRig.sample(metrics, "signet_bounces_total{class=\"invalid-recipient\"}"));
        assertTrue(OpsRig.sample(metrics, "signet_webhook_deliveries_total{result=\"delivered\"}") >= 5);
        Await.await("backlog drained", Duration.ofSeconds(10), () -> {
          try {
            return OpsRig.sample(OpsRig.get(relay.metricsPort(), "/metrics").body(), "signet_webhook_backlog") == 0;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
      }
    }
  }

  @Test
  void eventsNameTheTlsOfTheDeliveryAndATlsPolicyFailureIsATlsFailedEvent() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    TestCa ca = TestCa.create("Events Test Root");
    try (TestDnsServer dns = TestDnsServer.start();
        WebhookReceiver hook = WebhookReceiver.start(0, SECRET);
        ScriptedMx good = ScriptedMx.start("127.0.0.4", 0).starttls(ca.issue("mx.tls.test"));
        // verify needs a certificate that chains to a trusted root and names the host: this one does neither
        ScriptedMx wrong = ScriptedMx.start("127.0.0.5", good.port()).starttls(ca.issue("other.test"))) {
      dns.add("tls.test. 300 IN MX 10 mx.tls.test.", "mx.tls.test. 300 IN A 127.0.0.4",
          "strict.test. 300 IN MX 10 mx.strict.test.", "mx.strict.test. 300 IN A 127.0.0.5");
      Path config = OpsRig.config(dir, dns, good.port(), "delivery.retry: [1h]",
          "delivery.tls-policy: {strict.test: verify}",
          "events.webhooks: [{url: 'http://127.0.0.1:" + hook.port() + "/hook', secret: '" + SECRET + "'}]");
      try (Relay relay = OpsRig.start(config)) {
        String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "tls events"), "a@tls.test", "b@strict.test");
        assertTrue(reply.startsWith("250"), reply);

        Await.await("delivered, tls-failed and deferred events at the webhook", Duration.ofSeconds(30),
            () -> hook.of("delivered", "a@tls.test").size() == 1 && hook.of("deferred", "b@strict.test").size() == 1
                && hook.of("tls-failed", "b@strict.test").size() == 1);
        assertEquals(0, hook.badSignatures.get());

        // STARTTLS with any certificate meets the default (opportunistic); the protocol is the session's.
        assertEquals(1, good.received().size());
        String protocol = good.received().get(0).tlsProtocol().orElseThrow();
        assertTrue(protocol.startsWith("TLSv1."), protocol);
        JsonNode delivered = hook.of("delivered", "a@tls.test").get(0);
        assertEquals("opportunistic " + protocol, delivered.get("tls").asText(), delivered.toString());
        assertEquals(0, hook.of("tls-failed", "a@tls.test").size());

        // The only MX of strict.test fails delivery.tls-policy verify: no mail to it, and the event says why.
        assertEquals(0, wrong.received().size());
        JsonNode failed = hook.of("tls-failed", "b@strict.test").get(0);
        assertEquals("verify none", failed.get("tls").asText(), failed.toString());
        assertTrue(failed.get("status").asText().startsWith("4.7."), failed.toString());
        assertTrue(failed.get("reply").asText().contains("TLS policy verify for strict.test"), failed.toString());
        assertEquals("tls-failure", failed.get("class").asText(), failed.toString());
        assertEquals("mx.strict.test", failed.get("mx").asText(), failed.toString());
        assertEquals(1, failed.get("attempt").asInt());
        JsonNode deferred = hook.of("deferred", "b@strict.test").get(0);
        assertEquals("verify none", deferred.get("tls").asText(), deferred.toString());
        assertEquals(failed.get("reply"), deferred.get("reply"));
        assertEquals(failed.get("status"), deferred.get("status"));
      }
    }
  }
}
