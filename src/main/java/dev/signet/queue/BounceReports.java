package dev.signet.queue;

import dev.signet.delivery.Bouncer;
import dev.signet.delivery.MessageSource;
import dev.signet.delivery.RecipientOutcome;
import dev.signet.queue.Envelope.Recipient;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The scheduler's reports built by the delivery stage's {@link Bouncer} (RFC 3464): each recipient's
 * kept reply ({@link Envelope.Recipient#outcomeReply}, its fields as the envelope stores them) gives
 * the report its Status, Remote-MTA and Diagnostic-Code.
 */
public final class BounceReports {
  private BounceReports() {}

  /** Signs a report the relay wrote before it is queued; the identity for unsigned reports. */
  @FunctionalInterface
  public interface Signing {
    byte[] sign(byte[] report) throws IOException;
  }

  static Scheduler.Reports of(Bouncer bouncer) {
    return of(bouncer, report -> report);
  }

  /** Reports from {@code bouncer}, each passed through {@code signing} (DKIM) before it is queued. */
  public static Scheduler.Reports of(Bouncer bouncer, Signing signing) {
    return new Scheduler.Reports() {
      @Override
      public byte[] failureReport(Envelope message, List<Recipient> failed, MessageSource file) throws IOException {
        byte[] report = bouncer.failed(original(message, file), failed.stream()
                .map(r -> new RecipientOutcome.Failed(r.address(), r.outcomeReply().orElseThrow())).toList())
            .map(Bouncer.Bounce::message)
            .orElseThrow(() -> new IOException("no failure report for " + message.id() + " (null sender?)"));
        return signing.sign(report);
      }

      @Override
      public Optional<byte[]> delayWarning(Envelope message, List<Recipient> deferred, MessageSource file, Instant until)
          throws IOException {
        Optional<byte[]> warning = bouncer.delayed(original(message, file), deferred.stream()
                .map(r -> new RecipientOutcome.Deferred(r.address(), r.outcomeReply().orElseThrow())).toList(), until)
            .map(Bouncer.Bounce::message);
        return warning.isPresent() ? Optional.of(signing.sign(warning.get())) : warning;
      }
    };
  }

  private static Bouncer.Original original(Envelope message, MessageSource file) {
    return new Bouncer.Original(message.id(), message.sender(), file, message.received());
  }
}
