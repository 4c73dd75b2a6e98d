package dev.signet.queue;

import static dev.signet.testkit.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.queue.Envelope.State;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * From the spool to receiving MTAs over real sockets and real DNS: which MX gets the message, what a
 * deferral leaves on disk, retries, restarts. Every message that arrives is checked with jDKIM: the
 * bytes on the wire are the signed bytes.
 */
class SchedulerDeliveryTest {
  private static final Duration WAIT = Duration.ofSeconds(15);

  @TempDir Path root;
  private QueueRig rig;
  /** No test here expects a bounce; one built anyway is counted and fails the test. */
  private final QueueRig.NoBounces noBounces = new QueueRig.NoBounces();

  @BeforeEach
  void start() throws Exception {
    rig = new QueueRig(root);
  }

  @AfterEach
  void stop() throws Exception {
    rig.close();
    assertEquals(0, noBounces.built(), "bounces built");
  }

  private void assertSignedAndIntact(List<ScriptedMx.Copy> messages) throws Exception {
    for (ScriptedMx.Copy m : messages) {
      assertTrue(rig.verifies(m.data()), () -> "jDKIM rejects:\n" + new String(m.data()));
    }
  }

  @Test
  void theLowestPreferenceMxReceivesTheMessage() throws Exception {
    rig.mx("dest.test", 20, "127.0.0.3");
    rig.mx("dest.test", 10, "127.0.0.2");
    ScriptedMx primary = rig.scripted("127.0.0.2");
    ScriptedMx backup = rig.scripted("127.0.0.3");
    rig.startRelay(noBounces);

    Envelope sent = rig.send("app@example.com", "rcpt@dest.test");

    await("message removed from the spool", WAIT, () -> rig.onDisk(sent.id()) == null);
    assertEquals(1, primary.copies().size());
    assertEquals(0, backup.copies().size());
    assertEquals("app@example.com", primary.copies().get(0).from());
    assertSignedAndIntact(primary.copies());
  }

  @Test
  void aDeadPreferredMxMovesDeliveryToTheNextMx() throws Exception {
    rig.mx("dest.test", 10, "127.0.0.4"); // nothing listens there
    rig.mx("dest.test", 20, "127.0.0.3");
    ScriptedMx backup = rig.scripted("127.0.0.3");
    rig.startRelay(noBounces);

    Envelope sent = rig.send("app@example.com", "a@dest.test", "b@dest.test");

    await("message delivered", WAIT, () -> rig.onDisk(sent.id()) == null);
    assertEquals(2, backup.copies().size());
    assertSignedAndIntact(backup.copies());
  }

  /** The one decision of a run of due jobs. */
  private static Scheduler.Decision only(List<Scheduler.Decision> decisions) {
    assertEquals(1, decisions.size(), () -> "jobs run: " + decisions);
    return decisions.get(0);
  }

  /** After {@code decision}, the next attempt is at its time (±20% jitter of {@code backoff} from now). */
  private void assertRetryIn(Duration backoff, Scheduler.Decision decision, String id) {
    Instant next = decision.next().orElseThrow(() -> new AssertionError("no next attempt: " + decision));
    Instant now = rig.clock.instant();
    assertTrue(!next.isBefore(now.plus(backoff.multipliedBy(4).dividedBy(5)))
        && !next.isAfter(now.plus(backoff.multipliedBy(6).dividedBy(5))), "next attempt " + next + ", now " + now);
    assertEquals(decision.next(), rig.onDisk(id).recipients().get(0).nextAttempt(), "the time on disk is the time scheduled");
  }

  /** Nothing runs before {@code next}; at {@code next} the job runs. Returns its decision. */
  private Scheduler.Decision runAt(Instant next) throws Exception {
    rig.clock.advanceTo(next.minusMillis(1));
    assertEquals(List.of(), rig.runDue(), "nothing is due a millisecond early");
    rig.clock.advanceTo(next);
    return only(rig.runDue());
  }

  @Test
  void allMxDownDefersWithTheAttemptCountOnDiskThenDeliversWhenAnMxComesUp() throws Exception {
    rig.clock = new TestClock(Instant.now());
    rig.retry = List.of(Duration.ofMinutes(5));
    rig.mx("dest.test", 10, "127.0.0.5");
    rig.startRelay(noBounces);

    Envelope sent = rig.send("app@example.com", "rcpt@dest.test");

    Scheduler.Decision first = only(rig.runDue());
    assertRetryIn(Duration.ofMinutes(5), first, sent.id());
    Scheduler.Decision second = runAt(first.next().orElseThrow());
    assertRetryIn(Duration.ofMinutes(5), second, sent.id());
    Envelope.Recipient deferred = rig.onDisk(sent.id()).recipients().get(0);
    assertEquals(State.PENDING, deferred.state());
    assertEquals(2, deferred.attempts());
    assertTrue(deferred.lastReply().startsWith("4"), deferred.lastReply());
    String file = Files.readString(rig.spoolDir.resolve("queue/" + sent.id() + ".env"));
    assertTrue(file.matches("(?s).*\nrcpt PENDING 2 \\S+ rcpt@dest.test .*"), file);

    ScriptedMx mx = rig.scripted("127.0.0.5");
    assertEquals(Optional.empty(), runAt(second.next().orElseThrow()).next(), "delivered: no next attempt");
    assertEquals(null, rig.onDisk(sent.id()));
    assertEquals(1, mx.copies().size());
    assertSignedAndIntact(mx.copies());
    rig.assertIdle();
  }

