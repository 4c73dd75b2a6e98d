package dev.signet.queue;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.Bouncer;
import dev.signet.delivery.DeliveryRequest;
import dev.signet.delivery.DeliveryResult;
import dev.signet.delivery.MessageSource;
import dev.signet.events.BounceRules;
import dev.signet.events.Events;
import dev.signet.metrics.Metrics;
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
import java.util.concurrent.ConcurrentHashMap;
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
 * go to the spool first; deferred recipients come back at their next attempt time. {@link #flush},
 * {@link #retry} and {@link #delete} are the queue commands of a running relay (its admin API).
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

  private final String hostname;
  private final Spool spool;
  private final Clock clock;
  private final Reports reports;
  private final MessageLocks locks = new MessageLocks();
  private final Courier courier;
  private final Lanes lanes;
  private final DelayQueue<Due> due = new DelayQueue<>();
  private final Map<Key, Slot> slots = new HashMap<>();
  /** Messages in the queue and when they arrived, for the queue gauges. */
  private final Map<String, Instant> known = new ConcurrentHashMap<>();
  private long generations;
  private volatile boolean stopping;
  private Thread dispatcher;

  /** A scheduler whose bounces are built by the delivery stage's {@link Bouncer}. */
  public Scheduler(SignetConfig config, Spool spool, Function<DeliveryRequest, DeliveryResult> delivery,
      Clock clock, Metrics metrics) {
    this(config, spool, delivery, clock, metrics, null);
  }

  /** The same, reporting every recipient's state changes to {@code events} (may be null). */
  public Scheduler(SignetConfig config, Spool spool, Function<DeliveryRequest, DeliveryResult> delivery,
      Clock clock, Metrics metrics, Events events) {
    this(config, spool, delivery, BounceReports.of(new Bouncer(config.hostname(), clock,
        events == null ? BounceRules.shipped() : events.rules())), clock, metrics, events);
  }

  /**
   * @param delivery one delivery attempt, e.g. {@code SmtpSender::deliver}
   * @param reports builds the bounce of a message with failed recipients
   * @param metrics may be null
   */
  public Scheduler(SignetConfig config, Spool spool, Function<DeliveryRequest, DeliveryResult> delivery,
      Reports reports, Clock clock, Metrics metrics) {
    this(config, spool, delivery, reports, clock, metrics, null);
  }

  /** @param events where recipients' state changes are reported; null = nowhere */
  public Scheduler(SignetConfig config, Spool spool, Function<DeliveryRequest, DeliveryResult> delivery,
      Reports reports, Clock clock, Metrics metrics, Events events) {
    this.hostname = config.hostname();
    this.spool = spool;
    this.clock = clock;
    this.reports = reports;
    this.courier = new Courier(config.delivery(), spool, delivery, reports, this::queueReport, known::remove, clock,
        metrics, locks, new Feedback(events));
    this.lanes = new Lanes(config.delivery().concurrency(), config.delivery().perDomain());
    if (metrics != null) {
      metrics.queueGauges(this, STATES, Scheduler::messages, Scheduler::oldestAgeSeconds);
    }
    spool.onAccept(this::submitted); // new messages, bounces included, are scheduled at once
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
    known.put(envelope.id(), envelope.received());
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

  /** Queues a report to {@code recipient} with the null sender (RFC 5321 §4.5.5); returns its queue id. */
  private String queueReport(byte[] report, String recipient) throws IOException {
    return queueGenerated(report, "", recipient);
  }

  /**
   * Queues a message the relay wrote itself (already signed), e.g. a TLS report, from {@code sender} to
   * {@code recipient}; it is delivered like any accepted message. Returns its queue id.
   */
  public String queueGenerated(byte[] message, String sender, String recipient) throws IOException {
    byte[] report = message;
    try (Incoming in = spool.receive()) {
      in.headers(report); // the whole report; Incoming writes it as one block
      Envelope envelope = Envelope.received(in.id(), sender, List.of(recipient), "127.0.0.1",
          Optional.of(hostname), Optional.empty(), clock.instant(), in.size(), List.of());
      spool.accept(in, envelope); // scheduled through Spool.onAccept
      return in.id();
    }
  }

  /** signet_queue_messages{state}: in an attempt now, due and waiting for a slot, deferred to later. */
  static final List<String> STATES = List.of("active", "ready", "deferred");

  /** Messages whose most advanced job is in {@code state} (a message with several domains counts once). */
  synchronized int messages(String state) {
    Instant now = clock.instant();
    Map<String, Integer> rank = new HashMap<>();
    for (Map.Entry<Key, Slot> e : slots.entrySet()) {
      Slot slot = e.getValue();
      int r = slot.running ? 0 : slot.at.isAfter(now) ? 2 : 1;
      rank.merge(e.getKey().id(), r, Math::min);
    }
    int wanted = STATES.indexOf(state);
    return (int) rank.values().stream().filter(r -> r == wanted).count();
  }

  double oldestAgeSeconds() {
    Instant now = clock.instant();
    return known.values().stream().min(Instant::compareTo)
        .map(t -> Math.max(0, Duration.between(t, now).toMillis() / 1000.0)).orElse(0.0);
  }

  /** Makes every pending recipient of every queued message due now; returns how many messages. */
  public int flush() throws IOException, InterruptedException {
    int n = 0;
    for (Envelope e : spool.list()) {
      if (retryNow(e.id())) {
        n++;
      }
    }
    log.info("queue: flushed {} message(s)", n);
    return n;
  }

  /** Makes the pending recipients of {@code id} due now; false if there is no such message. */
  public boolean retry(String id) throws IOException, InterruptedException {
    boolean found = QueueId.isValid(id) && retryNow(id);
    if (found) {
      MDC.put("qid", id);
      log.info("queue: retry requested");
      MDC.remove("qid");
    }
    return found;
  }

  /**
   * Removes {@code id} from the queue without a bounce (an attempt under way finds it gone and
   * records nothing); empty if there is no such message.
   */
  @SuppressWarnings("try") // the resource is the message lock, held for the block
  public Optional<Envelope> delete(String id) throws IOException, InterruptedException {
    if (!QueueId.isValid(id)) {
      return Optional.empty();
    }
    try (MessageLocks.Held held = locks.lock(id)) {
      Envelope deleted = QueueControl.deleteFrom(spool, id);
      known.remove(deleted.id());
      MDC.put("qid", id);
      log.info("queue: {}", QueueControl.describeDeleted(deleted));
      MDC.remove("qid");
      return Optional.of(deleted);
    } catch (QueueControl.UnknownMessageException e) {
      return Optional.empty();
    }
  }

  @SuppressWarnings("try")
  private boolean retryNow(String id) throws IOException, InterruptedException {
    Envelope updated;
    try (MessageLocks.Held held = locks.lock(id)) {
      updated = QueueControl.retryNow(spool, id, clock.instant());
    } catch (QueueControl.UnknownMessageException e) {
      return false;
    }
    submitted(updated);
    return true;
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
