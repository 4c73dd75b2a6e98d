package dev.signet.queue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The queue's gauges, read at scrape time: {@code signet_queue_messages{state}} (from the scheduler's
 * jobs) and {@code signet_queue_oldest_age_seconds} (from the arrival times of the messages in the
 * queue, which the scheduler and the courier keep up to date here).
 */
public final class QueueGauges {
  /** signet_queue_messages{state}: in an attempt now, due and waiting for a slot, deferred to later. */
  public static final List<String> STATES = List.of("active", "ready", "deferred");

  private final Clock clock;
  /** Per message id, the rank of its most advanced job (an index into {@link #STATES}) at a given time. */
  private final Function<Instant, Map<String, Integer>> ranks;
  /** Messages in the queue and when they arrived. */
  private final Map<String, Instant> arrived = new ConcurrentHashMap<>();

  QueueGauges(Clock clock, Function<Instant, Map<String, Integer>> ranks) {
    this.clock = clock;
    this.ranks = ranks;
  }

  void arrived(String id, Instant received) {
    arrived.put(id, received);
  }

  void gone(String id) {
    arrived.remove(id);
  }

  /** Messages whose most advanced job is in {@code state} (a message with several domains counts once). */
  public int messages(String state) {
    int wanted = STATES.indexOf(state);
    return (int) ranks.apply(clock.instant()).values().stream().filter(r -> r == wanted).count();
  }

  /** Seconds since the oldest message in the queue arrived; 0 with none. */
  public double oldestAgeSeconds() {
    Instant now = clock.instant();
    return arrived.values().stream().min(Instant::compareTo)
        .map(t -> Math.max(0, Duration.between(t, now).toMillis() / 1000.0)).orElse(0.0);
  }
}
