package dev.signet.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.signet.config.SignetConfig;
import dev.signet.delivery.Reply;
import dev.signet.events.Event;
import dev.signet.events.Events;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The accepted events a crash took before their fsync are recorded again at the next start, once. */
class AcceptedEventsTest {
  @TempDir Path dir;


  private static String spool(Spool spool, String recipient) throws Exception {
    try (Incoming in = spool.receive()) {
      try (OutputStream out = in.body()) {
        out.write("Hello\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      in.headers("From: a@example.com\r\nMessage-ID: <m1@example.com>\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      spool.accept(in, Envelope.received(in.id(), "a@example.com", List.of(recipient), "127.0.0.1",
          Optional.empty(), Optional.empty(), Instant.now(), in.size(), List.of()));
      return in.id();
    }
  }

  private Events events() throws Exception {
    return Events.start(SignetConfig.defaults(), dir, new SimpleMeterRegistry(), Clock.systemUTC());
  }

  private List<JsonNode> stored(Events events) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String json : events.recent(Instant.EPOCH, 1000)) {
      out.add(new ObjectMapper().readTree(json));
    }
    return out;
  }

  @Test
  void aQueuedMessageWithoutItsAcceptedEventGetsItOnceAndOneWithItsEventsNone() throws Exception {
    try (Spool spool = Spool.open(dir); Events events = events()) {
      // Logged as usual: its accepted event is in the log.
      String logged = spool(spool, "logged@dest.test");
      events.record(AcceptedEvents.of(spool.envelope(logged), "<m1@example.com>"));
      // What a crash right after the 250 leaves: queued, no event.
      String lost = spool(spool, "lost@dest.test");
      // Attempted already (so its accepted event was fsynced before the attempt's): left alone.
      String attempted = spool(spool, "tried@dest.test");
      Envelope e = spool.envelope(attempted);
      spool.update(e.withRecipients(List.of(e.recipients().get(0)
          .deferred(new Reply(451, "4.3.0", "later", Optional.of("mx.dest.test")), Instant.now()))));

      assertEquals(1, AcceptedEvents.restore(spool, events));
      List<JsonNode> all = stored(events);
      assertEquals(2, all.size(), all.toString());
      JsonNode restored = all.get(1);
      assertEquals("accepted", restored.get("type").asText());
      assertEquals(lost, restored.get("queue_id").asText());
      assertEquals("lost@dest.test", restored.get("recipient").asText());
      assertEquals("<m1@example.com>", restored.get("message_id").asText());

      // A second start finds it in the log: nothing twice.
      assertEquals(0, AcceptedEvents.restore(spool, events));
      assertEquals(2, stored(events).size());
      assertEquals(Set.of(logged, lost), events.queueIds(Instant.EPOCH, Set.of(Event.Type.ACCEPTED)));
    }
  }
}
