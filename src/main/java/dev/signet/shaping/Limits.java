package dev.signet.shaping;

import java.util.Optional;

/**
 * What Signet allows itself towards one group of destinations (a provider, or one domain).
 *
 * @param connections SMTP sessions open at once, idle kept ones included
 * @param messagesPerConnection messages one session carries before it is closed
 * @param rate messages per period (token bucket); empty = no limit
 * @param recipientsPerTransaction RCPT commands in one MAIL transaction; more recipients of one
 *     message go in further transactions
 */
public record Limits(int connections, int messagesPerConnection, Optional<Rate> rate, int recipientsPerTransaction) {
  public Limits {
    if (connections <= 0 || messagesPerConnection <= 0 || recipientsPerTransaction <= 0) {
      throw new IllegalArgumentException("limits must be above zero");
    }
  }

  /** No limit worth the name: for routes shaping does not apply to (a smarthost). */
  static final Limits NONE = new Limits(Integer.MAX_VALUE, Integer.MAX_VALUE, Optional.empty(), Integer.MAX_VALUE);

  /** These limits divided among {@code instances} (Redis unreachable: each instance keeps its share). */
  Limits share(int instances) {
    if (instances <= 1) {
      return this;
    }
    return new Limits(Math.max(1, connections / instances), messagesPerConnection,
        rate.map(r -> new Rate(Math.max(1, r.count() / instances), r.per())), recipientsPerTransaction);
  }
}
