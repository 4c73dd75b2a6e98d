package dev.signet.smtp;

import dev.signet.config.SignetConfig.SuppressionAction;
import dev.signet.delivery.Reply;
import dev.signet.events.Event;
import dev.signet.events.Events;
import dev.signet.events.Suppressions;
import dev.signet.queue.AcceptedEvents;
import dev.signet.queue.Envelope;
import java.io.IOException;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The submission side of the suppression list and of the {@code accepted} events: a suppressed
 * recipient is refused at RCPT (suppression.action: refuse) or accepted and failed at once, so the
 * scheduler bounces it without contacting its MX (action: event); either way a {@code suppressed}
 * event says so. Without {@link Events} (tests of the server alone) it lets everything through.
 */
final class SuppressionGate {
  private static final Logger log = LoggerFactory.getLogger(SuppressionGate.class);

  private final Events events;
  private final Clock clock;

  SuppressionGate(Events events, Clock clock) {
    this.events = events;
    this.clock = clock;
  }

  private static String reason(Suppressions.Entry e) {
    return "5.1.1 <" + e.address() + ">: suppressed since "
        + DateTimeFormatter.ISO_INSTANT.format(e.since()) + " after a hard bounce (" + e.reason()
        + "); not sent";
  }

  /** The RCPT refusal for {@code address} if it is suppressed and the action is refuse. */
  Optional<String> refusal(String sender, String address) {
    if (events == null || events.suppressionSettings().action() != SuppressionAction.REFUSE) {
      return Optional.empty();
    }
    Optional<Suppressions.Entry> entry = events.suppressions().find(address);
    if (entry.isEmpty()) {
      return Optional.empty();
    }
    String text = reason(entry.get());
    record(List.of(Event.of(Event.Type.SUPPRESSED, clock.instant(), null, null, sender, address, 0)
        .withResult("5.1.1", text.substring(6), null, null)));
    return Optional.of("550 " + text);
  }

  /** {@code envelope} with its suppressed recipients failed (action: event); unchanged otherwise. */
  Envelope failSuppressed(Envelope envelope) {
    if (events == null || events.suppressionSettings().action() != SuppressionAction.EVENT) {
      return envelope;
    }
    List<Envelope.Recipient> out = new ArrayList<>();
    for (Envelope.Recipient r : envelope.recipients()) {
      Optional<Suppressions.Entry> entry = events.suppressions().find(r.address());
      out.add(entry.isEmpty() ? r : r.failed(new Reply(550, "5.1.1", reason(entry.get()).substring(6), Optional.empty())));
    }
    return envelope.withRecipients(out);
  }

  /**
   * Once the message is on disk (before its 250): accepted, or suppressed, per recipient. Not waited
   * for: see {@link AcceptedEvents}, which also restores them after a crash.
   */
  void accepted(Envelope envelope, String messageId) {
    if (events == null) {
      return;
    }
    try {
      events.recordSoon(AcceptedEvents.of(envelope, messageId));
    } catch (IOException | RuntimeException e) {
      log.error("events: {} event(s) could not be stored: {}", envelope.recipients().size(), e.toString());
    }
  }

  private void record(List<Event> out) {
    try {
      events.record(out);
    } catch (IOException | RuntimeException e) {
      log.error("events: {} event(s) could not be stored: {}", out.size(), e.toString());
    }
  }
}
