package dev.signet.events;

import dev.signet.config.SignetConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the event store to one webhook, in order, one POST at a time (so each webhook has at most
 * one request in flight, and a slow one only falls behind: mail delivery never waits for it). A
 * batch is up to {@link #MAX_BATCH} events, sent once it is full or its first event is
 * {@link #LINGER} old. The store position after a 2xx answer is saved (the cursor), so a restart
 * resends at most the batch in flight (at least once; receivers dedupe by {@code id}). A failed POST
 * is retried with doubling backoff; events older than {@code events.max-age} are dropped, counted.
 */
final class Webhook implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Webhook.class);
  static final int MAX_BATCH = 100;
  static final Duration LINGER = Duration.ofSeconds(1);
  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final SignetConfig.Webhook target;
  private final String name;
  private final Set<Event.Type> types;
  private final EventStore store;
  private final HttpClient http;
  private final Duration maxAge;
  private final Clock clock;
  private final Counter delivered;
  private final Counter failed;
  private final Counter dropped;
  /** Events stored but not yet delivered (or dropped) to this webhook. */
  final AtomicLong backlog = new AtomicLong();
  private volatile EventStore.Position cursor;

  Webhook(SignetConfig.Webhook target, EventStore store, HttpClient http, Duration maxAge, Clock clock,
      MeterRegistry registry) throws IOException {
    this.target = target;
    this.name = name(target);
    this.types = target.types().isEmpty() ? Set.of(Event.Type.values())
        : target.types().stream().map(Event.Type::of).collect(Collectors.toUnmodifiableSet());
    this.store = store;
    this.http = http;
    this.maxAge = maxAge;
    this.clock = clock;
    this.delivered = counter(registry, "delivered");
    this.failed = counter(registry, "failed");
    this.dropped = counter(registry, "dropped");
    // A new webhook starts at the end: it gets what happens from now on, not the store's history.
    this.cursor = store.cursor(name).orElse(store.end());
    if (store.cursor(name).isEmpty()) {
      store.saveCursor(name, cursor);
    }
    countBacklog();
  }

  private static Counter counter(MeterRegistry registry, String result) {
    return Counter.builder("signet.webhook.deliveries").tag("result", result)
        .description("Events by what became of the webhook POST that carried them: delivered (2xx), "
            + "failed (retried later), dropped (older than events.max-age)")
        .register(registry);
  }

  /** The cursor's file name: the URL's hash, so a changed URL is a new webhook. */
  static String name(SignetConfig.Webhook target) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(target.url().toString().getBytes(StandardCharsets.UTF_8));
      return "webhook-" + HexFormat.of().formatHex(hash, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private void countBacklog() throws IOException {
    EventStore.Position at = cursor;
    long n = 0;
    for (List<EventStore.Stored> page = store.read(at, 10_000); !page.isEmpty(); page = store.read(at, 10_000)) {
      n += page.stream().filter(s -> types.contains(s.type())).count();
      at = page.get(page.size() - 1).next();
    }
    backlog.set(n);
  }

  /** Called for every stored event (any type). */
  void stored(Event.Type type) {
    if (types.contains(type)) {
      backlog.incrementAndGet();
    }
  }

  @Override
  public void run() {
    Duration backoff = FIRST_BACKOFF;
    while (!Thread.currentThread().isInterrupted()) {
      try {
        Batch batch = next();
        if (batch == null) {
          continue;
        }
        if (batch.events().isEmpty() || post(batch)) {
          advance(batch);
          backoff = FIRST_BACKOFF;
        } else {
          failed.increment(batch.events().size());
          Thread.sleep(backoff);
          backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
      } catch (InterruptedException e) {
        return;
      } catch (IOException | RuntimeException e) {
        log.error("webhook {}: event store: {}", target.url(), e.toString());
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException stop) {
          return;
        }
      }
    }
  }

  /**
   * Events for this webhook from the cursor on, the position after them, and how many events of its
   * types in that stretch are dropped as older than events.max-age (counted once the cursor moves).
   */
  private record Batch(List<EventStore.Stored> events, EventStore.Position next, int dropped) {}

  /** The next batch (null = nothing yet, ask again): full, or lingered long enough. */
  private Batch next() throws IOException, InterruptedException {
    EventStore.Position at = cursor;
    List<EventStore.Stored> read = store.read(at, MAX_BATCH * 10);
    if (read.isEmpty()) {
      store.awaitAppend(at, Duration.ofSeconds(5));
      return null;
    }
    Instant oldest = clock.instant().minus(maxAge);
    List<EventStore.Stored> wanted = new java.util.ArrayList<>();
    EventStore.Position next = at;
    EventStore.Position beforeFirst = at;
    int tooOld = 0;
    int tooOldBeforeFirst = 0;
    for (EventStore.Stored s : read) {
      if (wanted.size() == MAX_BATCH) {
        break;
      }
      if (types.contains(s.type())) {
        if (s.time().isBefore(oldest)) {
          tooOld++; // retried for events.max-age already (or stored that long before a restart)
        } else {
          if (wanted.isEmpty()) {
            beforeFirst = next;
            tooOldBeforeFirst = tooOld;
          }
          wanted.add(s);
        }
      }
      next = s.next();
    }
    if (wanted.size() < MAX_BATCH && !wanted.isEmpty()
        && Duration.between(wanted.get(0).time(), clock.instant()).compareTo(LINGER) < 0) {
      if (tooOldBeforeFirst > 0) {
        return new Batch(List.of(), beforeFirst, tooOldBeforeFirst); // skip them now, linger after
      }
      Thread.sleep(LINGER.minus(Duration.between(wanted.get(0).time(), clock.instant())).toMillis() + 1);
      return null; // read again: more may have come
    }
    return new Batch(wanted, next, tooOld);
  }

  private void advance(Batch batch) throws IOException {
    store.saveCursor(name, batch.next());
    cursor = batch.next();
    if (!batch.events().isEmpty()) {
      delivered.increment(batch.events().size());
    }
    if (batch.dropped() > 0) {
      log.warn("webhook {}: dropped {} event(s) older than events.max-age {}", target.url(), batch.dropped(), maxAge);
      dropped.increment(batch.dropped());
    }
    backlog.addAndGet(-(batch.events().size() + batch.dropped()));
  }

  /** One signed POST; true on a 2xx answer. */
  private boolean post(Batch batch) throws InterruptedException {
    StringBuilder body = new StringBuilder(batch.events().size() * 400).append('[');
    for (int i = 0; i < batch.events().size(); i++) {
      body.append(i == 0 ? "" : ",").append(batch.events().get(i).json());
    }
    byte[] bytes = body.append(']').toString().getBytes(StandardCharsets.UTF_8);
    long t = clock.instant().getEpochSecond();
    HttpRequest request = HttpRequest.newBuilder(target.url())
        .timeout(TIMEOUT)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Signet")
        .header("Signet-Signature", signature(target.secret(), t, bytes))
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
        .build();
    try {
      HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
      if (response.statusCode() / 100 == 2) {
        return true;
      }
      log.warn("webhook {}: HTTP {} for {} event(s); retrying", target.url(), response.statusCode(),
          batch.events().size());
    } catch (IOException e) {
      log.warn("webhook {}: {} for {} event(s); retrying", target.url(), e.toString(), batch.events().size());
    }
    return false;
  }

  /**
   * {@code t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">} (Stripe's scheme): the receiver
   * checks authenticity with the shared secret and freshness with t.
   */
  static String signature(String secret, long t, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((t + ".").getBytes(StandardCharsets.US_ASCII));
      return "t=" + t + ",v1=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** Where this webhook stands (for cleanup of segments every webhook is past). */
  EventStore.Position cursor() {
    return cursor;
  }

  String url() {
    return target.url().toString();
  }
}
