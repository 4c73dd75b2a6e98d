package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.SmtpSender;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.LiveKeyRing;
import dev.signet.dkim.Signer;
import dev.signet.message.Submission;
import dev.signet.metrics.Metrics;
import dev.signet.metrics.MetricsServer;
import dev.signet.queue.Scheduler;
import dev.signet.queue.Spool;
import dev.signet.smtp.SubmissionServer;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running relay, assembled from the stages of DESIGN.md: submission listeners, the signing
 * pipeline (keys reloaded live), the spool, the delivery scheduler and the metrics endpoint with
 * its health checks. {@code serve} runs one per process; tests start several in one JVM.
 */
final class Relay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Relay.class);
  /** Sessions in DATA get this long to finish at shutdown; the whole stop stays under 30 s. */
  static final Duration SESSION_GRACE = Duration.ofSeconds(20);
  /** Deliveries in flight get this long (per scheduler stage) to record their outcome. */
  static final Duration DELIVERY_GRACE = Duration.ofSeconds(3);
  private static final Duration KEY_WATCH_DEBOUNCE = Duration.ofMillis(500);

  final Metrics metrics;
  final LiveKeyRing keys;
  final Spool spool;
  private final SmtpSender sender;
  private final Scheduler scheduler;
  final SubmissionServer server;
  private final MetricsServer metricsServer;
  private boolean stopped;

  private Relay(Metrics metrics, LiveKeyRing keys, Spool spool, SmtpSender sender, Scheduler scheduler,
      SubmissionServer server, MetricsServer metricsServer) {
    this.metrics = metrics;
    this.keys = keys;
    this.spool = spool;
    this.sender = sender;
    this.scheduler = scheduler;
    this.server = server;
    this.metricsServer = metricsServer;
  }

  /**
   * Starts everything; on return the listeners accept mail. On failure whatever started is stopped.
   *
   * @param ring the keys as loaded at start ({@code dkim.keys}); reloaded on change or {@link #reloadKeys}
   */
  static Relay start(SignetConfig c, KeyRing ring) throws IOException {
    Metrics metrics = new Metrics();
    LiveKeyRing keys = LiveKeyRing.of(c.dkim().keys(), ring, metrics);
    Signer signer = new Signer(c.dkim(), Clock.systemUTC(), metrics);
    log.info("signing providers: {}", signer.providers());
    boolean subdomains = c.dkim().subdomains();
    // The ring is read once per message: a reload never mixes old and new keys in one message.
    Submission submission = new Submission(c, signer, domain -> keys.current().keysFor(domain, subdomains));
    Spool spool;
    try {
      spool = Spool.open(c.spool().dir());
    } catch (IOException e) {
      throw new IOException("spool.dir " + c.spool().dir() + ": " + e.getMessage(), e);
    }
    SmtpSender sender = null;
    Scheduler scheduler = null;
    SubmissionServer server = null;
    MetricsServer metricsServer = null;
    try {
      sender = new SmtpSender(c);
      scheduler = new Scheduler(c, spool, sender::deliver, Clock.systemUTC(), metrics);
      server = new SubmissionServer(c, submission, spool, metrics);
      server.start();
      scheduler.start();
      keys.watch(KEY_WATCH_DEBOUNCE);
      metricsServer = MetricsServer.start(c.metrics().listen(), metrics);
      metricsServer.check("listeners", server::listening).check("spool", spool::probe);
      log.info("metrics: http://{}:{}/metrics", c.metrics().listen().host(), metricsServer.port());
      return new Relay(metrics, keys, spool, sender, scheduler, server, metricsServer);
    } catch (IOException | RuntimeException e) {
      new Relay(metrics, keys, spool, sender, scheduler, server, metricsServer).close();
      throw e;
    }
  }

  int submissionPort() {
    return server.addresses().get(0).getPort();
  }

  int metricsPort() {
    return metricsServer.port();
  }

  /** SIGHUP: loads the keys directory again (the old keys stay if the new ones do not load). */
  boolean reloadKeys() {
    return keys.reload();
  }

  /**
   * Graceful stop, in pipeline order: listeners first (no new mail; sessions in DATA finish within
   * {@link #SESSION_GRACE} or are cut off unanswered), then deliveries (outcomes in flight written
   * within {@link #DELIVERY_GRACE}; the rest stays pending on disk), the spool, and the metrics
   * endpoint last so the stop can be watched to the end.
   */
  void stop(Duration sessionGrace, Duration deliveryGrace) {
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
    }
    if (server != null) {
      server.shutdown(sessionGrace);
    }
    if (scheduler != null) {
      try {
        scheduler.stop(deliveryGrace);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (sender != null) {
      sender.close();
    }
    keys.close();
    try {
      spool.close();
    } catch (IOException e) {
      log.error("closing the spool: {}", e.getMessage());
    }
    if (metricsServer != null) {
      metricsServer.close();
    }
  }

  @Override
  public void close() {
    stop(SESSION_GRACE, DELIVERY_GRACE);
  }
}
