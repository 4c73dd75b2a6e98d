package dev.signet.queue;

import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * Mail the relay writes itself, put into its own queue like any accepted message: bounces and delay
 * warnings (with the null sender, RFC 5321 §4.5.5) and other generated reports (TLS reports). Each is
 * accepted durably through {@link Spool#accept}, which hands it to the scheduler at once.
 */
public final class Outbox {
  private final String hostname;
  private final Spool spool;
  private final Clock clock;

  Outbox(String hostname, Spool spool, Clock clock) {
    this.hostname = hostname;
    this.spool = spool;
    this.clock = clock;
  }

  /** Queues a report to {@code recipient} with the null sender; returns its queue id. */
  String queueReport(byte[] report, String recipient) throws IOException {
    return queueGenerated(report, "", recipient);
  }

  /**
   * Queues a message the relay wrote itself (already signed), e.g. a TLS report, from {@code sender} to
   * {@code recipient}; it is delivered like any accepted message. Returns its queue id.
   */
  public String queueGenerated(byte[] message, String sender, String recipient) throws IOException {
    try (Incoming in = spool.receive()) {
      in.headers(message); // the whole message; Incoming writes it as one block
      Envelope envelope = Envelope.received(in.id(), sender, List.of(recipient), "127.0.0.1",
          Optional.of(hostname), Optional.empty(), clock.instant(), in.size(), List.of());
      spool.accept(in, envelope); // scheduled through Spool.onAccept
      return in.id();
    }
  }
}
