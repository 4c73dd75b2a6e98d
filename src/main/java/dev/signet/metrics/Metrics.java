package dev.signet.metrics;

import dev.signet.dkim.SigningListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;

/**
 * The relay's meters under their contract names (docs/ARCHITECTURE.md,
 * "Contracts with operators"). Every label takes values from a
 * closed enum, so cardinality stays bounded whatever the traffic (never an address or a domain).
 * One instance per relay: tests run several relays in one JVM, so nothing here is static.
 */
public final class Metrics {

  /** {@code signet_messages_received_total{result}}: what the submission server answered to DATA. */
  public enum Received { ACCEPTED, REJECTED, DEFERRED }

  /** {@code signet_messages_unsigned_total{reason}}: mail that left (or was refused) without a signature. */
  public enum Unsigned { NO_KEY_REFUSED, NO_KEY_RELAYED }

  /** {@code signet_deliveries_total{result}}: one count per recipient outcome. */
  public enum Delivery { DELIVERED, DEFERRED, BOUNCED }

  /** {@code signet_dkim_key_reloads_total{result}}: reloads of dkim.keys (SIGHUP or file change). */
  public enum KeyReload { OK, FAILED }

  private static final Duration[] SIGNING_BUCKETS = {
    Duration.ofNanos(250_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
    Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(100), Duration.ofMillis(500),
    Duration.ofSeconds(2)
  };
  private static final Duration[] DELIVERY_BUCKETS = {
    Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
    Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
    Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofMinutes(5)
  };

  private static final Described RECEIVED = new Described("signet.messages.received",
      "Messages the submission server answered at the end of DATA, by result (accepted, rejected, deferred)");
  private static final Described UNSIGNED = new Described("signet.messages.unsigned",
      "Messages without a DKIM key for their From domain, by what happened (refused or relayed unsigned)");
  private static final Described DELIVERIES = new Described("signet.deliveries",
      "Recipient outcomes of delivery attempts (delivered, deferred, bounced)");
  private static final Described KEY_RELOADS = new Described("signet.dkim.key.reloads",
      "Reloads of the DKIM keys directory (SIGHUP or file change), by result");

  private final PrometheusMeterRegistry registry;
  private final Timer signing;
  private final Timer delivery;
  private final Counter authFailures;
  private final Counter selfCheckFailures;
  private final AtomicInteger sessionsActive = new AtomicInteger();

  public Metrics() {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);

    for (Received r : Received.values()) {
      counter(RECEIVED, "result", r);
    }
    for (Unsigned u : Unsigned.values()) {
      counter(UNSIGNED, "reason", u);
    }
    for (Delivery d : Delivery.values()) {
      counter(DELIVERIES, "result", d);
    }
    for (KeyReload k : KeyReload.values()) {
      counter(KEY_RELOADS, "result", k);
    }
    this.signing = Timer.builder("signet.signing")
        .description("Time to compute the DKIM signatures of one message (all keys)")
        .serviceLevelObjectives(SIGNING_BUCKETS)
        .register(registry);
    this.delivery = Timer.builder("signet.delivery")
        .description("Time of one delivery attempt to one destination, connect to QUIT")
        .serviceLevelObjectives(DELIVERY_BUCKETS)
        .register(registry);
    this.authFailures = Counter.builder("signet.smtp.auth.failures")
        .description("Failed SMTP AUTH attempts").register(registry);
    this.selfCheckFailures = Counter.builder("signet.signature.selfcheck.failures")
        .description("Signatures that did not verify against the public key on disk right after signing")
        .register(registry);
    Gauge.builder("signet.smtp.sessions.active", sessionsActive, AtomicInteger::get)
        .description("Open SMTP sessions on the submission listeners").register(registry);
  }

  public void received(Received result) {
    counter(RECEIVED, "result", result).increment();
  }

  public void unsigned(Unsigned reason) {
    counter(UNSIGNED, "reason", reason).increment();
  }

  /** One signature made, by its {@code a=} algorithm ({@code rsa-sha256} or {@code ed25519-sha256}). */
  public void signed(String algorithm) {
    if (!algorithm.equals("rsa-sha256") && !algorithm.equals("ed25519-sha256")) {
      throw new IllegalArgumentException("not a DKIM signing algorithm: " + algorithm);
    }
    Counter.builder("signet.messages.signed").tag("algorithm", algorithm)
        .description("DKIM signatures made").register(registry).increment();
  }

  public Timer signingTime() {
    return signing;
  }

  public void delivered(Delivery result, int recipients) {
    counter(DELIVERIES, "result", result).increment(recipients);
  }

  public Timer deliveryTime() {
    return delivery;
  }

  /** A reload of the keys directory: {@code ok} = the new keys are in force. */
  public void keyReload(boolean ok) {
    counter(KEY_RELOADS, "result", ok ? KeyReload.OK : KeyReload.FAILED).increment();
  }

  public void authFailure() {
    authFailures.increment();
  }

  public void selfCheckFailure() {
    selfCheckFailures.increment();
  }

  /** The signer's and the key ring's events, counted here. */
  public SigningListener signing() {
    return new SigningListener() {
      @Override
      public void signed(long nanos) {
        signing.record(nanos, TimeUnit.NANOSECONDS);
      }

      @Override
      public void selfCheckFailed() {
        selfCheckFailure();
      }

      @Override
      public void keysReloaded(boolean ok) {
        keyReload(ok);
      }
    };
  }

  public void sessionOpened() {
    sessionsActive.incrementAndGet();
  }

  public void sessionClosed() {
    sessionsActive.decrementAndGet();
  }

  /**
   * Registers the queue gauges, read from {@code source} at scrape time: {@code signet_queue_messages{state}}
   * for each state the spool reports and {@code signet_queue_oldest_age_seconds}.
   */
  public <T> void queueGauges(T source, Iterable<String> states, java.util.function.BiFunction<T, String, Number> count,
      ToDoubleFunction<T> oldestAgeSeconds) {
    for (String state : states) {
      Gauge.builder("signet.queue.messages", source, s -> count.apply(s, state).doubleValue())
          .tag("state", state).description("Messages in the spool by state").register(registry);
    }
    Gauge.builder("signet.queue.oldest.age", source, oldestAgeSeconds)
        .baseUnit("seconds").description("Age of the oldest message waiting in the spool").register(registry);
  }

  /** The registry, for binders of other stages (e.g. executor metrics). */
  public MeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition (or OpenMetrics when {@code accept} asks for it). */
  String scrape(String accept) {
    return registry.scrape(accept == null ? "text/plain" : accept);
  }

  private Counter counter(Described meter, String tag, Enum<?> value) {
    return Counter.builder(meter.name()).description(meter.description())
        .tag(tag, value.name().toLowerCase(Locale.ROOT)).register(registry);
  }

  /**
   * A meter's name and its one-line HELP text. Prometheus' own linter ({@code promtool check metrics})
   * flags a metric without HELP, and the text is what a dashboard user sees first.
   */
  private record Described(String name, String description) {}
}
