package dev.signet.queue;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.Bouncer;
import dev.signet.delivery.DeliveryRequest;
import dev.signet.delivery.DeliveryResult;
import dev.signet.delivery.MessageSource;
import dev.signet.events.BounceRules;
import dev.signet.events.Events;
import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Takes spooled messages to delivery (docs/ARCHITECTURE.md, "The way of one message"): every pending recipient found in the
 * spool at {@link #start}, and every message the submission server {@link #submitted}. A message's
 * pending recipients are grouped by domain; each (message, domain) pair is one job, held in the
 * {@link Jobs} timetable until due by the injected {@link Clock} and then run in {@link Lanes}
 * (bounded total and per domain). Outcomes go to the spool first; deferred recipients come back at
 * their next attempt time. The dispatcher thread waits for each due job; a test on virtual time starts
 * the scheduler {@link #startStepped stepped} (no dispatcher) and runs what is due with {@link #runDue}
 * after moving its clock. Each job's end is a {@link Decision} (when it runs next), reported to
 * {@link #onDecision}. Made with it: the {@link Courier} that runs each attempt, the {@link Outbox}
 * for the mail the relay writes itself, the {@link QueueGauges}, and the {@link QueueCommands} of
 * the admin API.
 */
public final class Scheduler {
  private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);
  /** After the cut-off, attempts get this long to record what they read (and again for the last write). */
  public static final Duration CUT_OFF_GRACE = Duration.ofSeconds(2);

  /** Builds the RFC 3464 reports sent to a message's sender. */
  @FunctionalInterface
  public interface Reports {
    /** The failure report (bounce) for the failed recipients of a finished message. */
    byte[] failureReport(Envelope message, List<Recipient> failed, MessageSource original) throws IOException;

    /** The delay warning for recipients still deferred (delivery.delay-warning); empty = none. */
    default Optional<byte[]> delayWarning(Envelope message, List<Recipient> deferred, MessageSource original,
        Instant retryUntil) throws IOException {
      return Optional.empty();
    }
  }

  /**
   * What the scheduler decided when a job ended: when the pending recipients of message {@code id} at
   * {@code domain} are tried next, empty for never (none pending any more, the message gone, or the
   * scheduler stopping). {@code domain} is {@code "<finish>"} for a job that only finishes a message.
   */
  public record Decision(String id, String domain, Optional<Instant> next) {}

  private final Spool spool;
  private final Clock clock;
  private final MessageLocks locks = new MessageLocks();
  private final Courier courier;
  private final Lanes lanes;
  private final Outbox outbox;
  private final QueueGauges gauges;
  private final QueueCommands commands;
  private final Jobs jobs;
  private volatile boolean stopping;
  private volatile Consumer<Decision> decisions = decision -> {};
  private boolean started;
  private Thread dispatcher;

  /** A scheduler whose bounces are built by the delivery stage's {@link Bouncer}. */
  public Scheduler(SignetConfig config, Spool spool, Function<DeliveryRequest, DeliveryResult> delivery,
      Clock clock, QueueListener listener) {
    this(config, spool, delivery, clock, listener, null);
  }

  /** The same, reporting every recipient's state changes to {@code events} (may be null). */
  public Scheduler(SignetConfig config, Spool spool, Function<DeliveryRequest, DeliveryResult> delivery,
      Clock clock, QueueListener listener, Events events) {
    this(config, spool, delivery, BounceReports.of(new Bouncer(config.hostname(), clock,
        events == null ? BounceRules.shipped() : events.rules())), clock, listener, events);
  }

  /**
   * @param delivery one delivery attempt, e.g. {@code SmtpSender::deliver}
   * @param reports builds the bounce of a message with failed recipients
   * @param listener counts attempts and reads the gauges ({@link QueueListener#NONE}: nobody)
   */
  public Scheduler(SignetConfig config, Spool spool, Function<DeliveryRequest, DeliveryResult> delivery,
      Reports reports, Clock clock, QueueListener listener) {
    this(config, spool, delivery, reports, clock, listener, null);
  }

  /** @param events where recipients' state changes are reported; null = nowhere */
  public Scheduler(SignetConfig config, Spool spool, Function<DeliveryRequest, DeliveryResult> delivery,
      Reports reports, Clock clock, QueueListener listener, Events events) {
    this.spool = spool;
    this.clock = clock;
    this.outbox = new Outbox(config.hostname(), spool, clock);
    this.jobs = new Jobs(clock);
    this.gauges = new QueueGauges(clock, jobs::ranks);
    this.courier = new Courier(config.delivery(), spool, delivery, reports, outbox, gauges::gone, clock,
        listener, locks, new Feedback(events));
    this.lanes = new Lanes(config.delivery().concurrency(), config.delivery().perDomain());
    this.commands = new QueueCommands(spool, locks, this, gauges, clock);
    listener.gauges(gauges);
    spool.onAccept(this::submitted); // new messages, bounces included, are scheduled at once
  }

  /** Where the relay queues the mail it writes itself (TLS reports). */
  public Outbox outbox() {
    return outbox;
  }

  /** The queue commands of this running relay (flush, retry, delete), for its admin API. */
  public QueueCommands commands() {
    return commands;
  }

  /** Schedules every message in the spool and starts delivering. */
  public synchronized void start() throws IOException {
    scheduleQueued();
    dispatcher = Thread.ofPlatform().name("signet-scheduler").daemon().start(this::dispatch);
  }

  /**
   * Schedules every message in the spool, but starts no dispatcher: jobs run only when {@link #runDue}
   * is called, at the time the clock then shows. For tests on virtual time.
   */
  synchronized void startStepped() throws IOException {
    scheduleQueued();
  }

  private void scheduleQueued() throws IOException {
    if (started) {
      throw new IllegalStateException("already started");
    }
    started = true;
    List<Envelope> queued = spool.list();
    for (Envelope envelope : queued) {
      submitted(envelope);
    }
    log.info("scheduler: started with {} queued message(s)", queued.size());
  }

  /**
   * {@code listener} gets the {@link Decision} of every job that ends, on the thread that ran it. It
   * must be quick and must not throw.
   */
  public void onDecision(Consumer<Decision> listener) {
    this.decisions = java.util.Objects.requireNonNull(listener);
  }

  /**
   * A message was accepted into the spool (called through {@link Spool#onAccept}) or changed:
   * schedules its pending recipients.
   */
  public void submitted(Envelope envelope) {
    Instant now = clock.instant();
    gauges.arrived(envelope.id(), envelope.received());
    Map<String, Instant> domains = new HashMap<>();
    for (Recipient r : envelope.recipients()) {
      if (r.state() == State.PENDING) {
        domains.merge(Courier.domain(r.address()), r.nextAttempt().orElse(now),
            (a, b) -> a.isBefore(b) ? a : b);
      }
    }
    if (domains.isEmpty()) {
      jobs.schedule(new Jobs.Key(envelope.id(), Courier.FINISH), now); // all final, not removed yet (crash)
    }
    domains.forEach((domain, at) -> jobs.schedule(new Jobs.Key(envelope.id(), domain), at));
  }

  private void dispatch() {
    try {
      for (Jobs.Key key = jobs.awaitDue(); key != null; key = jobs.awaitDue()) {
        Jobs.Key job = key;
        if (!lanes.submit(job.domain(), () -> run(job))) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // stop()
    }
  }

  /**
   * Runs every job due at the clock's time now, in the lanes as the dispatcher would, and waits until
   * they have ended; returns their decisions (a job that another due entry superseded runs once).
   * Only for a scheduler {@link #startStepped started stepped}: tests move the clock, then run what is due.
   */
  List<Decision> runDue() throws InterruptedException {
    List<Jobs.Key> ready;
    synchronized (this) {
      if (!started || dispatcher != null) {
        throw new IllegalStateException("runDue is for a scheduler started stepped");
      }
      ready = jobs.claimDue();
    }
    ConcurrentLinkedQueue<Decision> ran = new ConcurrentLinkedQueue<>();
    CountDownLatch ended = new CountDownLatch(ready.size());
    for (Jobs.Key key : ready) {
      boolean submitted = lanes.submit(key.domain(), () -> {
        try {
          ran.add(run(key));
        } finally {
          ended.countDown();
        }
      });
      if (!submitted) {
        ended.countDown(); // stopped meanwhile
      }
    }
    ended.await();
    return List.copyOf(ran);
  }

  /** Jobs held or running now (for tests: none left means nothing more can happen). */
  int jobs() {
    return jobs.size();
  }

  /** When the earliest job held (not running) is due; empty with none. For tests on virtual time. */
  Optional<Instant> nextJob() {
    return jobs.earliest();
  }

  private Decision run(Jobs.Key key) {
    Optional<Instant> next = Optional.empty();
    Optional<Instant> scheduled = Optional.empty();
    try {
      if (!stopping) { // handed to a lane just before the stop began: no new attempt once it has
        next = courier.attempt(key.id(), key.domain());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      // The spool could not record an outcome: keep the recipients pending and try again later.
      MDC.put("qid", key.id());
      log.error("delivery domain={} aborted: {}", key.domain(), e.toString());
      MDC.remove("qid");
      next = Optional.of(clock.instant().plus(Duration.ofMinutes(1)));
    } finally {
      scheduled = jobs.finished(key, next);
    }
    Decision decision = new Decision(key.id(), key.domain(), scheduled);
    try {
      decisions.accept(decision);
    } catch (RuntimeException e) {
      log.error("scheduler: decision listener failed: {}", e.toString());
    }
    return decision;
  }

  /**
   * Stops: no new attempt starts; attempts in flight get a bounded time to end (their outcomes are
   * written); the rest stays pending in the spool for the next start.
   */
  public void stop() throws InterruptedException {
    stop(STOP_GRACE);
  }

  public void stop(Duration grace) throws InterruptedException {
    stop(grace, () -> {});
  }

  /**
   * Stops, so that the spool may close once this returns:
   * <ol>
   *   <li>at once, no new attempt starts (jobs due or waiting for a lane stay pending in the spool, as
   *       does mail accepted from now on);
   *   <li>attempts in flight get until {@code grace} (from the call) to end and record their outcomes;
   *   <li>for those still running then, {@code abort} cuts their connections (e.g. {@code
   *       SmtpSender::abort}) and they get {@link #CUT_OFF_GRACE} more to record what they read before
   *       the cut (a 250 already read is recorded as delivered; the deferrals the cut causes are not
   *       recorded: no attempt counted, due at once on the next start);
   *   <li>then no outcome is written any more: an attempt that outlives all this (one stuck where no
   *       socket can be cut, say) finds the spool shut and writes nothing.
   * </ol>
   * At most {@code grace} plus twice {@link #CUT_OFF_GRACE}.
   */
  public void stop(Duration grace, Runnable abort) throws InterruptedException {
    long deadline = System.nanoTime() + grace.toNanos();
    synchronized (this) {
      if (stopping) {
        return;
      }
      stopping = true;
      jobs.close();
    }
    lanes.close();
    if (dispatcher != null) {
      dispatcher.interrupt();
      dispatcher.join(left(deadline));
    }
    if (!lanes.await(left(deadline))) {
      log.warn("scheduler: {} attempt(s) still running after {}; cutting them off, their recipients stay pending",
          lanes.active(), grace);
      courier.cutOff();
      abort.run();
      if (!lanes.await(CUT_OFF_GRACE)) {
        log.warn("scheduler: {} attempt(s) still running {} after the cut-off; their outcomes will not be recorded",
            lanes.active(), CUT_OFF_GRACE);
      }
    }
    if (!courier.shut(CUT_OFF_GRACE)) {
      log.error("scheduler: an outcome was still being written {} after the stop; it may be lost", CUT_OFF_GRACE);
    }
    log.info("scheduler: stopped");
  }

  private static Duration left(long deadline) {
    return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
  }
}
