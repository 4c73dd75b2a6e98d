package dev.signet.queue;

import dev.signet.events.Event;
import dev.signet.events.Events;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code accepted} (or {@code suppressed}) events of a message the spool took (docs/ARCHITECTURE.md
 * "Events"). They are written before the client's 250 but not waited for: the event log fsyncs them
 * within {@code EventStore.SOON}, or with the next delivery event, which the log holds after them. A
 * crash in between loses them, never the message: at the next start {@link #restore} records them
 * again for every queued message that has had no attempt yet and has none in the log.
 */
public final class AcceptedEvents {
  private static final Logger log = LoggerFactory.getLogger(AcceptedEvents.class);
  private static final Set<Event.Type> TYPES = Set.of(Event.Type.ACCEPTED, Event.Type.SUPPRESSED);
  /** Read the log from this long before the oldest such message was received (its events come later). */
  private static final Duration MARGIN = Duration.ofMinutes(1);

  private AcceptedEvents() {}

  /** One event per recipient: accepted, or suppressed for a recipient failed at acceptance. */
  public static List<Event> of(Envelope envelope, String messageId) {
    List<Event> out = new ArrayList<>();
    for (Envelope.Recipient r : envelope.recipients()) {
      boolean failed = r.state() == Envelope.State.FAILED;
      Event e = Event.of(failed ? Event.Type.SUPPRESSED : Event.Type.ACCEPTED, envelope.received(),
          envelope.id(), messageId, envelope.sender(), r.address(), r.attempts());
      out.add(failed ? e.withResult("5.1.1", r.reply().orElseThrow().text(), null, null) : e);
    }
    return out;
  }

  /**
   * Records the accepted events of every queued message that no attempt has touched (no recipient
   * attempted) and whose events the log does not hold: the ones a crash took before their fsync.
   * A message with an attempt needs none: its attempt's events were fsynced, and the log keeps order.
   *
   * @return how many messages had their events recorded again
   */
  public static int restore(Spool spool, Events events) throws IOException {
    List<Envelope> fresh = new ArrayList<>();
    for (Envelope e : spool.list()) {
      if (e.recipients().stream().allMatch(r -> r.attempts() == 0)) {
        fresh.add(e);
      }
    }
    if (fresh.isEmpty()) {
      return 0;
    }
    Instant oldest = fresh.stream().map(Envelope::received).min(Instant::compareTo).orElseThrow();
    Set<String> logged = events.queueIds(oldest.minus(MARGIN), TYPES);
    Feedback feedback = new Feedback(events);
    int restored = 0;
    for (Envelope e : fresh) {
      if (!logged.contains(e.id())) {
        events.record(of(e, feedback.messageId(spool.message(e))));
        restored++;
      }
    }
    if (restored > 0) {
      log.info("events: recorded the accepted events of {} queued message(s) again (a stop cut them off)", restored);
    }
    return restored;
  }
}
