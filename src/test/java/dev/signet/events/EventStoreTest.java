package dev.signet.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventStoreTest {
  @TempDir Path dir;

  private static Event event(String recipient) {
    return Event.of(Event.Type.BOUNCED, Instant.parse("2026-12-06T10:00:00.123Z"), "0Q1", "<m@x>", "app@example.com",
        recipient, 2).withResult("5.1.1", "550 5.1.1 \"no\" such user\tat\\ mx", "mx.dest.test",
        BounceClass.INVALID_RECIPIENT);
  }

  @Test
  void eventsAreJsonWithTheContractFields() throws Exception {
    JsonNode json = new ObjectMapper().readTree(event("bob@dest.test").toJson());
    assertEquals("bounced", json.get("type").asText());
    assertEquals("2026-12-06T10:00:00.123Z", json.get("time").asText());
    assertEquals("550 5.1.1 \"no\" such user\tat\\ mx", json.get("reply").asText());
    assertEquals("invalid-recipient", json.get("class").asText());
    assertEquals(2, json.get("attempt").asInt());
    assertTrue(json.get("tls").isNull());
    for (String field : List.of("id", "type", "time", "queue_id", "message_id", "sender", "recipient", "attempt",
        "status", "reply", "mx", "class", "tls")) {
      assertTrue(json.has(field), field);
    }
    assertEquals(13, json.size());
  }

  @Test
  void anAppendSoonIsDurableWithTheNextAppendOrWithinItsDelay() throws Exception {
    try (EventStore store = EventStore.open(dir)) {
      EventStore.Position start = store.start();
      store.appendSoon(List.of(event("soon1@dest.test")));
      store.append(List.of(event("now@dest.test")));
      // The append's fsync covered the earlier write: both are readable the moment it returns.
      assertEquals(List.of("soon1@dest.test", "now@dest.test"), recipients(store.read(start, 10)));

      EventStore.Position before = store.end();
      store.appendSoon(List.of(event("soon2@dest.test")));
      // Nothing else appends: the store's own thread fsyncs it after EventStore.SOON.
      assertTrue(store.awaitAppend(before, java.time.Duration.ofSeconds(10)), "appendSoon never became durable");
      assertEquals(List.of("soon2@dest.test"), recipients(store.read(before, 10)));
    }
    try (EventStore store = EventStore.open(dir)) {
      assertEquals(List.of("soon1@dest.test", "now@dest.test", "soon2@dest.test"),
          recipients(store.read(store.start(), 10)));
    }
  }

  private static List<String> recipients(List<EventStore.Stored> stored) throws Exception {
    List<String> out = new java.util.ArrayList<>();
    for (EventStore.Stored s : stored) {
      out.add(new ObjectMapper().readTree(s.json()).get("recipient").asText());
    }
    return out;
  }

  @Test
  void theQueueIdIsReadBackFromTheJson() {
    assertEquals(java.util.Optional.of("0Q1"), Event.queueId(event("a@dest.test").toJson()));
    Event none = Event.of(Event.Type.SUPPRESSED, Instant.EPOCH, null, null, "app@example.com", "b@dest.test", 0);
    assertEquals(java.util.Optional.empty(), Event.queueId(none.toJson()));
  }

  @Test
  void appendedEventsAreReadBackInOrderFromACursor() throws Exception {
    try (EventStore store = EventStore.open(dir)) {
      EventStore.Position start = store.end();
      store.append(List.of(event("a@x.test"), event("b@x.test")));
      store.append(List.of(event("c@x.test")));
      List<EventStore.Stored> all = store.read(start, 10);
      assertEquals(3, all.size());
      assertTrue(all.get(2).json().contains("c@x.test"));
      store.saveCursor("hook", all.get(0).next());
      assertEquals(2, store.read(store.cursor("hook").orElseThrow(), 10).size());
    }
  }

  @Test
  void readersFollowAcrossSegmentsAndCleanupKeepsWhatAReaderStillNeeds() throws Exception {
    try (EventStore store = EventStore.open(dir, 1000)) {
      EventStore.Position start = store.end();
      for (int i = 0; i < 20; i++) {
        store.append(List.of(event("r" + i + "@x.test")));
      }
      long segments = Files.list(dir).filter(p -> p.toString().endsWith(".log")).count();
      assertTrue(segments >= 5, "rotated into " + segments + " segments");
      List<EventStore.Stored> all = store.read(start, 100);
      assertEquals(20, all.size());
      for (int i = 0; i < 20; i++) {
        assertTrue(all.get(i).json().contains("\"r" + i + "@x.test\""), all.get(i).json());
      }
      EventStore.Position reader = all.get(11).next(); // a webhook that got 12 events
      assertTrue(store.removeBefore(reader, Instant.now().plusSeconds(60)) > 0);
      assertEquals(List.of(), store.read(reader, 100).stream().map(EventStore.Stored::json)
          .filter(j -> j.contains("\"r3@x.test\"")).toList());
      assertEquals(8, store.read(reader, 100).size(), "the reader still gets all it has not had");
      // A position inside a removed segment moves on to the next segment there is.
      List<EventStore.Stored> fromStart = store.read(start, 100);
      assertTrue(fromStart.size() >= 8 && fromStart.size() < 20, "read " + fromStart.size());
      assertEquals(all.get(19).json(), fromStart.get(fromStart.size() - 1).json());
    }
  }

  @Test
  void aTornLastLineIsCutOffAtOpen() throws Exception {
    try (EventStore store = EventStore.open(dir)) {
      store.append(List.of(event("a@x.test")));
    }
    Path segment = Files.list(dir).filter(p -> p.toString().endsWith(".log")).findFirst().orElseThrow();
    Files.write(segment, "1765015200000 bounced {\"id\":\"half".getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.APPEND);
    try (EventStore store = EventStore.open(dir)) {
      List<EventStore.Stored> all = store.read(new EventStore.Position(0, 0), 10);
      assertEquals(1, all.size());
      store.append(List.of(event("b@x.test")));
      assertEquals(2, store.read(new EventStore.Position(0, 0), 10).size());
    }
  }

  @Test
  void theSegmentBeingWrittenIsPreallocatedAndAClosedOneHoldsOnlyItsEvents() throws Exception {
    Path segment;
    long events;
    try (EventStore store = EventStore.open(dir, 64 * 1024)) {
      store.append(List.of(event("a@x.test")));
      segment = Files.list(dir).filter(p -> p.toString().endsWith(".log")).findFirst().orElseThrow();
      assertEquals(64 * 1024, Files.size(segment), "appends overwrite zeros: the size never changes");
      events = store.end().offset();
      assertTrue(events > 0 && events < 1024, "end " + events);
    }
    assertEquals(events, Files.size(segment), "close cuts the zeros off");
  }

  @Test
  void afterACrashEverythingFromTheFirstZeroOnIsCut() throws Exception {
    try (EventStore store = EventStore.open(dir, 64 * 1024)) {
      store.append(List.of(event("a@x.test")));
    }
    Path segment = Files.list(dir).filter(p -> p.toString().endsWith(".log")).findFirst().orElseThrow();
    long events = Files.size(segment);
    // What a crash can leave in a preallocated segment: a line not covered by an fsync, half on disk (a
    // block of it written, the next still zeros), and a later block of it written after the gap.
    byte[] line = ("1765015200000 bounced " + event("b@x.test").toJson() + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] crashed = new byte[8192];
    System.arraycopy(line, 0, crashed, 0, 40);
    System.arraycopy(line, 100, crashed, 4096, line.length - 100);
    Files.write(segment, crashed, StandardOpenOption.APPEND);
    try (EventStore store = EventStore.open(dir, 64 * 1024)) {
      assertEquals(events, store.end().offset());
      assertEquals(1, store.read(new EventStore.Position(0, 0), 10).size());
      store.append(List.of(event("c@x.test")));
      List<EventStore.Stored> all = store.read(new EventStore.Position(0, 0), 10);
      assertEquals(2, all.size());
      assertTrue(all.get(1).json().contains("c@x.test"), all.get(1).json());
    }
  }

  @Test
  void webhookSignatureIsStripesScheme() {
    // Computed independently: printf '1700000000.[]' | openssl dgst -sha256 -hmac 0123456789abcdef
    assertEquals("t=1700000000,v1=c91545d09b999c13267144ab89f40da36c784c2397a9684263e82122a502a910",
        Webhook.signature("0123456789abcdef", 1700000000L, "[]".getBytes(StandardCharsets.US_ASCII)));
  }
}
