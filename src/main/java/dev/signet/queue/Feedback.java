package dev.signet.queue;

import dev.signet.delivery.DeliveryResult;
import dev.signet.delivery.MessageSource;
import dev.signet.delivery.RecipientOutcome;
import dev.signet.delivery.Reply;
import dev.signet.events.BounceClass;
import dev.signet.events.Event;
import dev.signet.events.Events;
import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The courier's outcomes as delivery events (docs/ARCHITECTURE.md "Events"): one per recipient
 * whose state an attempt changed, classified by the bounce rules, stored before the envelope is
 * rewritten (so a recorded outcome always has its event; a crash in between sends the event again
 * with the next attempt, at least once). A hard bounce of a suppressing class suppresses the address.
 * Without {@link Events} (tests of the queue alone) it does nothing.
 */
final class Feedback {
  private static final Logger log = LoggerFactory.getLogger(Feedback.class);
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  private final Events events;

  Feedback(Events events) {
    this.events = events;
  }

  boolean on() {
    return events != null;
  }

  /** The Message-ID field value of the spooled message, or null (read only when events are on). */
  String messageId(MessageSource message) {
    if (events == null) {
      return null;
    }
    try (InputStream in = message.open()) {
      return messageId(in.readNBytes(MAX_HEADER_BYTES));
    } catch (IOException e) {
      return null;
    }
  }

  /** The Message-ID of a header block (RFC 5322 §3.6.4), unfolded and trimmed; null if none. */
  static String messageId(byte[] head) {
    String text = new String(head, StandardCharsets.ISO_8859_1);
    int blank = text.indexOf("\r\n\r\n");
    text = blank < 0 ? text : text.substring(0, blank + 2);
    for (int start = 0, end; start < text.length(); start = end + 2) {
      end = fieldEnd(text, start);
      String field = text.substring(start, end);
      int colon = field.indexOf(':');
      if (colon > 0 && field.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("message-id")) {
        return new String(field.substring(colon + 1).replace("\r\n", "").trim()
            .getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  /**
   * Where the field starting at {@code start} ends: the first CRLF not followed by a space or tab (RFC 5322
   * §2.2.3 folding), or the end of {@code text}. By hand, not a regular expression: one read per delivery.
   */
  private static int fieldEnd(String text, int start) {
    int crlf = text.indexOf("\r\n", start);
    while (crlf >= 0 && crlf + 2 < text.length() && (text.charAt(crlf + 2) == ' ' || text.charAt(crlf + 2) == '\t')) {
      crlf = text.indexOf("\r\n", crlf + 2);
    }
    return crlf < 0 ? text.length() : crlf;
  }

  /**
   * Records the events of one attempt: {@code before} is the envelope the outcomes were merged into,
   * {@code after} the result. A failure to store them is logged, never allowed to stop the outcome
   * from being recorded (that would re-send mail already delivered).
   */
  void attempt(Envelope before, Envelope after, String messageId, DeliveryResult result, Instant now) {
    if (events == null) {
      return;
    }
    Map<String, RecipientOutcome> outcomes = result.outcomes().stream()
        .collect(Collectors.toMap(RecipientOutcome::recipient, Function.identity(), (a, b) -> a));
    List<Event> out = new ArrayList<>();
    List<Event> suppress = new ArrayList<>();
    for (int i = 0; i < after.recipients().size(); i++) {
      Recipient was = before.recipients().get(i);
      Recipient now_ = after.recipients().get(i);
      RecipientOutcome o = outcomes.get(now_.address());
      if (o == null || was.state() != State.PENDING || now_.attempts() == was.attempts()) {
        continue;
      }
      Reply reply = o.reply();
      Recipient r = now_;
      String tls = o.tls() == null ? null : o.tls().text();
      Function<Event.Type, Event> event = type -> Event.of(type, now, after.id(), messageId, after.sender(),
          r.address(), r.attempts()).withTls(tls);
      String mx = reply.remoteMta().orElse(null);
      if (now_.state() != State.DELIVERED && o.tls() != null && o.tls().policyFailed()) {
        // every host failed the domain's TLS policy: the reply names the policy and what failed
        out.add(event.apply(Event.Type.TLS_FAILED).withResult(reply.status(), reply.text(), mx,
            events.rules().classify(reply.status(), reply.text())));
      }
      if (now_.state() == State.DELIVERED) {
        out.add(event.apply(Event.Type.DELIVERED).withResult(reply.status(), reply.text(), mx, null));
      } else if (now_.expired()) {
        BounceClass last = events.rules().classify(reply.status(), reply.text());
        out.add(event.apply(Event.Type.EXPIRED).withResult(reply.status(), reply.text(), mx, last));
        out.add(event.apply(Event.Type.BOUNCED).withResult("4.4.7", now_.lastReply(), mx, BounceClass.EXPIRED));
      } else {
        BounceClass c = events.rules().classify(reply.status(), reply.text());
        Event.Type type = now_.state() == State.FAILED ? Event.Type.BOUNCED : Event.Type.DEFERRED;
        Event e = event.apply(type).withResult(reply.status(), reply.text(), mx, c);
        out.add(e);
        if (type == Event.Type.BOUNCED && events.suppressionSettings().classes().contains(c.label())) {
          suppress.add(e);
        }
      }
    }
    store(out);
    for (Event e : suppress) {
      try {
        events.suppressions().add(e.recipient(), events.suppressionSettings().ttl(), e.bounceClass().label());
        log.info("suppressed <{}> for {} after a hard bounce ({})", e.recipient(),
            events.suppressionSettings().ttl(), e.bounceClass().label());
      } catch (IOException | RuntimeException x) {
        log.error("could not suppress <{}>: {}", e.recipient(), x.toString());
      }
    }
  }

  /** A failure report (DSN) for {@code failed} went to the sender as queue id {@code dsnId}. */
  void dsnSent(Envelope envelope, String messageId, List<Recipient> failed, String dsnId, Instant now) {
    if (events == null) {
      return;
    }
    List<Event> out = new ArrayList<>();
    for (Recipient r : failed) {
      Reply reply = r.outcomeReply().orElseThrow();
      out.add(Event.of(Event.Type.DSN_SENT, now, envelope.id(), messageId, envelope.sender(), r.address(),
              r.attempts())
          .withResult(reply.status(), "failure report queued as " + dsnId + " to <" + envelope.sender() + ">",
              null, events.rules().classify(reply.status(), reply.text())));
    }
    store(out);
  }

  private void store(List<Event> out) {
    try {
      events.record(out);
    } catch (IOException | RuntimeException e) {
      log.error("events: {} event(s) could not be stored: {}", out.size(), e.toString());
    }
  }
}
