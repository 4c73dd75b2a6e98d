package dev.signet.metrics;

import dev.signet.dkim.SigningListener;
import dev.signet.queue.QueueGauges;
import dev.signet.queue.QueueListener;
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
      deliveries(d, "default");
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
    delivered(result, "default", recipients);
  }

  /** {@code signet_deliveries_total{result,provider}}: {@code provider} from the shaping file's closed set. */
  public void delivered(Delivery result, String provider, int recipients) {
    deliveries(result, provider).increment(recipients);
  }

  private Counter deliveries(Delivery result, String provider) {
    return Counter.builder(DELIVERIES.name()).description(DELIVERIES.description())
        .tag("result", result.name().toLowerCase(Locale.ROOT)).tag("provider", provider).register(registry);
  }

  /**
   * Registers the shaping meters for the shaping file's {@code providers} (a closed set, never a
   * domain): {@code signet_shaping_suspended{provider}} (1 while a backoff rule suspends it),
   * {@code signet_shaping_throttled_total{provider}}, the deliveries counters per provider, and, when
   * counters are shared through Redis, {@code signet_shaping_redis_up}.
   */
  public void shaping(java.util.List<String> providers, java.util.function.Predicate<String> suspended,
      java.util.function.BooleanSupplier redisUp) {
    for (String provider : providers) {
      // strongReference: the gauge holds the only reference to the predicate (weakly, by default: NaN after a GC).
      Gauge.builder("signet.shaping.suspended", suspended, p -> p.test(provider) ? 1 : 0).strongReference(true)
          .tag("provider", provider)
          .description("1 while a backoff rule suspends deliveries to the provider").register(registry);
      throttled(provider, 0);
      for (Delivery d : Delivery.values()) {
        deliveries(d, provider);
      }
    }
    if (redisUp != null) {
      Gauge.builder("signet.shaping.redis.up", redisUp, r -> r.getAsBoolean() ? 1 : 0).strongReference(true)
          .description("1 while shaping counters are shared through Redis; 0 = per-instance shares").register(registry);
    }
  }

  /** A delivery held back by shaping (suspension, rate or connections). */
  public void throttled(String provider) {
    throttled(provider, 1);
  }

  private void throttled(String provider, int n) {
    Counter.builder("signet.shaping.throttled").tag("provider", provider)
        .description("Deliveries held back by shaping").register(registry).increment(n);
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

  /** The queue's attempts, outcomes and gauges, counted here. */
  public QueueListener queue() {
    return new QueueListener() {
      @Override
      public void attemptTook(long nanos) {
        delivery.record(nanos, TimeUnit.NANOSECONDS);
      }

      @Override
      public void outcomes(String provider, int delivered, int deferred, int failed) {
        delivered(Delivery.DELIVERED, provider, delivered);
        delivered(Delivery.DEFERRED, provider, deferred);
        delivered(Delivery.BOUNCED, provider, failed);
      }

      @Override
      public void gauges(QueueGauges gauges) {
        queueGauges(gauges, QueueGauges.STATES, QueueGauges::messages, QueueGauges::oldestAgeSeconds);
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

  /**
   * Labels of {@code signet_delivery_tls_total{policy}}: which TLS policy applied to a session (the
   * levels of delivery.tls-policy, a domain's MTA-STS policy, DANE, the smarthost).
   */
  private static final java.util.Set<String> TLS_POLICIES = java.util.Set.of(
      "none", "opportunistic", "encrypt", "verify", "dane", "mta-sts", "smarthost");

  /**
   * {@code signet_delivery_tls_total{policy,result}}: one outbound session judged by its TLS policy;
   * {@code ok} = the policy was met, {@code failed} = it was not (the host was skipped, or, for a
   * policy in testing mode, the failure was reported and the mail went anyway).
   */
  public void deliveryTls(String policy, boolean ok) {
    if (!TLS_POLICIES.contains(policy)) {
      throw new IllegalArgumentException("not a TLS policy label: " + policy);
    }
    Counter.builder("signet.delivery.tls").tag("policy", policy).tag("result", ok ? "ok" : "failed")
        .description("Outbound SMTP sessions by TLS policy and whether the policy was met")
        .register(registry).increment();
  }

  /**
   * Registers {@code signet_mta_sts_policies{mode}}: cached, unexpired MTA-STS policies of recipient
   * domains by mode ({@code enforce}, {@code testing}), read from {@code count} at scrape time.
   */
  public void mtaStsPolicies(java.util.function.ToIntFunction<String> count) {
    for (String mode : java.util.List.of("enforce", "testing")) {
      Gauge.builder("signet.mta.sts.policies", () -> count.applyAsInt(mode)).tag("mode", mode)
          .description("Cached MTA-STS policies of recipient domains by mode").register(registry);
    }
  }

  /**
   * Registers {@code signet_dnssec_available}: 1 when DNSSEC validates through delivery.dns (DANE in
   * force), 0 when the resolvers strip or break it (DANE left out), -1 before the first check.
   */
  public void dnssecAvailable(java.util.function.IntSupplier state) {
    Gauge.builder("signet.dnssec.available", state::getAsInt)
        .description("Whether DNSSEC validates through the configured resolvers (DANE usable)").register(registry);
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
