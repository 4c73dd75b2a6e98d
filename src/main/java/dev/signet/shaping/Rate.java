package dev.signet.shaping;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A message rate, {@code count} messages per {@code per}, enforced as a token bucket: the bucket holds
 * up to {@code count} tokens and refills at {@code count / per}. So over any stretch of time T at most
 * {@code count + count × T / per} messages go out, and never more than {@code count} at once.
 */
public record Rate(long count, Duration per) {
  private static final Pattern FORMAT = Pattern.compile("(\\d+)\\s*/\\s*(s|sec|second|m|min|minute|h|hour)");

  public Rate {
    if (count <= 0 || per.isZero() || per.isNegative()) {
      throw new IllegalArgumentException("a rate needs a count and a period above zero");
    }
  }

  /** {@code 100/second}, {@code 600/minute}, {@code 20000/hour} (also {@code s}, {@code m}, {@code h}). */
  static Rate parse(String text) {
    Matcher m = FORMAT.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a rate like 100/second, 600/minute or 20000/hour, got '" + text + "'");
    }
    long count = Long.parseLong(m.group(1));
    if (count <= 0) {
      throw new IllegalArgumentException("expected a rate above zero (or unlimited), got '" + text + "'");
    }
    Duration per = switch (m.group(2).charAt(0)) {
      case 's' -> Duration.ofSeconds(1);
      case 'm' -> Duration.ofMinutes(1);
      default -> Duration.ofHours(1);
    };
    return new Rate(count, per);
  }

  /** Tokens added per nanosecond. */
  double perNano() {
    return (double) count / per.toNanos();
  }

  /** The lower of two rates (by tokens per unit of time). */
  Rate min(Rate other) {
    return other.perNano() < perNano() ? other : this;
  }

  @Override
  public String toString() {
    String unit = per.equals(Duration.ofSeconds(1)) ? "second" : per.equals(Duration.ofMinutes(1)) ? "minute"
        : per.equals(Duration.ofHours(1)) ? "hour" : per.toString();
    return count + "/" + unit;
  }
}
