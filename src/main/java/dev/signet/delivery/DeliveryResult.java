package dev.signet.delivery;

import java.util.List;

/** The outcome of one {@link SmtpSender#deliver} call: one entry per recipient, in request order. */
public record DeliveryResult(List<RecipientOutcome> outcomes) {
  public DeliveryResult {
    outcomes = List.copyOf(outcomes);
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
