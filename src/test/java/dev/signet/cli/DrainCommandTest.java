package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.TestDnsServer;
import dev.signet.queue.Envelope;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.wiser.Wiser;

/**
 * {@code signet drain} on the spool a stopped relay left behind (the volume of a removed instance):
 * delivers it all and exits 0, or gives up after --max-time with what is left on stderr and exit 3.
 */
class DrainCommandTest {
  @TempDir Path dir;
  private TestDnsServer dns;
  private int port;
  private Wiser mx;

  @BeforeEach
  void start() throws Exception {
    dns = TestDnsServer.start();
    port = OpsRig.freePort();
    dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.2");
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2026");
  }

  @AfterEach
  void stop() {
    if (mx != null) {
      mx.stop();
    }
    dns.close();
  }

  /** A relay, its MX down, takes {@code count} messages, tries each once and stops; returns their ids. */
  private List<String> leftBehind(int count, String retry) throws Exception {
    Path config = OpsRig.config(dir, dns, port, "delivery.retry: [" + retry + "]");
    Relay relay = OpsRig.start(config);
    List<String> ids = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "left behind " + i), "rcpt" + i + "@dest.test");
        assertTrue(reply.startsWith("250 "), reply);
      }
      OpsRig.await("every message tried once", Duration.ofSeconds(30), () -> {
        try {
          List<Envelope> queued = relay.spool.list();
          return queued.size() == count && queued.stream().allMatch(e -> e.recipients().get(0).attempts() == 1);
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
    mx = Wiser.create(SMTPServer.port(port).bindAddress(InetAddress.getByName("127.0.0.2")).hostName("mx.test"));
    mx.start();

    OpsRig.Run run = OpsRig.signet("drain", "--config", dir.resolve("signet.yaml").toString(), "--max-time", "60s");

    assertEquals(0, run.exit(), run.err());
    assertEquals("drained: 3 messages delivered or bounced; the spool is empty\n", run.out());
    assertEquals(3, mx.getMessages().size());
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
