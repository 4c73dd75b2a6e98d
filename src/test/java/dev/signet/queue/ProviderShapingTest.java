package dev.signet.queue;

import static dev.signet.testkit.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.metrics.Metrics;
import dev.signet.shaping.Shaping;
import dev.signet.testkit.ScriptedMx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Traffic shaping end to end: real DNS serving MX records under the providers' suffixes, one receiving
 * MTA per provider on loopback that answers as the provider does when pressed, the real sender and
 * scheduler. Several recipient domains share one provider's budget; holds never bounce mail.
 */
class ProviderShapingTest {
  private static final Duration WAIT = Duration.ofSeconds(40);

  @TempDir Path root;
  private QueueRig rig;
  /** No test here expects a bounce; one built anyway is counted and fails the test. */
  private final QueueRig.NoBounces noBounces = new QueueRig.NoBounces();

  @BeforeEach
  void start() throws Exception {
    rig = new QueueRig(root);
    rig.concurrency = 20;
    rig.perDomain = 5;
    rig.metrics = new Metrics();
  }

  @AfterEach
  void stop() throws Exception {
    rig.close();
    assertEquals(0, noBounces.built(), "bounces built");
  }

  /** {@code count} domains d0.test.. whose MX is {@code mxHost}, at {@code address}. */
  private List<String> domains(int count, String mxHost, String address) {
    rig.dns.add(mxHost + ". 300 IN A " + address);
    List<String> domains = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String d = "d" + i + ".test";
      rig.dns.add(d + ". 300 IN MX 10 " + mxHost + ".");
      domains.add(d);
    }
    return domains;
  }

  private void shaping(String yaml) throws Exception {
    Path file = root.resolve("shaping.yaml");
    Files.writeString(file, yaml);
    rig.shaping = Shaping.load(Optional.of(file), Optional.empty(), Clock.systemUTC(), rig.metrics);
  }

  private List<Envelope> sendAround(List<String> domains, int messages) throws Exception {
    List<Envelope> sent = new ArrayList<>();
    for (int i = 0; i < messages; i++) {
      sent.add(rig.send("app@example.com", "rcpt" + i + "@" + domains.get(i % domains.size())));
    }
    return sent;
  }

  private double scraped(String sample) {
    String text = ((io.micrometer.prometheusmetrics.PrometheusMeterRegistry) rig.metrics.registry()).scrape();
    for (String line : text.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    throw new AssertionError("no sample " + sample + " in\n" + text);
  }

  @Test
  void connectionsAndRateHoldForAProviderAcrossItsDomains() throws Exception {
    shaping("providers:\n  google:\n    connections: 2\n    rate: 10/second\n");
    List<String> domains = domains(6, "aspmx.l.google.com", "127.0.0.2");
    ScriptedMx google = rig.scripted("127.0.0.2");
    google.delay(".", Duration.ofMillis(30)); // attempts overlap
    rig.startRelay(noBounces);

    sendAround(domains, 40);

    await("40 messages delivered", WAIT, () -> google.received().size() == 40 && rig.queued() == 0);
    assertTrue(google.maxOpenSessions() <= 2, "sessions at once: " + google.maxOpenSessions());
    // Token bucket of 10 refilling at 10/s: the 40th message is at least 3 s after the first.
    List<Long> t = google.arrivals();
    double spread = (t.get(39) - t.get(0)) / 1e9;
    assertTrue(spread >= 2.9, "40 messages in " + spread + " s");
    for (int i = 0; i < t.size(); i++) {
      int inSecond = 0;
      for (long other : t) {
        if (other >= t.get(i) && other < t.get(i) + TimeUnit.SECONDS.toNanos(1)) {
          inSecond++;
        }
      }
      assertTrue(inSecond <= 20, inSecond + " messages in the second from arrival " + i); // burst 10 + 10 refilled
    }
    assertTrue(scraped("signet_shaping_throttled_total{provider=\"google\"}") > 0);
    assertEquals(40.0, scraped("signet_deliveries_total{provider=\"google\",result=\"delivered\"}"));
  }

  @Test
  void aGmail421SuspendsGoogleAndEveryMessageArrivesAfterwards() throws Exception {
    shaping("providers:\n  google:\n    connections: 1\nbackoff:\n  google-unsolicited-rate:\n    for: 2s\n");
    List<String> domains = domains(3, "gmail-smtp-in.l.google.com", "127.0.0.2");
    ScriptedMx google = rig.scripted("127.0.0.2").limitPerSession(3,
        "421 4.7.28 [127.0.0.1] Our system has detected an unusual rate of unsolicited mail originating from "
            + "your IP address. To protect our users from spam, mail sent from your IP address has been "
            + "temporarily rate limited. - gsmtp");
    // All 7 queued before the relay starts. Where the 421 falls still depends on the sessions: a job for
    // another of the three domains can close the idle connection and open its own, which the MX counts from
    // 0 again. So the check is per 421: nothing arrives within the suspension after it.
    List<Envelope> sent = new ArrayList<>();
    try (Spool before = Spool.open(rig.spoolDir)) {
      for (int i = 0; i < 7; i++) {
        sent.add(rig.send(before, "app@example.com", "rcpt" + i + "@" + domains.get(i % domains.size())));
      }
    }
    rig.startRelay(noBounces);

    await("7 messages delivered", WAIT, () -> google.received().size() == 7 && rig.queued() == 0);
    assertTrue(google.refusedMail() >= 1, "refused: " + google.refusedMail());
    List<Long> arrivals = google.arrivals();
    for (long refused : google.refusals()) {
      for (int i = 0; i < arrivals.size(); i++) {
        double after = (arrivals.get(i) - refused) / 1e9;
        assertTrue(after < 0 || after >= 2.0,
            "message " + (i + 1) + " came " + after + " s after a 421 instead of after the suspension");
      }
    }
    assertTrue(arrivals.get(6) - google.refusals().get(0) >= TimeUnit.SECONDS.toNanos(2), "the rest came afterwards");
    assertTrue(scraped("signet_shaping_throttled_total{provider=\"google\"}") > 0);
    assertEquals(0.0, scraped("signet_shaping_suspended{provider=\"google\"}"), "lifted by itself");
    assertEquals(0.0, scraped("signet_deliveries_total{provider=\"google\",result=\"bounced\"}"));
    assertEquals(7, sent.size());
  }

  @Test
  void aYahooGreetingRefusalSuspendsYahooBeforeAnotherSessionStarts() throws Exception {
    // One connection: the other deliveries wait for its place, which the refused session gives back.
    shaping("providers:\n  yahoo:\n    connections: 1\nbackoff:\n  yahoo-deferred:\n    for: 2s\n");
    List<String> domains = domains(4, "mta5.am0.yahoodns.net", "127.0.0.4");
    ScriptedMx yahoo = rig.scripted("127.0.0.4").reply("GREETING", "421 4.7.0 [TSS04] Messages from 127.0.0.1 "
        + "temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; "
        + "see https://postmaster.yahooinc.com/error-codes");
    try (Spool before = Spool.open(rig.spoolDir)) {
      for (int i = 0; i < 4; i++) {
        rig.send(before, "app@example.com", "rcpt" + i + "@" + domains.get(i));
      }
    }
    rig.startRelay(noBounces);

    await("a refused greeting", WAIT, () -> !yahoo.refusedGreetings().isEmpty());
    yahoo.reply("GREETING", null);
    await("4 messages delivered", WAIT, () -> yahoo.received().size() == 4 && rig.queued() == 0);
    long refused = yahoo.refusedGreetings().get(0);
    List<Long> sessions = yahoo.connected();
    for (int i = 0; i < sessions.size(); i++) {
      double after = (sessions.get(i) - refused) / 1e9;
      assertTrue(after < 0 || after >= 2.0, "session " + (i + 1) + " began " + after + " s after the 421 greeting "
          + "instead of after the suspension");
    }
    assertEquals(1, yahoo.refusedGreetings().size(), "greetings refused: " + yahoo.refusedGreetings().size());
    assertTrue(scraped("signet_shaping_throttled_total{provider=\"yahoo\"}") > 0);
    assertEquals(0.0, scraped("signet_deliveries_total{provider=\"yahoo\",result=\"bounced\"}"));
  }

  @Test
  void microsoftServerBusyKeepsMailQueuedThenDeliversItOnFewerConnections() throws Exception {
    List<String> domains = domains(6, "contoso-test.mail.protection.outlook.com", "127.0.0.3");
    ScriptedMx microsoft = rig.scripted("127.0.0.3").reply("MAIL", "451 4.7.500 Server busy. Please try again later from [127.0.0.1]. (S77719)");
    microsoft.delay(".", Duration.ofMillis(50));
    rig.startRelay(noBounces); // the shipped rules: microsoft-throttled = 2 connections for 15 minutes

    sendAround(domains, 30);

    await("refusals seen", WAIT, () -> microsoft.refusedMail() >= 6);
    microsoft.reply("MAIL", null);
    microsoft.resetMaxInData();
    await("30 messages delivered", WAIT, () -> microsoft.received().size() == 30 && rig.queued() == 0);
    assertTrue(microsoft.maxInData() <= 2, "transactions at once after the 451s: " + microsoft.maxInData());
    assertTrue(microsoft.openSessions() <= 2, "sessions kept open: " + microsoft.openSessions());
    assertEquals(30.0, scraped("signet_deliveries_total{provider=\"microsoft\",result=\"delivered\"}"));
    assertEquals(0.0, scraped("signet_deliveries_total{provider=\"microsoft\",result=\"bounced\"}"));
  }

  @Test
  void heldBackMailCountsNoAttemptAndWaitsForTheHoldsEnd() throws Exception {
    shaping("providers:\n  google:\n    rate: 1/hour\n");
    List<String> domains = domains(2, "aspmx.l.google.com", "127.0.0.2");
    ScriptedMx google = rig.scripted("127.0.0.2");
    rig.startRelay(noBounces);

    Envelope first = rig.send("app@example.com", "a@" + domains.get(0));
    await("first delivered", WAIT, () -> google.received().size() == 1 && rig.onDisk(first.id()) == null);
    Envelope second = rig.send("app@example.com", "b@" + domains.get(1));
    await("second held", WAIT, () -> !rig.onDisk(second.id()).recipients().get(0).lastReply().isEmpty());

    Envelope.Recipient r = rig.onDisk(second.id()).recipients().get(0);
    assertEquals(0, r.attempts(), "a hold is no attempt");
    assertTrue(r.lastReply().contains("held back by shaping: provider google rate 1/hour until"), r.lastReply());
    Duration wait = Duration.between(java.time.Instant.now(), r.nextAttempt().orElseThrow());
    assertTrue(wait.compareTo(Duration.ofMinutes(59)) > 0 && wait.compareTo(Duration.ofMinutes(73)) < 0, "due in " + wait);
    assertEquals(1, google.received().size());
  }

  @Test
  void heldBackMailStillExpiresAtMaxAge() throws Exception {
    shaping("providers:\n  google:\n    rate: 1/hour\n");
    List<String> domains = domains(1, "aspmx.l.google.com", "127.0.0.2");
    ScriptedMx google = rig.scripted("127.0.0.2");
    rig.maxAge = Duration.ofSeconds(2);
    AtomicInteger expired = new AtomicInteger();
    rig.startRelay((message, failed, file) -> {
      expired.addAndGet(failed.size());
      assertTrue(failed.get(0).lastReply().contains("held back by shaping"), failed.get(0).lastReply());
      return "From: <>\r\nSubject: expired\r\n\r\nexpired\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    });

    Envelope first = rig.send("app@example.com", "a@" + domains.get(0));
    await("first delivered", WAIT, () -> google.received().size() == 1 && rig.onDisk(first.id()) == null);
    Envelope second = rig.send("app@example.com", "b@" + domains.get(0));

    await("second expired at max-age", WAIT, () -> expired.get() == 1);
    assertEquals(1, google.received().size());
  }

  @Test
  void aBriefHoldLeavesTheEnvelopeOnDiskAsItWas() throws Exception {
    shaping("providers:\n  google:\n    rate: 2/minute\n"); // one token every 30 s
    List<String> domains = domains(1, "aspmx.l.google.com", "127.0.0.2");
    ScriptedMx google = rig.scripted("127.0.0.2");
    rig.startRelay(noBounces);

    for (int i = 0; i < 2; i++) {
      rig.send("app@example.com", "a" + i + "@" + domains.get(0));
    }
    await("two delivered", WAIT, () -> google.received().size() == 2);
    Envelope third = rig.send("app@example.com", "c@" + domains.get(0));
    await("third held", WAIT, () -> scraped("signet_shaping_throttled_total{provider=\"google\"}") >= 1);

    Envelope.Recipient r = rig.onDisk(third.id()).recipients().get(0);
    assertEquals(Envelope.Recipient.pending(r.address()), r, "a brief hold writes nothing (no fsync per hold)");
    assertEquals(2, google.received().size());
  }
}
