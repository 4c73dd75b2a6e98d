package dev.signet.shaping;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where a group's counters live: in this process ({@link LocalBudget}) or in Redis, shared by the
 * fleet ({@link RedisBudget}). Groups are named by {@link Destination#group()}.
 */
interface Budget extends AutoCloseable {

  /** A backoff rule's effect on a group until a time. */
  record Clamp(Backoff.Action action, Instant until, String rule) {}

  /** Takes one message token; empty when taken, else when the next token will be there. */
  Optional<Instant> take(String group, Rate rate, Instant now);

  /** Takes a session slot if fewer than {@code max} are held; the id names the slot for {@link #release}. */
  Optional<String> open(String group, int max, Instant now);

  void release(String group, String slot);

  /** Session slots of a group held now. */
  int sessions(String group, Instant now);

  /** Records a clamp; a clamp of the same kind with a later end stays. */
  void clamp(String group, Clamp clamp, Instant now);

  /** The clamps of a group still in force at {@code now}. */
  List<Clamp> clamps(String group, Instant now);

  /** False while a shared budget cannot be reached and per-instance shares stand in. */
  default boolean shared() {
    return true;
  }

  @Override
  default void close() {}
}
