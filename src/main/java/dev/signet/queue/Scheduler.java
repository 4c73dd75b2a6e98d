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
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Takes spooled messages to delivery (docs/ARCHITECTURE.md, "The way of one message"): every pending recipient found in the
 * spool at {@link #start}, and every message the submission server {@link #submitted}. A message's
 * pending recipients are grouped by domain; each (message, domain) pair is one job, kept in a
 * {@link DelayQueue} until due and then run in {@link Lanes} (bounded total and per domain). Outcomes
 * go to the spool first; deferred recipients come back at their next attempt time. Beside it, made
 * with it: the {@link Courier} that runs each attempt, the {@link Outbox} for the mail the relay
 * writes itself, the {@link QueueGauges}, and the {@link QueueCommands} of the admin API.
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

  /** One job: a message's recipients at one domain. */
  private record Key(String id, String domain) {}

  private record Due(Key key, long generation, long atNanos) implements Delayed {
    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(atNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
      return Long.compare(atNanos, ((Due) other).atNanos);
    }
  }

  /** A job's scheduling state: queued (generation matches the Due), or running (rerun later if asked). */
  private static final class Slot {
    long generation;
    Instant at;
    boolean running;
    Instant rerunAt;
  }

  private final Spool spool;
  private final Clock clock;
  private final MessageLocks locks = new MessageLocks();
  private final Courier courier;
  private final Lanes lanes;
  private final Outbox outbox;
  private final QueueGauges gauges;
  private final QueueCommands commands;
  private final DelayQueue<Due> due = new DelayQueue<>();
  private final Map<Key, Slot> slots = new HashMap<>();
  private long generations;
  private volatile boolean stopping;
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
    this.gauges = new QueueGauges(clock, this::ranks);
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
    if (dispatcher != null) {
      throw new IllegalStateException("already started");
    }
    List<Envelope> queued = spool.list();
    for (Envelope envelope : queued) {
      submitted(envelope);
    }
    log.info("scheduler: started with {} queued message(s)", queued.size());
    dispatcher = Thread.ofPlatform().name("signet-scheduler").daemon().start(this::dispatch);
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
      schedule(new Key(envelope.id(), Courier.FINISH), now); // all final, not removed yet (crash)
    }
    domains.forEach((domain, at) -> schedule(new Key(envelope.id(), domain), at));
  }

  private synchronized void schedule(Key key, Instant at) {
    if (stopping) {
      return;
    }
    Slot slot = slots.get(key);
    if (slot != null && slot.running) {
      slot.rerunAt = slot.rerunAt == null || at.isBefore(slot.rerunAt) ? at : slot.rerunAt;
      return;
    }
    if (slot != null && !at.isBefore(slot.at)) {
      return; // already due earlier
    }
    if (slot == null) {
      slot = new Slot();
      slots.put(key, slot);
    }
    slot.generation = ++generations;
    slot.at = at;
    long delay = Math.max(0, Duration.between(clock.instant(), at).toNanos());
    due.add(new Due(key, slot.generation, System.nanoTime() + delay));
  }

  /** Takes a due entry for running; false if it was superseded. */
  private synchronized boolean claim(Due d) {
    Slot slot = slots.get(d.key());
    if (slot == null || slot.running || slot.generation != d.generation()) {
      return false;
    }
    slot.running = true;
    slot.rerunAt = null;
    return true;
  }

  private synchronized void finished(Key key, Optional<Instant> next) {
    Slot slot = slots.remove(key);
    Instant rerun = slot == null ? null : slot.rerunAt;
    if (next.isPresent() && (rerun == null || next.get().isBefore(rerun))) {
      rerun = next.get();
    }
    if (rerun != null) {
      schedule(key, rerun);
    }
  }

  private void dispatch() {
    try {
      while (!stopping) {
        Due d = due.take();
        if (d == null || !claim(d)) {
          continue;
        }
        if (!lanes.submit(d.key().domain(), () -> run(d.key()))) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // stop()
    }
  }

  private void run(Key key) {
    Optional<Instant> next = Optional.empty();
    try {
      if (stopping) {
        return; // handed to a lane just before the stop began: no new attempt once it has
      }
      next = courier.attempt(key.id(), key.domain());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      // The spool could not record an outcome: keep the recipients pending and try again later.
      MDC.put("qid", key.id());
      log.error("delivery domain={} aborted: {}", key.domain(), e.toString());
      MDC.remove("qid");
      next = Optional.of(clock.instant().plus(Duration.ofMinutes(1)));
    } finally {
      finished(key, next);
    }
  }

  /**
   * For the gauges: per message with a job, the rank of its most advanced job at {@code now}: 0 in an
   * attempt, 1 due and waiting for a lane, 2 deferred to later (indexes into {@link QueueGauges#STATES}).
   */
  private synchronized Map<String, Integer> ranks(Instant now) {
    Map<String, Integer> rank = new HashMap<>();
    for (Map.Entry<Key, Slot> e : slots.entrySet()) {
      Slot slot = e.getValue();
      int r = slot.running ? 0 : slot.at.isAfter(now) ? 2 : 1;
      rank.merge(e.getKey().id(), r, Math::min);
    }
    return rank;
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
      due.clear();
      slots.clear();
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