  @Test
  void aTemporaryRcptRefusalIsRetriedUntilAccepted() throws Exception {
    rig.clock = new TestClock(Instant.now());
    rig.mx("dest.test", 10, "127.0.0.2");
    ScriptedMx mx = rig.scripted("127.0.0.2")
        .script("rcpt@dest.test", "451 4.7.1 greylisted, try again later", "452 4.2.2 mailbox full");
    rig.startRelay(noBounces);

    Envelope sent = rig.send("app@example.com", "rcpt@dest.test");

    Scheduler.Decision first = only(rig.runDue());
    assertRetryIn(rig.retry.get(0), first, sent.id());
    assertEquals(1, mx.rcptCommands());
    Scheduler.Decision second = runAt(first.next().orElseThrow());
    assertRetryIn(rig.retry.get(1), second, sent.id());
    assertEquals(Optional.empty(), runAt(second.next().orElseThrow()).next(), "delivered on the third attempt");
    assertEquals(null, rig.onDisk(sent.id()));
    assertEquals(3, mx.rcptCommands());
    assertEquals(1, mx.received().size());
    assertEquals(List.of("rcpt@dest.test"), mx.received().get(0).recipients());
    assertTrue(rig.verifies(mx.received().get(0).data()));
  }

  @Test
  void theNextAttemptFollowsTheRetryScheduleWhoseLastIntervalRepeats() throws Exception {
    rig.clock = new TestClock(Instant.now());
    rig.retry = List.of(Duration.ofMinutes(1), Duration.ofHours(1));
    rig.mx("dest.test", 10, "127.0.0.5"); // down
    rig.startRelay(noBounces);

    Envelope sent = rig.send("app@example.com", "rcpt@dest.test");

    Scheduler.Decision first = only(rig.runDue());
    assertRetryIn(Duration.ofMinutes(1), first, sent.id());
    Scheduler.Decision second = runAt(first.next().orElseThrow()); // nothing a millisecond before it
    assertEquals(2, rig.onDisk(sent.id()).recipients().get(0).attempts());
    assertRetryIn(Duration.ofHours(1), second, sent.id());
    Scheduler.Decision third = runAt(second.next().orElseThrow());
    assertEquals(3, rig.onDisk(sent.id()).recipients().get(0).attempts());
    assertRetryIn(Duration.ofHours(1), third, sent.id()); // the last interval repeats
  }

  @Test
  void aRestartMidQueueNeverSendsToADeliveredRecipientAgain() throws Exception {
    rig.clock = new TestClock(Instant.now());
    rig.retry = List.of(Duration.ofMinutes(5));
    rig.mx("one.test", 10, "127.0.0.2");
    rig.mx("two.test", 10, "127.0.0.3"); // down for now
    ScriptedMx one = rig.scripted("127.0.0.2");
    rig.startRelay(noBounces);

    Envelope sent = rig.send("app@example.com", "a@one.test", "b@two.test");
    assertEquals(2, rig.runDue().size(), "one job per domain");
    Envelope e = rig.onDisk(sent.id());
    assertEquals(State.DELIVERED, e.recipients().get(0).state());
    assertEquals(1, e.recipients().get(1).attempts());
    rig.stopRelay();

    ScriptedMx two = rig.scripted("127.0.0.3");
    rig.startRelay(noBounces);
    assertEquals(List.of(), rig.runDue(), "b is not due before its next attempt");
    rig.clock.advanceTo(e.recipients().get(1).nextAttempt().orElseThrow());
    Scheduler.Decision b = only(rig.runDue());
    assertEquals("two.test", b.domain(), "only b's domain is tried again");
    assertEquals(null, rig.onDisk(sent.id()), "b delivered after the restart");
    rig.assertIdle();
    assertEquals(1, one.copies().size(), "a@one.test received once");
    assertEquals(1, two.copies().size(), "b@two.test received once");
    assertSignedAndIntact(one.copies());
    assertSignedAndIntact(two.copies());
  }

  @Test
  void messagesQueuedBeforeStartAreDeliveredAtStart() throws Exception {
    rig.mx("dest.test", 10, "127.0.0.2");
    ScriptedMx mx = rig.scripted("127.0.0.2");
    rig.spool = Spool.open(rig.spoolDir);
    Envelope first = rig.send("app@example.com", "a@dest.test");
    Envelope second = rig.send("app@example.com", "b@dest.test");
    rig.spool.close();
    rig.spool = null;

    rig.startRelay(noBounces);

    await("both delivered", WAIT, () -> rig.onDisk(first.id()) == null && rig.onDisk(second.id()) == null);
    assertEquals(2, mx.copies().size());
  }

