package dev.signet.shaping;

import java.time.Instant;

/**
 * Shaping keeps a delivery back: its group is suspended, out of rate tokens or out of connections.
 * The recipients stay pending (never bounced for this; {@code delivery.max-age} still applies) and
 * are tried again at {@code until}, which carries some jitter so that held-back mail does not return
 * all at one instant.
 *
 * @param provider the group's metric label (a provider of the shaping file, or {@code default})
 * @param reason what holds it: {@code suspended (rule NAME)}, {@code rate 100/minute}, {@code connections 20}
 */
public record Hold(String provider, Instant until, String reason) {
  /** RFC 3463 X.4.5: mail system congestion (here: a limit Signet keeps towards the receiver). */
  public static final String STATUS = "4.4.5";
  public static final int CODE = 451;

  /**
   * The text recorded as the recipients' last reply (a local reply, {@link #CODE} {@link #STATUS}); {@code signet
   * queue list} shows it as it is.
   */
  public String text() {
    return "held back by shaping: provider " + provider + " " + reason + " until " + until;
  }
}
