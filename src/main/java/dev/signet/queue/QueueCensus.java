package dev.signet.queue;

import dev.signet.queue.Envelope.State;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the spool holds, kept in memory as the spool changes (recovery, accept, update, remove) so
 * that a metrics scrape never reads the disk: each queued message with its arrival time and
 * whether it was deferred. States (bounded, for {@code signet_queue_messages{state}}):
 * {@code queued} = no delivery attempt has failed yet; {@code deferred} = a recipient is still
 * pending after a temporary failure (RFC 5321 §4.5.4.1: it waits for its retry).
 */
final class QueueCensus {
  static final String QUEUED = "queued";
  static final String DEFERRED = "deferred";
  static final List<String> STATES = List.of(QUEUED, DEFERRED);

  private record Entry(Instant received, boolean deferred) {}

  private final ConcurrentHashMap<String, Entry> messages = new ConcurrentHashMap<>();
  private final Clock clock;

  QueueCensus(Clock clock) {
    this.clock = clock;
  }

  void put(Envelope envelope) {
    boolean deferred = envelope.recipients().stream()
        .anyMatch(r -> r.state() == State.PENDING && r.attempts() > 0);
    messages.put(envelope.id(), new Entry(envelope.received(), deferred));
  }

  void remove(String id) {
    messages.remove(id);
  }

  long count(String state) {
    return switch (state) {
      case QUEUED -> messages.values().stream().filter(e -> !e.deferred()).count();
      case DEFERRED -> messages.values().stream().filter(Entry::deferred).count();
      default -> throw new IllegalArgumentException("no queue state " + state + "; states are " + STATES);
    };
  }

  /** Seconds since the oldest queued message arrived; 0 when the queue is empty. */
  double oldestAgeSeconds() {
    Instant now = clock.instant();
    return messages.values().stream().map(Entry::received).min(Instant::compareTo)
        .map(oldest -> Math.max(0, Duration.between(oldest, now).toMillis() / 1000.0)).orElse(0.0);
  }
}
