package dev.signet.events;

import dev.signet.config.SignetConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the relay reports what happened to each recipient (docs/ARCHITECTURE.md "Events"):
 * {@link #record} stores the events durably ({@code <spool>/events/}), writes each as one JSON line
 * to the {@code signet.events} logger, counts them, and the webhooks pick them up from the store on
 * their own threads. Also owns the bounce rules and the suppression list, which the events feed.
 */
public final class Events implements AutoCloseable {
  /** The logger whose lines are the events' JSON (conf/logback-json.xml writes them raw). */
  public static final String LOGGER = "signet.events";
  private static final Logger eventLog = LoggerFactory.getLogger(LOGGER);
  private static final Logger log = LoggerFactory.getLogger(Events.class);
  private static final Duration CLEANUP_EVERY = Duration.ofMinutes(10);

  private final EventStore store;
  private final BounceRules rules;
  private final Suppressions suppressions;
  private final SignetConfig.Feedback settings;
  private final List<Webhook> webhooks;
  private final List<Thread> threads = new ArrayList<>();
  private final HttpClient http;
  private final MeterRegistry registry;
  private final Clock clock;

  private Events(EventStore store, BounceRules rules, Suppressions suppressions, SignetConfig.Feedback settings,
      List<Webhook> webhooks, HttpClient http, MeterRegistry registry, Clock clock) {
    this.store = store;
    this.rules = rules;
    this.suppressions = suppressions;
    this.settings = settings;
    this.webhooks = webhooks;
    this.http = http;
    this.registry = registry;
    this.clock = clock;
    for (Event.Type t : Event.Type.values()) {
      typeCounter(t);
    }
    for (BounceClass c : BounceClass.values()) {
      bounceCounter(c);
    }
    Gauge.builder("signet.webhook.backlog", this, Events::backlog)
        .description("Events stored but not yet delivered to a webhook (summed over the webhooks)")
        .register(registry);
  }

  /**
   * Opens the event store and the suppression list under {@code spoolDir}, reads the bounce rules,
   * and starts one sender per webhook.
   *
   * @throws IOException naming the file at fault
   */
  public static Events start(SignetConfig config, Path spoolDir, MeterRegistry registry, Clock clock)
      throws IOException {
    SignetConfig.Feedback settings = config.feedback();
    BounceRules rules = BounceRules.load(settings.events().bounceRules());
    EventStore store = EventStore.open(spoolDir.resolve("events"));
    Suppressions suppressions;
    try {
      suppressions = Suppressions.open(spoolDir.resolve("suppressions"), clock);
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
    HttpClient http = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(10))
        .followRedirects(HttpClient.Redirect.NEVER) // a redirect would re-send the signed body elsewhere
        .executor(Executors.newVirtualThreadPerTaskExecutor())
        .build();
    List<Webhook> webhooks = new ArrayList<>();
    for (SignetConfig.Webhook w : settings.events().webhooks()) {
      webhooks.add(new Webhook(w, store, http, settings.events().maxAge(), clock, registry));
    }
    Events events = new Events(store, rules, suppressions, settings, List.copyOf(webhooks), http, registry, clock);
    for (Webhook w : webhooks) {
      events.threads.add(Thread.ofVirtual().name("signet-webhook").start(w));
      log.info("events: webhook {} (backlog {} event(s))", w.url(), w.backlog.get());
    }
    events.threads.add(Thread.ofVirtual().name("signet-events-cleanup").start(events::cleanupLoop));
    return events;
  }

  /** The bounce rules in force. */
  public BounceRules rules() {
    return rules;
  }

  /** The suppression list. */
  public Suppressions suppressions() {
    return suppressions;
  }

  public SignetConfig.Suppression suppressionSettings() {
    return settings.suppression();
  }

  /**
   * Stores {@code events} durably, then logs and counts them and lets the webhooks know. On return
   * they survive a crash and will reach every webhook at least once.
   */
  public void record(List<Event> events) throws IOException {
    if (events.isEmpty()) {
      return;
    }
    store.append(events);
    published(events);
  }

  /**
   * As {@link #record}, but returns before the events are fsynced: they are durable within {@link
   * EventStore#SOON} (sooner when another record's fsync covers them). For the accepted events only,
   * which the spool re-creates at the next start if a crash lost them (see {@code AcceptedEvents}).
   */
  public void recordSoon(List<Event> events) throws IOException {
    if (events.isEmpty()) {
      return;
    }
    store.appendSoon(events);
    published(events);
  }

  /**
   * The queue ids of the events of {@code types} stored from {@code since} on (by each event's own
   * time), read from disk: what a restart checks against the queue.
   */
  public Set<String> queueIds(Instant since, Set<Event.Type> types) throws IOException {
    Set<String> out = new HashSet<>();
    readSince(since, s -> {
      if (types.contains(s.type())) {
        Event.queueId(s.json()).ifPresent(out::add);
      }
      return true;
    });
    return out;
  }

  /** Logs and counts events just stored, and lets the webhooks know. */
  private void published(List<Event> events) {
    for (Event e : events) {
      eventLog.info(e.toJson());
      typeCounter(e.type()).increment();
      if (e.type() == Event.Type.BOUNCED && e.bounceClass() != null) {
        bounceCounter(e.bounceClass()).increment();
      }
      for (Webhook w : webhooks) {
        w.stored(e.type());
      }
    }
  }

  /** The stored events from {@code since} on (oldest first), at most {@code max}: for the admin API. */
  public List<String> recent(Instant since, int max) throws IOException {
    List<String> out = new ArrayList<>();
    if (max > 0) {
      readSince(since, s -> {
        out.add(s.json());
        return out.size() < max;
      });
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * Hands {@code each} the stored events from {@code since} on (by each event's own time, to the
   * millisecond, as they are stored), oldest first, until it returns false or the durable end.
   */
  private void readSince(Instant since, Predicate<EventStore.Stored> each) throws IOException {
    Instant from = since.truncatedTo(ChronoUnit.MILLIS);
    EventStore.Position at = store.startAt(from);
    for (List<EventStore.Stored> page = store.read(at, 1000); !page.isEmpty(); page = store.read(at, 1000)) {
      for (EventStore.Stored s : page) {
        if (!s.time().isBefore(from) && !each.test(s)) {
          return;
        }
      }
      at = page.get(page.size() - 1).next();
    }
  }

  private Counter typeCounter(Event.Type type) {
    return Counter.builder("signet.events").tag("type", type.label())
        .description("Delivery events recorded, by type").register(registry);
  }

  private Counter bounceCounter(BounceClass c) {
    return Counter.builder("signet.bounces").tag("class", c.label())
        .description("Recipients bounced (hard failure or expiry), by bounce class").register(registry);
  }

  private double backlog() {
    return webhooks.stream().mapToLong(w -> w.backlog.get()).sum();
  }

  /** Removes segments every webhook is past and that are older than events.max-age. */
  private void cleanupLoop() {
    while (!Thread.currentThread().isInterrupted()) {
      try {
        Thread.sleep(CLEANUP_EVERY);
        EventStore.Position before = store.end();
        for (Webhook w : webhooks) {
          before = w.cursor().compareTo(before) < 0 ? w.cursor() : before;
        }
        store.removeBefore(before, clock.instant().minus(settings.events().maxAge()));
      } catch (InterruptedException e) {
        return;
      } catch (IOException | RuntimeException e) {
        log.error("events: cleanup of the event store: {}", e.toString());
      }
    }
  }

  /** Stops the webhook senders (what they had not sent stays in the store) and closes the files. */
  @Override
  public void close() {
    threads.forEach(Thread::interrupt);
    for (Thread t : threads) {
      try {
        t.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    http.close();
    try {
      store.close();
    } catch (IOException e) {
      log.error("events: closing the event store: {}", e.getMessage());
    }
    try {
      suppressions.close();
    } catch (IOException e) {
      log.error("events: closing the suppression list: {}", e.getMessage());
    }
  }
}
