package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.signet.delivery.TestDnsServer;
import dev.signet.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Events over a recipient's whole life, and a webhook that stays down past events.max-age. */
class EventsLifecycleTest {
  @TempDir Path dir;

  private static double metric(Relay relay, String series) {
    try {
      return OpsRig.sample(OpsRig.get(relay.metricsPort(), "/metrics").body(), series);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aRecipientRetriedPastMaxAgeIsDeferredThenExpiredAndBounced() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    try (TestDnsServer dns = TestDnsServer.start();
        WebhookReceiver hook = WebhookReceiver.start(0, EventsTest.SECRET)) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.5"); // nothing listens
      Path config = OpsRig.config(dir, dns, OpsRig.freePort(), "delivery.retry: [1s]", "delivery.max-age: 2s",
          "events.webhooks: [{url: 'http://127.0.0.1:" + hook.port() + "/hook', secret: '" + EventsTest.SECRET
              + "', types: [deferred, expired, bounced]}]");
      try (Relay relay = OpsRig.start(config)) {
        assertTrue(OpsRig.send(relay.submissionPort(), "app@example.com", OpsRig.message("app@example.com", "late"),
            "slow@dest.test").startsWith("250"));
        Await.await("expired and bounced", Duration.ofSeconds(30),
            () -> !hook.of("bounced", "slow@dest.test").isEmpty() && !hook.of("expired", "slow@dest.test").isEmpty());
        JsonNode deferred = hook.of("deferred", "slow@dest.test").get(0);
        assertEquals("connection-failure", deferred.get("class").asText());
        assertEquals(1, deferred.get("attempt").asInt());
        JsonNode expired = hook.of("expired", "slow@dest.test").get(0);
        assertEquals("connection-failure", expired.get("class").asText(), "expired: the class of the last reply");
        JsonNode bounced = hook.of("bounced", "slow@dest.test").get(0);
        assertEquals("expired", bounced.get("class").asText());
        assertEquals("4.4.7", bounced.get("status").asText());
        assertTrue(hook.of("accepted", "slow@dest.test").isEmpty(), "types: only the types asked for");
        assertEquals(1.0, metric(relay, "signet_bounces_total{class=\"expired\"}"));
      }
    }
  }

  @Test
  void eventsAWebhookCannotTakeWithinMaxAgeAreDroppedAndCounted() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    int down = OpsRig.freePort(); // nothing listens: every POST fails
    Path config = OpsRig.config(dir, null, OpsRig.freePort(), "delivery.retry: [1h]", "events.max-age: 2s",
        "events.webhooks: [{url: 'http://127.0.0.1:" + down + "/hook', secret: '" + EventsTest.SECRET + "'}]");
    try (Relay relay = OpsRig.start(config)) {
      assertTrue(OpsRig.send(relay.submissionPort(), "app@example.com", OpsRig.message("app@example.com", "x"),
          "someone@dest.test").startsWith("250"));
      Await.await("a failed POST", Duration.ofSeconds(20),
          () -> metric(relay, "signet_webhook_deliveries_total{result=\"failed\"}") >= 1);
      Await.await("events dropped after events.max-age", Duration.ofSeconds(30),
          () -> metric(relay, "signet_webhook_deliveries_total{result=\"dropped\"}") >= 1
              && metric(relay, "signet_webhook_backlog") == 0);
      assertEquals(0.0, metric(relay, "signet_webhook_deliveries_total{result=\"delivered\"}"));
    }
  }
}
