package dev.signet.shaping;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A reply-driven backoff rule of the shaping file: when a reply from a group's servers matches (every
 * given pattern must be found in its part of the reply), the group is held back for {@code duration}:
 * suspended, or kept to a lower rate or fewer connections. Afterwards its limits come back by themselves.
 *
 * @param name the rule's key in the shaping file (a user file overrides rules by this name)
 * @param provider the provider it watches; empty = every group
 */
record Backoff(String name, Optional<String> provider, Optional<Pattern> code, Optional<Pattern> enhanced,
    Optional<Pattern> text, Action action, Duration duration) {

  /** What a matching reply does to its group. */
  sealed interface Action {
    /** Nothing goes out to the group until the time is up. */
    record Suspend() implements Action {}

    /** The group's rate is at most {@code rate} until the time is up. */
    record LowerRate(Rate rate) implements Action {}

    /** At most {@code connections} sessions until the time is up. */
    record LowerConnections(int connections) implements Action {}

    /** The rule is switched off (a user file overriding a shipped rule). */
    record None() implements Action {}

    /** {@code suspend}, {@code rate 60/minute}, {@code connections 2} or {@code none}. */
    static Action parse(String text) {
      String t = text.trim().toLowerCase(Locale.ROOT);
      if (t.equals("suspend")) {
        return new Suspend();
      }
      if (t.equals("none")) {
        return new None();
      }
      if (t.startsWith("rate ")) {
        return new LowerRate(Rate.parse(t.substring(5)));
      }
      if (t.startsWith("connections ")) {
        try {
          int n = Integer.parseInt(t.substring(12).trim());
          if (n > 0) {
            return new LowerConnections(n);
          }
        } catch (NumberFormatException e) {
          // the message below
        }
      }
      throw new IllegalArgumentException(
          "expected suspend, rate <n>/<period>, connections <n> or none, got '" + text + "'");
    }
  }

  boolean appliesTo(Destination destination) {
    return provider.isEmpty() || provider.get().equals(destination.provider());
  }

  boolean matches(int replyCode, String status, String replyText) {
    return !(action instanceof Action.None)
        && (code.isEmpty() || code.get().matcher(String.valueOf(replyCode)).find())
        && (enhanced.isEmpty() || enhanced.get().matcher(status).find())
        && (text.isEmpty() || text.get().matcher(replyText).find());
  }
}
