package dev.signet.queue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * The scheduler's timetable: one job per (message, destination domain), held until it is due by the
 * injected {@link Clock}, then claimed to run; a job asked for again while it runs is rerun when it
 * ends (at the earlier of the times asked). Entries made obsolete by an earlier time stay in the
 * queue and are skipped when they come up. Thread-safe (one monitor).
 */
final class Jobs {
  /** One job: a message's recipients at one domain ({@link Courier#FINISH}: only finish the message). */
  record Key(String id, String domain) {}

  /** A job held until {@code at}; superseded when its slot's generation moved on. */
  private record Due(Key key, long generation, Instant at) {}

  /** A job's state: held (its generation matches a Due), or running (rerun later if asked). */
  private static final class Slot {
    long generation;
    Instant at;
    boolean running;
    Instant rerunAt;
  }

  private final Clock clock;
  private final PriorityQueue<Due> due =
      new PriorityQueue<>(Comparator.comparing(Due::at).thenComparingLong(Due::generation));
  private final Map<Key, Slot> slots = new HashMap<>();
  private long generations;
  private boolean closed;

  Jobs(Clock clock) {
    this.clock = clock;
  }

  /** Holds {@code key} until {@code at}, unless it is held for earlier already; nothing once closed. */
  synchronized void schedule(Key key, Instant at) {
    if (closed) {
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
    due.add(new Due(key, slot.generation, at));
    notifyAll(); // a waiter in awaitDue may be waiting for a later job
  }

  /** Waits until the earliest job is due by the clock and claims it; null once closed. */
  synchronized Key awaitDue() throws InterruptedException {
    while (!closed) {
      Due head = due.peek();
      if (head == null) {
        wait();
        continue;
      }
      long nanos = Duration.between(clock.instant(), head.at()).toNanos();
      if (nanos > 0) {
        wait(Math.max(1, (nanos + 999_999) / 1_000_000)); // woken early by schedule() or close()
        continue;
      }
      due.poll();
      if (claim(head)) {
        return head.key();
      }
    }
    return null;
  }

  /** Claims every job due at the clock's time now, without waiting. */
  synchronized List<Key> claimDue() {
    List<Key> ready = new ArrayList<>();
    Instant now = clock.instant();
    while (!due.isEmpty() && !due.peek().at().isAfter(now)) {
      Due d = due.poll();
      if (claim(d)) {
        ready.add(d.key());
      }
    }
    return ready;
  }

  /** Takes a due entry for running; false if it was superseded. */
  private boolean claim(Due d) {
    Slot slot = slots.get(d.key());
    if (slot == null || slot.running || slot.generation != d.generation()) {
      return false;
    }
    slot.running = true;
    slot.rerunAt = null;
    return true;
  }

  /**
   * The claimed job {@code key} ended; holds it again until the earlier of {@code next} and a time
   * asked for while it ran. Returns that time; empty if it is not held again (or closed).
   */
  synchronized Optional<Instant> finished(Key key, Optional<Instant> next) {
    Slot slot = slots.remove(key);
    Instant rerun = slot == null ? null : slot.rerunAt;
    if (next.isPresent() && (rerun == null || next.get().isBefore(rerun))) {
      rerun = next.get();
    }
    if (rerun == null || closed) {
      return Optional.empty();
    }
    schedule(key, rerun);
    return Optional.of(rerun);
  }

  /**
   * Per message with a job, the rank of its most advanced job at {@code now}: 0 running, 1 due and
   * waiting for a lane, 2 held for later (indexes into {@link QueueGauges#STATES}).
   */
  synchronized Map<String, Integer> ranks(Instant now) {
    Map<String, Integer> rank = new HashMap<>();
    for (Map.Entry<Key, Slot> e : slots.entrySet()) {
      Slot slot = e.getValue();
      int r = slot.running ? 0 : slot.at.isAfter(now) ? 2 : 1;
      rank.merge(e.getKey().id(), r, Math::min);
    }
    return rank;
  }

  /** Jobs held or running. */
  synchronized int size() {
    return slots.size();
  }

  /** When the earliest job held (not running) is due; empty with none. */
  synchronized Optional<Instant> earliest() {
    return slots.values().stream().filter(slot -> !slot.running).map(slot -> slot.at).min(Instant::compareTo);
  }

  /** Drops every job and wakes {@link #awaitDue}, which returns null from now on; nothing is held again. */
  synchronized void close() {
    closed = true;
    due.clear();
    slots.clear();
    notifyAll();
  }
}
