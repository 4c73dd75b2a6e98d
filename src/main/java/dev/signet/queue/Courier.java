package dev.signet.queue;

import dev.signet.config.PrivateFiles;
import dev.signet.config.SignetConfig;
import dev.signet.delivery.DeliveryRequest;
import dev.signet.delivery.DeliveryResult;
import dev.signet.delivery.MessageSource;
import dev.signet.delivery.RecipientOutcome;
import dev.signet.delivery.Reply;
import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One delivery attempt of one message to one destination domain, and what follows from it: the
 * outcome of every recipient is written to the spool (under the message's lock, merged into the
 * latest envelope, since other domains of the same message are delivered concurrently) before
 * anything else happens; once no recipient is pending, the bounce is queued and the message removed.
 * A stopping scheduler shuts these writes off before the spool closes ({@link #shut}).
 */
final class Courier {
  private static final Logger log = LoggerFactory.getLogger(Courier.class);

  /** Stands for "no domain: only finish the message" in a scheduling key (no address contains '<'). */
  static final String FINISH = "<finish>";

  private final SignetConfig.Delivery settings;
  private final Spool spool;
  private final Function<DeliveryRequest, DeliveryResult> delivery;
  private final Scheduler.Reports reports;
  private final Outbox outbox;
  private final Path warned;
  private final Consumer<String> removed;
  private final Clock clock;
  private final QueueListener listener;
  private final MessageLocks locks;
  private final Feedback feedback;
  private final OutcomeGate gate = new OutcomeGate();

  Courier(SignetConfig.Delivery settings, Spool spool, Function<DeliveryRequest, DeliveryResult> delivery,
      Scheduler.Reports reports, Outbox outbox, Consumer<String> removed, Clock clock, QueueListener listener,
      MessageLocks locks, Feedback feedback) {
    this.settings = settings;
    this.spool = spool;
    this.delivery = delivery;
    this.reports = reports;
    this.outbox = outbox;
    this.warned = spool.dir().resolve("warned");
    this.removed = removed;
    this.clock = clock;
    this.listener = listener;
    this.locks = locks;
    this.feedback = feedback;
  }

  /** The lower-cased domain of an address (RFC 5321 §2.4: domains are case-insensitive). */
  static String domain(String address) {
    return address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
  }

  /**
   * Tries {@code id}'s pending recipients at {@code domain} ({@link #FINISH}: none, only finish).
   *
   * @return when this domain's recipients are due again; empty when none is pending any more, or
   *     when the stop shut the spool to outcomes meanwhile
   */
  @SuppressWarnings("try") // the resources are the message lock, held for each block
  Optional<Instant> attempt(String id, String domain) throws IOException, InterruptedException {
    MDC.put("qid", id);
    try {
      Envelope envelope;
      List<String> addresses;
      MessageSource message;
      if (!gate.enter()) {
        return Optional.empty(); // stopping: the recipients stay as they are on disk
      }
      try (MessageLocks.Held held = locks.lock(id)) {
        envelope = spool.envelope(id);
        Instant now = clock.instant();
        List<Recipient> pending = pending(envelope, domain);
        if (pending.isEmpty()) {
          return finishIfDone(envelope);
        }
        Instant due = pending.stream().map(r -> r.nextAttempt().orElse(now)).min(Instant::compareTo).orElseThrow();
        if (due.isAfter(now)) {
          return Optional.of(due); // rescheduled meanwhile (a deferral raced with a flush)
        }
        addresses = List.copyOf(pending.stream().map(Recipient::address).collect(Collectors.toCollection(LinkedHashSet::new)));
        message = spool.message(envelope);
      } finally {
        gate.exit();
      }
      String messageId = feedback.messageId(message);
      long start = System.nanoTime();
      DeliveryResult result = delivery.apply(new DeliveryRequest(id, envelope.sender(), addresses, message));
      listener.attemptTook(System.nanoTime() - start);
      if (!gate.enter()) {
        // Only when an attempt outlived the stop's whole grace and its cut-off: whatever it got is lost
        // to the closed spool, and the recipients go out again on the next start.
        log.warn("delivery domain={} rcpts={} result=discarded: the spool closed before the outcome could be recorded",
            domain, addresses.size());
        return Optional.empty();
      }
      try {
        return record(id, domain, addresses, result, messageId);
      } finally {
        gate.exit();
      }
    } catch (NoSuchFileException e) {
      return Optional.empty(); // deleted (queue delete) before the attempt
    } finally {
      MDC.remove("qid");
    }
  }

  /** Writes the outcomes of an attempt, then finishes the message if nothing is left pending. */
  @SuppressWarnings("try")
  private Optional<Instant> record(String id, String domain, List<String> addresses, DeliveryResult result,
      String messageId) throws IOException, InterruptedException {
    try (MessageLocks.Held held = locks.lock(id)) {
      Envelope latest;
      try {
        latest = spool.envelope(id);
      } catch (NoSuchFileException e) {
        log.info("delivery domain={} rcpts={} result=discarded: message was deleted during the attempt",
            domain, addresses.size());
        return Optional.empty();
      }
      Envelope updated = merge(latest, domain, result, clock.instant());
      if (gate.cuttingOff() && updated.recipients().equals(latest.recipients())) {
        log.info("delivery domain={} rcpts={} result=cut-off: the relay is stopping; recipients stay pending as they were",
            domain, addresses.size());
        return Optional.empty();
      }
      Optional<Instant> brief = briefHold(latest, updated, result);
      if (brief.isPresent()) {
        return brief;
      }
      boolean done = updated.finished();
      feedback.attempt(latest, updated, messageId, result, clock.instant()); // events before the outcome
      if (!done || bounces(updated)) {
        // RFC 5321 §6.1: the outcome is on disk before anything else happens. A finished message
        // without a bounce skips the rewrite: its removal below is the durable record.
        spool.update(updated);
      }
      logAttempt(domain, addresses.size(), result, updated);
      if (done) {
        return finishIfDone(updated);
      }
      Instant now = clock.instant(); // no next time: a deferral the stop cut off was not recorded
      Optional<Instant> next = pending(updated, domain).stream()
          .map(r -> r.nextAttempt().orElse(now)).min(Instant::compareTo);
      warnIfDelayed(updated);
      return next;
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** Holds shorter than this are not written to the spool (see {@link #briefHold}). */
  static final Duration BRIEF_HOLD = Duration.ofMinutes(1);

  /**
   * A hold by traffic shaping of less than {@link #BRIEF_HOLD} (a rate token or a connection a moment
   * away) that settled no recipient: nothing worth an fsync happened (no attempt is counted, and after
   * a crash the recipients are simply due at once), so the envelope is not rewritten and the job comes
   * back at the hold's end from memory. Longer holds (suspensions) are written, so that {@code signet
   * queue list} shows them. Empty when the outcome must be written as usual.
   */
  private Optional<Instant> briefHold(Envelope latest, Envelope updated, DeliveryResult result) {
    Instant now = clock.instant();
    Optional<Instant> until = result.heldUntil();
    if (until.isEmpty() || !until.get().isBefore(now.plus(BRIEF_HOLD)) || !result.delivered().isEmpty()
        || !result.failed().isEmpty()) {
      return Optional.empty();
    }
    long settledBefore = latest.recipients().stream().filter(r -> r.state() != State.PENDING).count();
    long settledAfter = updated.recipients().stream().filter(r -> r.state() != State.PENDING).count();
    if (settledAfter != settledBefore) {
      return Optional.empty(); // expired at max-age meanwhile: written and bounced as usual
    }
    return until;
  }

  /** The stop's grace ran out: attempts still running are being cut off (see {@link OutcomeGate}). */
  void cutOff() {
    gate.cutOff();
  }

  /**
   * No outcome is written after this returns true; waits up to {@code wait} for the writes under way.
   *
   * @return false if a write was still under way after {@code wait}
   */
  boolean shut(Duration wait) throws InterruptedException {
    return gate.shut(wait);
  }

  private static List<Recipient> pending(Envelope envelope, String domain) {
    return envelope.recipients().stream()
        .filter(r -> r.state() == State.PENDING && domain(r.address()).equals(domain)).toList();
  }

  /**
   * The latest envelope with this attempt's outcomes applied to the recipients still pending (but no
   * deferral once the stop cuts attempts off).
   */
  Envelope merge(Envelope latest, String domain, DeliveryResult result, Instant now) {
    Optional<Instant> held = result.heldUntil();
    Map<String, RecipientOutcome> outcomes = result.outcomes().stream()
        .collect(Collectors.toMap(RecipientOutcome::recipient, o -> o, (a, b) -> a));
    Instant deadline = latest.received().plus(settings.maxAge());
    List<Recipient> updated = new ArrayList<>(latest.recipients().size());
    for (Recipient r : latest.recipients()) {
      RecipientOutcome o = r.state() == State.PENDING && domain(r.address()).equals(domain)
          ? outcomes.get(r.address()) : null;
      if (o instanceof RecipientOutcome.Deferred && gate.cuttingOff()) {
        o = null; // the stop closed the connection: not the remote's doing, no attempt counted
      }
      updated.add(o == null ? r : switch (o) {
        case RecipientOutcome.Delivered d -> r.delivered(d.reply());
        case RecipientOutcome.Failed f -> r.failed(f.reply());
        case RecipientOutcome.Deferred d -> held.isPresent()
            ? held(r, d.reply(), held.get(), now, deadline)
            : deferred(r, d.reply(), now, deadline);
      });
    }
    return latest.withRecipients(updated);
  }

  /**
   * Still pending with one more attempt counted, next try after the backoff (delivery.retry, the last
   * interval repeating) but never later than the max-age deadline; past that deadline, failed.
   */
  private Recipient deferred(Recipient r, Reply reply, Instant now, Instant deadline) {
    if (!now.isBefore(deadline)) {
      return r.expiredWith(reply);
    }
    List<Duration> retry = settings.retry();
    Duration backoff = jittered(retry.get(Math.min(r.attempts(), retry.size() - 1)));
    Instant next = now.plus(backoff);
    return r.deferred(reply, next.isAfter(deadline) ? deadline : next);
  }

  /**
   * {@code backoff} ±20% at random: relays (or a fleet of instances) that met the same outage
   * together do not all come back at the same instant.
   */
  static Duration jittered(Duration backoff) {
    double factor = 0.8 + 0.4 * java.util.concurrent.ThreadLocalRandom.current().nextDouble();
    return Duration.ofNanos((long) (backoff.toNanos() * factor));
  }

  /**
   * Held back by traffic shaping: no attempt was made, so none is counted and the retry schedule does
   * not advance; due again when the hold ends. The max-age deadline still applies (past it, failed).
   */
  private static Recipient held(Recipient r, Reply reply, Instant until, Instant now, Instant deadline) {
    if (!now.isBefore(deadline)) {
      return r.expiredWith(reply);
    }
    return r.held(reply, until.isAfter(deadline) ? deadline : until);
  }


  /** True if finishing {@code envelope} queues a bounce: a recipient failed and the sender is not null. */
  private static boolean bounces(Envelope envelope) {
    return !envelope.nullSender() && envelope.recipients().stream().anyMatch(r -> r.state() == State.FAILED);
  }

  /**
   * Once no recipient is pending: queues one bounce listing the failed recipients (unless the sender
   * is the null sender: never bounce a bounce, RFC 5321 §4.5.5), then removes the message. A crash
   * between the two sends the bounce twice at most, never loses it.
   */
  private Optional<Instant> finishIfDone(Envelope envelope) throws IOException {
    if (!envelope.finished()) {
      return Optional.empty();
    }
    List<Recipient> failed = envelope.recipients().stream().filter(r -> r.state() == State.FAILED).toList();
    String bounce = "none";
    if (bounces(envelope)) {
      try {
        MessageSource original = spool.message(envelope);
        bounce = outbox.queueReport(reports.failureReport(envelope, failed, original), envelope.sender());
        feedback.dsnSent(envelope, feedback.messageId(original), failed, bounce, clock.instant());
      } catch (IOException e) {
        // Keep the message: its failures are on disk and the bounce is tried again.
        log.error("bounce for {} failed recipient(s) could not be queued: {}; retrying", failed.size(), e.getMessage());
        return Optional.of(clock.instant().plus(settings.retry().get(0)));
      }
    }
    spool.remove(envelope.id());
    removed.accept(envelope.id());
    Files.deleteIfExists(warned.resolve(envelope.id()));
    long delivered = envelope.recipients().stream().filter(r -> r.state() == State.DELIVERED).count();
    // Per message, the log has its acceptance and each recipient's event (logger signet.events): this is detail.
    log.debug("removed delivered={} failed={} bounce={}", delivered, failed.size(), bounce);
    return Optional.empty();
  }

  private void logAttempt(String domain, int count, DeliveryResult result, Envelope updated) {
    int delivered = result.delivered().size();
    int failed = result.failed().size();
    int deferred = result.deferred().size();
    String outcome = delivered == count ? "delivered" : failed == count ? "failed"
        : deferred == count ? (result.heldUntil().isPresent() ? "held" : "deferred") : "mixed";
    long expired = result.deferred().stream().filter(d -> updated.recipients().stream().anyMatch(
        r -> r.address().equals(d.recipient()) && r.state() == State.FAILED)).count();
    if (expired > 0) {
      outcome += " expired=" + expired;
    }
    String reply = result.outcomes().isEmpty() ? "" : result.outcomes().get(0).reply().line();
    // All delivered: each recipient's delivered event says it already (logger signet.events).
    org.slf4j.event.Level level = delivered == count ? org.slf4j.event.Level.DEBUG : org.slf4j.event.Level.INFO;
    log.atLevel(level).log("delivery domain={} rcpts={} result={} delivered={} deferred={} failed={} provider={} "
        + "reply=\"{}\"", domain, count, outcome, delivered, deferred, failed, result.provider(),
        reply.replace("\"", "'"));
    // Held back by shaping is no delivery attempt: shaping counts it (signet_shaping_throttled_total).
    listener.outcomes(result.provider(), delivered, result.heldUntil().isPresent() ? 0 : deferred, failed);
  }

  /**
   * delivery.delay-warning: once per message, when recipients are still deferred that long after
   * arrival, tell the sender (RFC 3464 Action: delayed). A marker file under warned/ makes it once,
   * across restarts too; losing one in a crash costs one more warning, never a lost message.
   */
  private void warnIfDelayed(Envelope envelope) {
    Optional<Duration> after = settings.delayWarning();
    Instant now = clock.instant();
    if (after.isEmpty() || envelope.nullSender() || now.isBefore(envelope.received().plus(after.get()))) {
      return;
    }
    Path marker = warned.resolve(envelope.id());
    List<Recipient> deferred = envelope.recipients().stream()
        .filter(r -> r.state() == State.PENDING && r.attempts() > 0).toList();
    if (deferred.isEmpty() || Files.exists(marker)) {
      return;
    }
    try {
      Optional<byte[]> warning = reports.delayWarning(envelope, deferred, spool.message(envelope),
          envelope.received().plus(settings.maxAge()));
      if (warning.isPresent()) {
        String id = outbox.queueReport(warning.get(), envelope.sender());
        log.info("delay warning for {} deferred recipient(s) queued as {}", deferred.size(), id);
      }
      PrivateFiles.directory(warned);
      try {
        PrivateFiles.createFile(marker);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // marked meanwhile: the warning went out either way
      }
    } catch (IOException e) {
      log.error("delay warning not sent: {}", e.getMessage());
    }
  }
}
