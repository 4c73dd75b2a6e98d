package dev.signet.delivery;

/** What became of one recipient in one delivery attempt. */
public sealed interface RecipientOutcome {

  String recipient();

  Reply reply();

  /** The TLS of the attempt (policy, protocol); null where no MX session was tried for it. */
  DeliveryTls tls();

  /** This outcome with the TLS facts of its attempt. */
  RecipientOutcome withTls(DeliveryTls tls);

  /** The receiving server took responsibility (2xx after the data). */
  record Delivered(String recipient, Reply reply, DeliveryTls tls) implements RecipientOutcome {
    public Delivered(String recipient, Reply reply) {
      this(recipient, reply, null);
    }

    @Override
    public Delivered withTls(DeliveryTls tls) {
      return new Delivered(recipient, reply, tls);
    }
  }

  /** Try again later (4xx, connection or DNS trouble). */
  record Deferred(String recipient, Reply reply, DeliveryTls tls) implements RecipientOutcome {
    public Deferred(String recipient, Reply reply) {
      this(recipient, reply, null);
    }

    @Override
    public Deferred withTls(DeliveryTls tls) {
      return new Deferred(recipient, reply, tls);
    }
  }

  /** Never try again; bounce (5xx, null MX, NXDOMAIN, a required extension missing). */
  record Failed(String recipient, Reply reply, DeliveryTls tls) implements RecipientOutcome {
    public Failed(String recipient, Reply reply) {
      this(recipient, reply, null);
    }

    @Override
    public Failed withTls(DeliveryTls tls) {
      return new Failed(recipient, reply, tls);
    }
  }
}
