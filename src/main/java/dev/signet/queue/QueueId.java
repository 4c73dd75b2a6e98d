package dev.signet.queue;

import java.time.Clock;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Queue ids: 18 characters of Crockford base32 (digits and upper-case letters, no I L O U), so they
 * are safe in file names and log lines, and sort by creation time: 10 characters of milliseconds
 * since the epoch, 4 of a counter within the millisecond (unique within one process), 4 random
 * (unique across restarts even if the clock steps back).
 */
final class QueueId {
  private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
  static final int LENGTH = 18;

  private final Clock clock;
  private long lastMillis;
  private int counter;

  QueueId(Clock clock) {
    this.clock = clock;
  }

  synchronized String next() {
    long now = clock.millis();
    if (now > lastMillis) {
      lastMillis = now;
      counter = 0;
    } else if (++counter >= 1 << 20) {
      // More than a million ids in one millisecond: borrow the next millisecond, keep order.
      lastMillis++;
      counter = 0;
    }
    StringBuilder id = new StringBuilder(LENGTH);
    append(id, lastMillis, 10);
    append(id, counter, 4);
    // Uniqueness across restarts needs no cryptographic source (the ids are not secrets); the JDK's
    // SecureRandom mixes in SHA-1 per call, and was compiled during a restarted relay's first messages.
    append(id, ThreadLocalRandom.current().nextInt(1 << 20), 4);
    return id.toString();
  }

  private static void append(StringBuilder out, long value, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
      out.append(ALPHABET[(int) (value >>> (5 * i)) & 31]);
    }
  }

  /** True for strings {@link #next} could have made: guards file names read back from the spool. */
  static boolean isValid(String id) {
    if (id.length() != LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      if (java.util.Arrays.binarySearch(ALPHABET, id.charAt(i)) < 0) {
        return false;
      }
    }
    return true;
  }
}
