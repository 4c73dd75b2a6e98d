package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.signet.config.SignetConfig;
import dev.signet.delivery.TestDnsServer;
import dev.signet.events.Events;
import dev.signet.message.Dkimpy;
import dev.signet.queue.Envelope;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code signet drain} on the spool a stopped relay left behind (the volume of a removed instance):
 * delivers it all and exits 0, or gives up after --max-time with what is left on stderr and exit 3.
 * It delivers by the relay's rules: bounces signed, every outcome recorded as an event.
 */
class DrainCommandTest {
  @TempDir Path dir;
  private TestDnsServer dns;
  private int port;
  private ScriptedMx mx;

  @BeforeEach
  void start() throws Exception {
    dns = TestDnsServer.start();
    port = OpsRig.freePort();
    dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.2");
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2026");
  }

  @AfterEach
  void stop() throws IOException {
    if (mx != null) {
      mx.close();
    }
    dns.close();
  }

  /** A relay, its MX down, takes {@code count} messages, tries each once and stops; returns their ids. */
  private List<String> leftBehind(int count, String retry) throws Exception {
    List<List<String>> recipients = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      recipients.add(List.of("rcpt" + i + "@dest.test"));
    }
    return leftBehind(recipients, "delivery.retry: [" + retry + "]");
  }

  /**
   * A relay configured with {@code settings}, its MX down, takes one message per entry of {@code recipients},
   * tries each once and stops; returns their ids.
   */
  private List<String> leftBehind(List<List<String>> recipients, String... settings) throws Exception {
    Path config = OpsRig.config(dir, dns, port, settings);
    Relay relay = OpsRig.start(config);
    List<String> ids = new ArrayList<>();
    try {
      for (int i = 0; i < recipients.size(); i++) {
        String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "left behind " + i), recipients.get(i).toArray(String[]::new));
        assertTrue(reply.startsWith("250 "), reply);
      }
      Await.await("every message tried once", Duration.ofSeconds(30), () -> {
        try {
          List<Envelope> queued = relay.spool.list();
          return queued.size() == recipients.size() && queued.stream()
              .allMatch(e -> e.recipients().stream().allMatch(r -> r.attempts() == 1));
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      relay.spool.list().forEach(e -> ids.add(e.id()));
    } finally {
      relay.stop(Duration.ofSeconds(2), Duration.ofSeconds(2));
    }
    return ids;
  }

  @Test
  void drainDeliversTheSpoolAndExitsZeroWhenItIsEmpty() throws Exception {
    leftBehind(3, "1s");
    mx = ScriptedMx.start("127.0.0.2", port).hostName("mx.test");

    OpsRig.Run run = OpsRig.signet("drain", "--config", dir.resolve("signet.yaml").toString(), "--max-time", "60s");

    assertEquals(0, run.exit(), run.err());
    assertEquals("drained: 3 messages delivered or bounced; the spool is empty\n", run.out());
    assertEquals(3, mx.copies().size());
    OpsRig.Run list = OpsRig.signet("queue", "list", "--config", dir.resolve("signet.yaml").toString());
    assertEquals("0 messages in the queue\n", list.out());
  }

  @Test
  void drainGivesUpAfterMaxTimeListingWhatIsLeft() throws Exception {
    List<String> ids = leftBehind(2, "1h"); // nothing is due again within the drain's time

    long start = System.nanoTime();
    OpsRig.Run run = OpsRig.signet("drain", "--config", dir.resolve("signet.yaml").toString(), "--max-time", "2s");
    double took = (System.nanoTime() - start) / 1e9;

    assertEquals(DrainCommand.LEFT_OVER, run.exit(), run.out() + run.err());
    assertTrue(took >= 2 && took < 30, "took " + took + " s");
    assertTrue(run.err().contains("signet drain: 2 messages still queued after 2s:\n"), run.err());
    for (String id : ids) {
      assertTrue(run.err().contains(id + "  <app@example.com>  pending=1"), run.err());
    }
    OpsRig.Run list = OpsRig.signet("queue", "list", "--config", dir.resolve("signet.yaml").toString());
    assertTrue(list.out().endsWith("2 messages in the queue\n"), "nothing lost: " + list.out());
  }

  @Test
  void drainSendsSignedBouncesAndRecordsTheEvents() throws Exception {
    // The sender's domain takes the bounce at its own MX; MAILER-DAEMON@example.com signs with example.com's key.
    dns.add("example.com. 300 IN MX 10 mx.example.com.", "mx.example.com. 300 IN A 127.0.0.3");
    List<String> ids = leftBehind(List.of(List.of("ok@dest.test", "gone@dest.test")), "delivery.retry: [1s]",
        "bounce.from: example.com");
    ScriptedMx senderMx = ScriptedMx.start("127.0.0.3", port).hostName("mx.example.com");
    try (ScriptedMx refusing = OpsRig.refusingMx("127.0.0.2", port)) { // 550 5.1.1 for gone@
      OpsRig.Run run = OpsRig.signet("drain", "--config", dir.resolve("signet.yaml").toString(), "--max-time", "60s");

      assertEquals(0, run.exit(), run.out() + run.err());
      assertEquals(List.of("ok@dest.test"), refusing.delivered());
    } finally {
      senderMx.close();
    }
    assertEquals(1, senderMx.copies().size(), "one bounce");
    ScriptedMx.Copy bounce = senderMx.copies().get(0);
    String text = new String(bounce.data(), StandardCharsets.UTF_8);
    assertTrue(text.contains("From: Mail Delivery System <MAILER-DAEMON@example.com>"), text);
    assertTrue(text.contains("\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;"), text);
    assertEquals(List.of("ok"), Dkimpy.verify(bounce.data(), dir.resolve("keys"), dir), text);

    SignetConfig c = SignetConfig.load(Optional.of(dir.resolve("signet.yaml")), Map.of());
    List<JsonNode> events = new ArrayList<>();
    try (Events store = Events.start(c, c.spool().dir(), new SimpleMeterRegistry(), Clock.systemUTC())) {
      for (String json : store.recent(Instant.EPOCH, 1000)) {
        events.add(new ObjectMapper().readTree(json));
      }
    }
    JsonNode delivered = only(events, "delivered", "ok@dest.test");
    assertEquals(ids.get(0), delivered.get("queue_id").asText());
    assertEquals(2, delivered.get("attempt").asInt(), "the relay's attempt, then the drain's");
    JsonNode bounced = only(events, "bounced", "gone@dest.test");
    assertEquals(ids.get(0), bounced.get("queue_id").asText());
    assertEquals("5.1.1", bounced.get("status").asText());
    assertEquals("invalid-recipient", bounced.get("class").asText());
    only(events, "dsn-sent", "gone@dest.test");
    only(events, "delivered", "app@example.com"); // the bounce itself
  }

  /** The one event of {@code type} for {@code recipient}. */
  private static JsonNode only(List<JsonNode> events, String type, String recipient) {
    List<JsonNode> found = events.stream()
        .filter(e -> e.get("type").asText().equals(type) && e.get("recipient").asText().equals(recipient)).toList();
    assertEquals(1, found.size(), type + " " + recipient + " in " + events);
    return found.get(0);
  }

  @Test
  void aSourceAddressOfAnotherMachineStopsTheStartNamingTheKey() throws Exception {
    leftBehind(1, "1h");
    Path config = OpsRig.config(dir, dns, port, "delivery.source-addresses: [192.0.2.25]"); // TEST-NET-1: bound, never used
    OpsRig.Run run = OpsRig.signet("drain", "--config", config.toString(), "--max-time", "5s");
    assertEquals(1, run.exit(), run.out() + run.err());
    assertTrue(run.err().contains("delivery.source-addresses: 192.0.2.25 is not an address of this machine"), run.err());
    OpsRig.Run list = OpsRig.signet("queue", "list", "--config", config.toString());
    assertTrue(list.out().endsWith("1 message in the queue\n"), "nothing lost: " + list.out());
  }

  @Test
  void aBadShapingFileStopsTheStartNamingFileLineAndKey() throws Exception {
    Path shaping = dir.resolve("my-shaping.yaml");
    java.nio.file.Files.writeString(shaping, "providers:\n  google:\n    conections: 3\n");
    Path config = OpsRig.config(dir, dns, port, "delivery.shaping: " + shaping);
    OpsRig.Run run = OpsRig.signet("drain", "--config", config.toString());
    assertEquals(1, run.exit());
    assertTrue(run.err().contains("delivery.shaping: " + shaping + ":3: providers.google.conections: unknown key"),
        run.err());
    java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> OpsRig.start(config));
    assertTrue(e.getMessage().contains(shaping + ":3: providers.google.conections"), e.getMessage());
  }
}
