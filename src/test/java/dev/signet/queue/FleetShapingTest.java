package dev.signet.queue;

import static dev.signet.testkit.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.SmtpSender;
import dev.signet.metrics.Metrics;
import dev.signet.shaping.RedisServer;
import dev.signet.shaping.Shaping;
import dev.signet.testkit.ScriptedMx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two relays (each its own spool, sender and scheduler) sharing their shaping counters through a real
 * redis-server: together they keep one provider budget; with Redis gone, each keeps its share and
 * delivery goes on.
 */
class FleetShapingTest {
  private static final Duration WAIT = Duration.ofSeconds(40);

  @TempDir Path root;
  private QueueRig rig;
  private RedisServer redis;
  private Spool spoolB;
  private SmtpSender senderB;
  private Scheduler schedulerB;
  private final List<Shaping> shapings = new ArrayList<>();
  /** No test here expects a bounce; one built anyway is counted and fails the test. */
  private final QueueRig.NoBounces noBounces = new QueueRig.NoBounces();

  @BeforeEach
  void start() throws Exception {
    rig = new QueueRig(root);
    rig.concurrency = 20;
    rig.perDomain = 5;
    Files.createDirectories(root.resolve("redis"));
    redis = RedisServer.start(root.resolve("redis"));
  }

  @AfterEach
  void stop() throws Exception {
    if (schedulerB != null) {
      schedulerB.stop(Duration.ofSeconds(10));
      senderB.close();
      spoolB.close();
    }
    rig.close();
    shapings.forEach(Shaping::close);
    redis.close();
    assertEquals(0, noBounces.built(), "bounces built");
  }

  private Shaping shaping(Metrics metrics) throws Exception {
    Path file = root.resolve("shaping.yaml");
    Files.writeString(file, "fleet-size: 2\nproviders:\n  google:\n    connections: 2\n    rate: 10/second\n");
    Shaping s = Shaping.load(Optional.of(file), Optional.of(redis.uri()), Clock.systemUTC(), metrics);
    shapings.add(s);
    return s;
  }

  /** Relay A is the rig's; relay B runs beside it on its own spool. */
  private void startFleet(Metrics metricsB) throws Exception {
    rig.shaping = shaping(null);
    rig.startRelay(noBounces);
    SignetConfig a = rig.config();
    SignetConfig b = a.toBuilder().spool(new SignetConfig.Spool(root.resolve("spool-b"))).build();
    spoolB = Spool.open(root.resolve("spool-b"));
    senderB = new SmtpSender(b, shaping(metricsB));
    schedulerB = new Scheduler(b, spoolB, senderB::deliver, noBounces, Clock.systemUTC(),
        metricsB == null ? dev.signet.queue.QueueListener.NONE : metricsB.queue());
    schedulerB.start();
  }

  private List<String> googleDomains(int count) {
    rig.dns.add("aspmx.l.google.com. 300 IN A 127.0.0.2");
    List<String> domains = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      rig.dns.add("d" + i + ".test. 300 IN MX 10 aspmx.l.google.com.");
      domains.add("d" + i + ".test");
    }
    return domains;
  }

  private void sendToBoth(List<String> domains, int each) throws Exception {
    for (int i = 0; i < each; i++) {
      rig.send(rig.spool, "app@example.com", "a" + i + "@" + domains.get(i % domains.size()));
      rig.send(spoolB, "app@example.com", "b" + i + "@" + domains.get((i + 1) % domains.size()));
    }
  }

  private boolean bothEmpty() {
    try {
      return rig.queued() == 0 && spoolB.list().isEmpty();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void twoRelaysSharingRedisStayWithinOneBudget() throws Exception {
    List<String> domains = googleDomains(4);
    ScriptedMx google = rig.scripted("127.0.0.2");
    google.delay(".", Duration.ofMillis(30));
    startFleet(null);

    sendToBoth(domains, 20);

    await("40 messages delivered", WAIT, () -> google.received().size() == 40 && bothEmpty());
    assertTrue(google.maxOpenSessions() <= 2, "sessions at once from both relays: " + google.maxOpenSessions());
    // One bucket of 10 at 10/s for the fleet: 40 messages take at least 3 s (two budgets: 1 s).
    double spread = (google.arrivals().get(39) - google.arrivals().get(0)) / 1e9;
    assertTrue(spread >= 2.9, "40 messages in " + spread + " s");
  }

  @Test
  void withRedisDownBothRelaysDeliverOnTheirShares() throws Exception {
    List<String> domains = googleDomains(4);
    ScriptedMx google = rig.scripted("127.0.0.2");
    google.delay(".", Duration.ofMillis(30));
    Metrics metricsB = new Metrics();
    redis.stop();
    startFleet(metricsB);

    sendToBoth(domains, 10);

    await("20 messages delivered", WAIT, () -> google.received().size() == 20 && bothEmpty());
    assertTrue(google.maxOpenSessions() <= 2, "one session each (half of 2): " + google.maxOpenSessions());
    String scrape = ((io.micrometer.prometheusmetrics.PrometheusMeterRegistry) metricsB.registry()).scrape();
    assertTrue(scrape.contains("signet_shaping_redis_up 0.0"), scrape);
  }
}
