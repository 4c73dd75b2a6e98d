package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.TestDnsServer;
import dev.signet.queue.Envelope;
import dev.signet.queue.Spool;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stopping the relay while deliveries are in flight (docs/ARCHITECTURE.md, "Guarantees": a stop
 * loses nothing, and a restart never re-sends to a recipient already delivered): no attempt starts once the stop begins, attempts in flight get the stop's whole
 * delivery budget and their outcomes are recorded, and one still waiting at the end is cut off so
 * that it cannot complete unrecorded. Each test restarts the relay on the same spool afterwards.
 */
class StopDuringDeliveryTest {
  @TempDir Path dir;
  private TestDnsServer dns;
  private ScriptedMx mx;
  private Path config;
  private Relay relay;

  @BeforeEach
  void start() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2026");
    dns = TestDnsServer.start();
    dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.1");
    mx = ScriptedMx.start("127.0.0.1", 0);
    config = OpsRig.config(dir, dns, mx.port());
  }

  @AfterEach
  void stop() throws Exception {
    if (relay != null) {
      relay.stop(Duration.ofSeconds(1), Duration.ofSeconds(1));
    }
    mx.close();
    dns.close();
  }

  @Test
  void anAttemptInFlightIsWaitedForAndRecordedSoARestartDoesNotResendIt() throws Exception {
    mx.delay(".", Duration.ofSeconds(5)); // longer than the 3 s deliveries used to get
    relay = OpsRig.start(config);
    assertTrue(submit(relay).startsWith("250 "));
    Await.await("the data reached the MX", Duration.ofSeconds(15), () -> mx.dataEnded() == 1);

    long t0 = System.nanoTime();
    relay.close(); // the production budget, as on SIGTERM
    relay = null;
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    assertEquals(1, mx.received().size(), "the MX answered 250 within the stop");
    assertTrue(millis < 30_000, "stop took " + millis + " ms");
    try (Spool spool = Spool.open(dir.resolve("spool"))) {
      assertEquals(List.of(), spool.list(), "delivered and removed before the spool closed");
    }
    mx.delay(".", Duration.ZERO);
    relay = OpsRig.start(config);
    Await.await("queue empty after restart", Duration.ofSeconds(15), () -> queued(relay).isEmpty());
    assertEquals(1, mx.dataEnded(), "the recipient got the message again after the restart");
  }

  @Test
  void anAttemptOutlastingTheGraceIsCutOffUnrecordedAndDeliveredAfterRestart() throws Exception {
    mx.hold("."); // never answers the final "."
    relay = OpsRig.start(config);
    assertTrue(submit(relay).startsWith("250 "));
    Await.await("the data reached the MX", Duration.ofSeconds(15), () -> mx.dataEnded() == 1);

    long t0 = System.nanoTime();
    relay.stop(Duration.ofSeconds(1), Duration.ofSeconds(2));
    relay = null;
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    assertTrue(millis < 6_000, "stop took " + millis + " ms for a 2 s delivery grace");
    // Once the spool is closed, no reply may still be able to end the transaction.
    Await.await("the relay closed the session waiting for the reply to the data", Duration.ofSeconds(2),
        () -> mx.cutOff() == 1);
    assertEquals(0, mx.received().size());
    try (Spool spool = Spool.open(dir.resolve("spool"))) {
      List<Envelope> queued = spool.list();
      assertEquals(1, queued.size());
      Envelope.Recipient r = queued.get(0).recipients().get(0);
      assertEquals(Envelope.State.PENDING, r.state());
      assertEquals(0, r.attempts(), "an attempt cut off by the stop is not the remote's doing and costs no retry");
    }

    mx.delay(".", Duration.ZERO);
    relay = OpsRig.start(config);
    Await.await("delivered after restart", Duration.ofSeconds(15), () -> queued(relay).isEmpty());
    assertEquals(1, mx.received().size());
  }

  @Test
  void mailAcceptedWhileSessionsDrainWaitsInTheSpoolForTheNextStart() throws Exception {
    relay = OpsRig.start(config);
    Relay stopping = relay;
    int port = relay.submissionPort();
    String id;
    try (Socket client = new Socket("127.0.0.1", port)) {
      client.setSoTimeout(20_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream out = client.getOutputStream();
      assertTrue(OpsRig.reply(in).startsWith("220"));
      for (String c : List.of("EHLO client.test", "MAIL FROM:<app@example.com>", "RCPT TO:<a@dest.test>")) {
        OpsRig.write(out, c + "\r\n");
        assertTrue(OpsRig.reply(in).startsWith("250"), c);
      }
      OpsRig.write(out, "DATA\r\n");
      assertTrue(OpsRig.reply(in).startsWith("354"));
      Thread stopper = Thread.ofPlatform().start(() -> stopping.stop(Duration.ofSeconds(15), Duration.ofSeconds(2)));
      Await.await("the listener turns new sessions away", Duration.ofSeconds(5), () -> turnedAway(port));
      OpsRig.write(out, OpsRig.message("app@example.com", "during the drain") + ".\r\n");
      String done = OpsRig.reply(in);
      assertTrue(done.startsWith("250 "), done);
      id = done.substring(done.lastIndexOf(' ') + 1);
      stopper.join(TimeUnit.SECONDS.toMillis(20));
      assertTrue(!stopper.isAlive(), "stopped within the grace");
    }
    relay = null;
    assertEquals(0, mx.dataEnded(), "a delivery attempt started after the stop began");
    try (Spool spool = Spool.open(dir.resolve("spool"))) {
      assertEquals(List.of(id), spool.list().stream().map(Envelope::id).toList());
    }
    relay = OpsRig.start(config);
    Await.await("delivered after restart", Duration.ofSeconds(15), () -> queued(relay).isEmpty());
    assertEquals(1, mx.received().size());
  }

  private static String submit(Relay relay) throws IOException {
    return OpsRig.send(relay.submissionPort(), "app@example.com",
        OpsRig.message("app@example.com", "in flight at the stop"), "a@dest.test");
  }

  /** A new session is refused or greeted with 421: the stop is under way. */
  private static boolean turnedAway(int port) {
    try (Socket late = new Socket("127.0.0.1", port)) {
      late.setSoTimeout(5_000);
      return OpsRig.reply(new BufferedReader(new InputStreamReader(late.getInputStream(), StandardCharsets.US_ASCII)))
          .startsWith("421");
    } catch (IOException refused) {
      return true;
    }
  }

  private static List<Envelope> queued(Relay relay) {
    try {
      return relay.spool.list();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