  @Test
  void deliveriesToOneDomainStayWithinThePerDomainLimit() throws Exception {
    rig.perDomain = 2;
    rig.mx("dest.test", 10, "127.0.0.2");
    ScriptedMx mx = rig.scripted("127.0.0.2");
    mx.delay(".", Duration.ofMillis(150));
    rig.startRelay(noBounces);

    for (int i = 0; i < 10; i++) {
      rig.send("app@example.com", "r" + i + "@dest.test");
    }

    await("10 delivered and removed", WAIT, () -> mx.received().size() == 10 && rig.queued() == 0);
    assertEquals(2, mx.maxInData(), "transactions in DATA at once");
    for (ScriptedMx.Received r : mx.received()) {
      assertTrue(rig.verifies(r.data()));
    }
  }

  @Test
  void queueGaugesAndDeliveryCountersFollowTheQueue() throws Exception {
    rig.clock = new TestClock(Instant.now());
    rig.metrics = new dev.signet.metrics.Metrics();
    rig.retry = List.of(Duration.ofHours(1));
    rig.mx("dest.test", 10, "127.0.0.5"); // down
    rig.mx("ok.test", 10, "127.0.0.2");
    rig.scripted("127.0.0.2");
    rig.startRelay(noBounces);
    var registry = rig.metrics.registry();

    rig.send("app@example.com", "a@dest.test");
    rig.send("app@example.com", "b@ok.test");
    assertEquals(2, registry.get("signet.queue.messages").tag("state", "ready").gauge().value(), "both due");

    assertEquals(2, rig.runDue().size());
    rig.clock.advance(Duration.ofSeconds(90));
    assertEquals(1, rig.queued(), "one delivered and gone, one deferred to later");
    assertEquals(1, registry.get("signet.queue.messages").tag("state", "deferred").gauge().value());
    assertEquals(90.0, registry.get("signet.queue.oldest.age").gauge().value(), "seconds since both arrived");
    assertEquals(1, registry.get("signet.deliveries").tag("result", "delivered").counter().count());
    assertEquals(1, registry.get("signet.deliveries").tag("result", "deferred").counter().count());
    assertEquals(0, registry.get("signet.queue.messages").tag("state", "active").gauge().value());
    assertEquals(0, registry.get("signet.queue.messages").tag("state", "ready").gauge().value());
    assertEquals(2, registry.get("signet.delivery").timer().count());
  }

  @Test
  void deliveriesAcrossDomainsStayWithinTheTotalLimit() throws Exception {
    rig.concurrency = 3;
    rig.perDomain = 10;
    ScriptedMx mx = rig.scripted("127.0.0.2");
    mx.delay(".", Duration.ofMillis(150));
    for (int d = 0; d < 4; d++) {
      rig.mx("d" + d + ".test", 10, "127.0.0.2");
    }
    rig.startRelay(noBounces);

    for (int i = 0; i < 16; i++) {
      rig.send("app@example.com", "r" + i + "@d" + (i % 4) + ".test");
    }

    await("16 delivered and removed", WAIT, () -> mx.received().size() == 16 && rig.queued() == 0);
    assertEquals(3, mx.maxInData(), "transactions in DATA at once, over all domains");
  }

  @Test
  void concurrentDomainsOfOneMessageLoseNoOutcome() throws Exception {
    rig.clock = new TestClock(Instant.now());
    rig.retry = List.of(Duration.ofMillis(200));
    String[] recipients = new String[8];
    for (int i = 0; i < recipients.length; i++) {
      rig.mx("d" + i + ".test", 10, "127.0.0.2"); // eight domains, delivered in parallel
      recipients[i] = "r@d" + i + ".test";
    }
    ScriptedMx mx = rig.scripted("127.0.0.2");
    rig.startRelay(noBounces);

    Envelope sent = rig.send("app@example.com", recipients);

    assertEquals(8, rig.runDue().size(), "one job per domain, run side by side");
    assertEquals(null, rig.onDisk(sent.id()), "all delivered and removed");
    rig.assertIdle(); // a lost update would leave a recipient pending: it would be sent again
    assertEquals(8, mx.copies().size());
    assertEquals(8, mx.copies().stream().map(ScriptedMx.Copy::recipient).distinct().count());
  }

  @Test
  void retryIntervalsGetUpToAFifthOfJitterEitherWay() {
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (int i = 0; i < 1000; i++) {
      long ms = Courier.jittered(Duration.ofSeconds(100)).toMillis();
      assertTrue(ms >= 80_000 && ms <= 120_000, ms + " ms");
      seen.add(ms / 1000);
    }
    assertTrue(seen.size() > 20, "spread over the range: " + seen.size() + " distinct seconds");
  }
}
