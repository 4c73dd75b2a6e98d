package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.signet.delivery.TestDnsServer;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * At least once across a crash: {@code signet serve} runs as its own JVM, delivers while the
 * application's webhook is down, and is SIGKILLed; then the webhook and the relay come back, and
 * every event of every message arrives (ids unique, so the receiver can dedupe). The relay logs with
 * conf/logback-json.xml, whose event lines must each be a JSON event.
 */
class EventsCrashTest {
  private static final Pattern QUEUED = Pattern.compile("queued as (\\S+)");

  @TempDir Path dir;

  private static int count(CharSequence log, String needle) {
    return log.toString().split(Pattern.quote(needle), -1).length - 1;
  }

  @Test
  void everyEventArrivesAfterTheRelayIsKilledWhileTheWebhookIsDown() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    int hookPort = OpsRig.freePort(); // nothing listens there until after the kill
    // The MX binds any free port itself: a port found free first can be taken before the bind.
    try (TestDnsServer dns = TestDnsServer.start(); ScriptedMx mx = OpsRig.refusingMx("127.0.0.3", 0)) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.3");
      Path config = OpsRig.config(dir, dns, mx.port(), "delivery.retry: [1h]",
          "events.webhooks: [{url: 'http://127.0.0.1:" + hookPort + "/hook', secret: '" + EventsTest.SECRET + "'}]");
      RelayProcess first = RelayProcess.serve(config, "-Dlogback.configurationFile=conf/logback-json.xml");
      List<String> ids = new ArrayList<>();
      try {
        for (String rcpt : List.of("ok1@dest.test", "ok2@dest.test", "ok3@dest.test", "gone@dest.test")) {
          String reply = OpsRig.send(first.port(), "app@example.com", OpsRig.message("app@example.com", rcpt), rcpt);
          Matcher m = QUEUED.matcher(reply);
          assertTrue(m.find(), reply);
          ids.add(m.group(1));
        }
        first.awaitLog("3 delivered and 1 bounced event, webhook failing",
            () -> count(first.log(), "\"type\":\"delivered\"") == 3 && count(first.log(), "\"type\":\"bounced\"") >= 1
                && first.log().indexOf("retrying") >= 0);
      } finally {
        first.kill();
      }
      for (String line : first.log().toString().split("\n")) {
        if (line.startsWith("{\"id\"")) { // the signet.events lines: each one JSON event
          JsonNode event = new ObjectMapper().readTree(line);
          assertTrue(event.has("type") && event.has("recipient"), line);
        }
      }

      try (WebhookReceiver hook = WebhookReceiver.start(hookPort, EventsTest.SECRET)) {
        RelayProcess second = RelayProcess.serve(config, "-Dlogback.configurationFile=conf/logback-json.xml");
        try {
          Await.await("every message's events at the webhook", Duration.ofSeconds(60), () -> ids.stream().allMatch(
              id -> has(hook, id, "accepted") && (has(hook, id, "delivered") || has(hook, id, "bounced"))));
        } finally {
          second.stop();
        }
        assertEquals(0, hook.badSignatures.get());
        Set<String> eventIds = new HashSet<>();
        for (JsonNode e : hook.events) {
          eventIds.add(e.get("id").asText());
        }
        assertTrue(eventIds.size() >= 8, "4 accepted + 3 delivered + 1 bounced, each with its own id: " + eventIds);
        assertEquals(3, hook.events.stream().filter(e -> e.get("type").asText().equals("delivered"))
            .map(e -> e.get("id").asText()).distinct().count());
      }
    }
  }

  private static boolean has(WebhookReceiver hook, String queueId, String type) {
    return hook.events.stream().anyMatch(e -> e.get("type").asText().equals(type)
        && e.get("queue_id").asText().equals(queueId));
  }
}
