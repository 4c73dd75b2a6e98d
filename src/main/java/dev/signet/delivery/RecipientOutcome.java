package dev.signet.delivery;

/** What became of one recipient in one delivery attempt. */
public sealed interface RecipientOutcome {

  String recipient();

  Reply reply();

  /** The TLS of the attempt (policy, protocol); null where no MX session was tried for it. */
  DeliveryTls tls();

  /** This outcome with the TLS facts of its attempt. */
  default RecipientOutcome withTls(DeliveryTls tls) {
    return switch (this) {
      case Delivered d -> new Delivered(d.recipient(), d.reply(), tls);
      case Deferred d -> new Deferred(d.recipient(), d.reply(), tls);
      case Failed f -> new Failed(f.recipient(), f.reply(), tls);
    };
  }

  /** The receiving server took responsibility (2xx after the data). */
  record Delivered(String recipient, Reply reply, DeliveryTls tls) implements RecipientOutcome {
    public Delivered(String recipient, Reply reply) {
      this(recipient, reply, null);
    }
  }

  /** Try again later (4xx, connection or DNS trouble). */
  record Deferred(String recipient, Reply reply, DeliveryTls tls) implements RecipientOutcome {
    public Deferred(String recipient, Reply reply) {
      this(recipient, reply, null);
    }
  }

  /** Never try again; bounce (5xx, null MX, NXDOMAIN, a required extension missing). */
  record Failed(String recipient, Reply reply, DeliveryTls tls) implements RecipientOutcome {
    public Failed(String recipient, Reply reply) {
      this(recipient, reply, null);
    }
  }
}
