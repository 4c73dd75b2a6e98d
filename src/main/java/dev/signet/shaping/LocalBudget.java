package dev.signet.shaping;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The counters of one instance, in memory. Thread-safe (one lock per group). */
final class LocalBudget implements Budget {

  private static final class Group {
    double tokens;
    Instant refilled;
    int sessions;
    long nextSlot;
    final Map<Class<?>, Clamp> clamps = new HashMap<>();
  }

  private final Map<String, Group> groups = new ConcurrentHashMap<>();

  private Group group(String name) {
    return groups.computeIfAbsent(name, n -> new Group());
  }

  @Override
  public Optional<Instant> take(String name, Rate rate, Instant now) {
    Group g = group(name);
    synchronized (g) {
      if (g.refilled == null) {
        g.tokens = rate.count(); // a bucket starts full
        g.refilled = now;
      } else if (now.isAfter(g.refilled)) {
        g.tokens += Duration.between(g.refilled, now).toNanos() * rate.perNano();
        g.refilled = now;
      }
      g.tokens = Math.min(rate.count(), g.tokens); // full; or the rate was lowered meanwhile
      if (g.tokens >= 1) {
        g.tokens -= 1;
        return Optional.empty();
      }
      long wait = (long) Math.ceil((1 - g.tokens) / rate.perNano());
      return Optional.of(now.plusNanos(Math.max(1, wait)));
    }
  }

  @Override
  public Optional<String> open(String name, int max, Instant now) {
    Group g = group(name);
    synchronized (g) {
      if (g.sessions >= max) {
        return Optional.empty();
      }
      g.sessions++;
      return Optional.of(Long.toString(++g.nextSlot));
    }
  }

  @Override
  public void release(String name, String slot) {
    Group g = group(name);
    synchronized (g) {
      g.sessions = Math.max(0, g.sessions - 1);
    }
  }

  @Override
  public int sessions(String name, Instant now) {
    Group g = groups.get(name);
    if (g == null) {
      return 0;
    }
    synchronized (g) {
      return g.sessions;
    }
  }

  @Override
  public void clamp(String name, Clamp clamp, Instant now) {
    Group g = group(name);
    synchronized (g) {
      g.clamps.merge(clamp.action().getClass(), clamp, (old, fresh) -> fresh.until().isAfter(old.until()) ? fresh : old);
    }
  }

  @Override
  public List<Clamp> clamps(String name, Instant now) {
    Group g = groups.get(name);
    if (g == null) {
      return List.of();
    }
    synchronized (g) {
      g.clamps.values().removeIf(c -> !c.until().isAfter(now));
      return new ArrayList<>(g.clamps.values());
    }
  }

  @Override
  public String toString() {
    return "this instance's memory";
  }
}
