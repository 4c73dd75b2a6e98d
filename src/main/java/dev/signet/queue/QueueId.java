package dev.signet.queue;

import java.security.SecureRandom;
import java.time.Clock;

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
  private final SecureRandom random = new SecureRandom();
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
    append(id, random.nextInt(1 << 20), 4);
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
