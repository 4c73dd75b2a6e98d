package dev.signet.delivery;

/** What became of one recipient in one delivery attempt. */
public sealed interface RecipientOutcome {

  String recipient();

  Reply reply();

  /** The receiving server took responsibility (2xx after the data). */
  record Delivered(String recipient, Reply reply) implements RecipientOutcome {}

  /** Try again later (4xx, connection or DNS trouble). */
  record Deferred(String recipient, Reply reply) implements RecipientOutcome {}

  /** Never try again; bounce (5xx, null MX, NXDOMAIN, a required extension missing). */
  record Failed(String recipient, Reply reply) implements RecipientOutcome {}
}
