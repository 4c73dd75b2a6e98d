package dev.signet.events;

import java.util.Locale;

/**
 * Why a recipient failed (or was deferred), as a closed set an application can act on: derived from
 * the RFC 3463 enhanced status code and the reply text by {@link BounceRules}. The names are the
 * {@code class} field of events, the comment in DSNs and the label of {@code signet_bounces_total}.
 */
public enum BounceClass {
  INVALID_RECIPIENT,
  MAILBOX_FULL,
  SPAM_RELATED,
  POLICY,
  RATE_LIMITED,
  MESSAGE_TOO_LARGE,
  DNS_FAILURE,
  TLS_FAILURE,
  CONNECTION_FAILURE,
  EXPIRED,
  OTHER;

  /** The name as written in events, rules files and metrics: {@code invalid-recipient}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The class named {@code label} ({@code mailbox-full}). */
  public static BounceClass of(String label) {
    for (BounceClass c : values()) {
      if (c.label().equals(label.trim().toLowerCase(Locale.ROOT))) {
        return c;
      }
    }
    throw new IllegalArgumentException("not a bounce class: '" + label + "'");
  }
}
