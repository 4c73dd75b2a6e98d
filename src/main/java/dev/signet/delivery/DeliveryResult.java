package dev.signet.delivery;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of one {@link SmtpSender#deliver} call: one entry per recipient, in request order.
 *
 * @param provider the destination's provider as traffic shaping names it (a closed set, never a
 *     domain; {@code default} when no provider rule matched), for metrics
 * @param heldUntil present when shaping held (some of) the recipients back instead of trying them:
 *     their Deferred outcomes are no attempt, and they are due again at this time
 */
public record DeliveryResult(List<RecipientOutcome> outcomes, String provider, Optional<Instant> heldUntil) {
  public DeliveryResult {
    outcomes = List.copyOf(outcomes);
  }

  public DeliveryResult(List<RecipientOutcome> outcomes) {
    this(outcomes, "default", Optional.empty());
  }

  public List<RecipientOutcome.Delivered> delivered() {
    return outcomes.stream().filter(o -> o instanceof RecipientOutcome.Delivered)
        .map(o -> (RecipientOutcome.Delivered) o).toList();
  }

  public List<RecipientOutcome.Deferred> deferred() {
    return outcomes.stream().filter(o -> o instanceof RecipientOutcome.Deferred)
        .map(o -> (RecipientOutcome.Deferred) o).toList();
  }

  public List<RecipientOutcome.Failed> failed() {
    return outcomes.stream().filter(o -> o instanceof RecipientOutcome.Failed)
        .map(o -> (RecipientOutcome.Failed) o).toList();
  }
}
