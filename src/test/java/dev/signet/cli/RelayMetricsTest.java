package dev.signet.cli;

import static dev.signet.cli.OpsRig.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.TestDnsServer;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import dev.signet.queue.Scheduler;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole relay over real sockets: mail in through SMTP, out to a scripted MX found through a test
 * DNS server; the counters on /metrics move by exactly what the traffic was.
 */
class RelayMetricsTest {
  private static final int MESSAGES = 5;
  private static final int RCPTS = 2;

  @TempDir Path dir;
  private TestDnsServer dns;
  private ScriptedMx mx;
  private Relay relay;

  @BeforeEach
  void start() throws Exception {
    dns = TestDnsServer.start();
    int port = OpsRig.freePort();
    dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.2");
    mx = ScriptedMx.start("127.0.0.2", port).hostName("mx.test");
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2026");
    OpsRig.installKey(dir.resolve("keys"), "ed25519.pem", "example.com", "ed2026");
    relay = OpsRig.start(OpsRig.config(dir, dns, port));
  }

  @AfterEach
  void stop() throws Exception {
    if (relay != null) {
      relay.stop(Duration.ofSeconds(2), Duration.ofSeconds(2));
    }
    if (mx != null) {
      mx.close();
    }
    if (dns != null) {
      dns.close();
    }
  }

  private String scrape() throws Exception {
    HttpResponse<String> r = OpsRig.get(relay.metricsPort(), "/metrics");
    assertEquals(200, r.statusCode());
    return r.body();
  }

  @Test
  void countersMoveByExactlyWhatTheTrafficWas() throws Exception {
    String before = scrape();
    assertEquals(0.0, sample(before, "signet_messages_received_total{result=\"accepted\"}"));
    int port = relay.submissionPort();
    for (int i = 0; i < MESSAGES; i++) {
      String reply = OpsRig.send(port, "app@example.com", OpsRig.message("app@example.com", "m" + i),
          "a@dest.test", "b@dest.test");
      assertTrue(reply.startsWith("250 "), reply);
    }
    String bareLf = OpsRig.send(port, "app@example.com", "From: <app@example.com>\r\nSubject: x\r\n\r\nbare\nlf",
        "a@dest.test");
    assertTrue(bareLf.startsWith("550 5.6.0"), bareLf);
    String noKey = OpsRig.send(port, "app@nokey.test", OpsRig.message("app@nokey.test", "no key"), "a@dest.test");
    assertTrue(noKey.startsWith("451 4.3.5"), noKey);

    Await.await("every recipient delivered", Duration.ofSeconds(30),
        () -> mx.copies().size() == MESSAGES * RCPTS && queueEmpty());
    String m = scrape();
    assertEquals(MESSAGES, sample(m, "signet_messages_received_total{result=\"accepted\"}"));
    assertEquals(1.0, sample(m, "signet_messages_received_total{result=\"rejected\"}"));
    assertEquals(1.0, sample(m, "signet_messages_received_total{result=\"deferred\"}"));
    assertEquals(MESSAGES, sample(m, "signet_messages_signed_total{algorithm=\"rsa-sha256\"}"));
    assertEquals(MESSAGES, sample(m, "signet_messages_signed_total{algorithm=\"ed25519-sha256\"}"));
    assertEquals(1.0, sample(m, "signet_messages_unsigned_total{reason=\"no_key_refused\"}"));
    assertEquals(0.0, sample(m, "signet_messages_unsigned_total{reason=\"no_key_relayed\"}"));
    assertEquals(MESSAGES, sample(m, "signet_signing_seconds_count"));
    assertEquals(MESSAGES * RCPTS, sample(m, "signet_deliveries_total{provider=\"default\",result=\"delivered\"}"));
    assertEquals(0.0, sample(m, "signet_deliveries_total{provider=\"default\",result=\"deferred\"}"));
    assertEquals(0.0, sample(m, "signet_deliveries_total{provider=\"default\",result=\"bounced\"}"));
    // One attempt per message: both recipients share the destination domain.
    assertEquals(MESSAGES, sample(m, "signet_delivery_seconds_count"));
    assertEquals(0.0, sample(m, "signet_signature_selfcheck_failures_total"));
    for (String state : new String[] {"active", "ready", "deferred"}) {
      assertEquals(0.0, sample(m, "signet_queue_messages{state=\"" + state + "\"}"), state);
    }
    assertEquals(0.0, sample(m, "signet_queue_oldest_age_seconds"));
  }

  private boolean queueEmpty() {
    try {
      return relay.spool.list().isEmpty();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void queueGaugesShowAMessageWaitingForItsRetry() throws Exception {
    dns.servfail("dest.test"); // temporary DNS failure: the message waits, deferred
    List<Scheduler.Decision> decisions = new CopyOnWriteArrayList<>();
    CountDownLatch attempted = new CountDownLatch(1);
    relay.outbound.scheduler.onDecision(d -> {
      decisions.add(d);
      attempted.countDown();
    });
    String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
        OpsRig.message("app@example.com", "wait"), "a@dest.test");
    assertTrue(reply.startsWith("250 "), reply);
    assertTrue(attempted.await(30, TimeUnit.SECONDS), "the first attempt ended");
    Instant next = decisions.get(0).next().orElseThrow(() -> new AssertionError("not deferred: " + decisions));
    Await.await("the oldest message's age reaches a second", Duration.ofSeconds(30), () -> {
      try {
        return sample(scrape(), "signet_queue_oldest_age_seconds") >= 1.0;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    String m = scrape();
    assertEquals(1, decisions.size(), () -> "attempts ended: " + decisions);
    assertTrue(next.isAfter(Instant.now()), "the retry is still ahead: " + next);
    assertEquals(Optional.of(next), relay.spool.list().get(0).recipients().get(0).nextAttempt(), "as on disk");
    assertEquals(1.0, sample(m, "signet_queue_messages{state=\"deferred\"}"));
    assertEquals(0.0, sample(m, "signet_queue_messages{state=\"active\"}"));
    assertTrue(sample(m, "signet_queue_oldest_age_seconds") >= 1.0, m);
    assertEquals(1.0, sample(m, "signet_deliveries_total{provider=\"default\",result=\"deferred\"}"));
  }

  @Test
  void healthFlipsTo503WhenTheSpoolCannotBeWrittenAndBack() throws Exception {
    assertEquals(200, OpsRig.get(relay.metricsPort(), "/healthz").statusCode());
    Path tmp = dir.resolve("spool/tmp");
    Path aside = dir.resolve("spool/tmp.aside");
    // As root, permissions do not stop writes: make tmp/ a regular file instead.
    Files.move(tmp, aside);
    Files.writeString(tmp, "not a directory");
    try {
      HttpResponse<String> down = OpsRig.get(relay.metricsPort(), "/healthz");
      assertEquals(503, down.statusCode());
      assertTrue(down.body().startsWith("spool: "), down.body());
    } finally {
      Files.delete(tmp);
      Files.move(aside, tmp);
    }
    assertEquals(200, OpsRig.get(relay.metricsPort(), "/healthz").statusCode());
  }

  @Test
  void healthIs503OnceTheListenersStop() throws Exception {
    relay.server.close();
    HttpResponse<String> down = OpsRig.get(relay.metricsPort(), "/healthz");
    assertEquals(503, down.statusCode());
    assertTrue(down.body().contains("listeners: "), down.body());
  }
}
