package dev.signet.shaping;

/**
 * Where one delivery goes, as shaping sees it.
 *
 * @param group whose budget the delivery counts against: a provider's name, or {@code domain:<name>}
 *     for a domain no provider rule matched (or one with its own overrides)
 * @param provider the metric label: a provider of the shaping file, or {@code default}; never a domain
 * @param limits the limits configured for the group (before any backoff lowers them)
 */
public record Destination(String group, String provider, Limits limits) {
  /** Label of destinations no provider rule matched. */
  public static final String DEFAULT = "default";

  /** A smarthost: everything goes there, and shaping by provider does not apply. */
  public static final Destination UNSHAPED = new Destination("<unshaped>", DEFAULT, Limits.NONE);

  boolean shaped() {
    return this != UNSHAPED;
  }
}
