package dev.signet.cli;

import dev.signet.admin.AdminServer;
import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.LiveKeyRing;
import dev.signet.dmarc.DmarcPoller;
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
 * One running relay, assembled from the stages of docs/ARCHITECTURE.md: the delivery side
 * ({@link Outbound}: spool, keys, events, sender, scheduler, the same as {@code drain} runs) with the
 * listeners on top: submission (the signing pipeline, keys reloaded live), the admin API, and the
 * metrics endpoint with its health checks. {@code serve} runs one per process; tests start several
 * in one JVM.
 */
final class Relay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Relay.class);
  /** Sessions in DATA get this long to finish at shutdown (counted from the start of the stop). */
  static final Duration SESSION_GRACE = Duration.ofSeconds(20);
  /**
   * Deliveries in flight get this long, from the start of the stop, to end and record their outcome;
   * then the cut-off (at most 2 × {@link Scheduler#CUT_OFF_GRACE}) brings the whole stop to at most
   * 28 s, inside the 30 s Kubernetes gives a pod by default (terminationGracePeriodSeconds).
   */
  static final Duration DELIVERY_GRACE = Duration.ofSeconds(24);
  private static final Duration KEY_WATCH_DEBOUNCE = Duration.ofMillis(500);

  final Metrics metrics;
  final LiveKeyRing keys;
  final Spool spool;
  final Outbound outbound;
  final SubmissionServer server;
  private final MetricsServer metricsServer;
  private volatile DmarcPoller dmarc;
  private final AdminServer admin;
  private boolean stopped;

  private Relay(Metrics metrics, Outbound outbound, SubmissionServer server, MetricsServer metricsServer,
      AdminServer admin) {
    this.metrics = metrics;
    this.outbound = outbound;
    this.keys = outbound.keys;
    this.spool = outbound.spool;
    this.server = server;
    this.metricsServer = metricsServer;
    this.admin = admin;
  }

  /**
   * Starts everything; on return the listeners accept mail. On failure whatever started is stopped.
   *
   * @param ring the keys as loaded at start ({@code dkim.keys}); reloaded on change or {@link #reloadKeys}
   */
  static Relay start(SignetConfig c, KeyRing ring) throws IOException {
    return start(c, ring, Clock.systemUTC());
  }

  /** @param reportClock the clock of the TLS reports' days (tests run the day's end on virtual time) */
  static Relay start(SignetConfig c, KeyRing ring, Clock reportClock) throws IOException {
    if (c.tlsReports().fromDomain().isPresent()
        && ring.keysFor(c.tlsReports().fromDomain().get(), true).isEmpty()) {
      throw new IOException("delivery.tls-reports.from " + c.tlsReports().from().get() + ": no DKIM key for "
          + c.tlsReports().fromDomain().get() + " (or a parent domain) in dkim.keys " + c.dkim().keys()
          + ": TLS reports must be signed; create one with signet keygen --domain " + c.tlsReports().fromDomain().get()
          + " --selector <s>");
    }
    Metrics metrics = new Metrics();
    Outbound outbound = Outbound.open(c, ring, metrics, reportClock);
    SubmissionServer server = null;
    MetricsServer metricsServer = null;
    AdminServer admin = null;
    try {
      boolean subdomains = c.dkim().subdomains();
      // The ring is read once per message: a reload never mixes old and new keys in one message.
      Submission submission = new Submission(c, outbound.signer,
          domain -> outbound.keys.current().keysFor(domain, subdomains));
      server = new SubmissionServer(c, submission, outbound.spool, metrics, outbound.events);
      // before "listening": scripts wait for that line
      admin = AdminServer.start(c, outbound.spool, outbound.scheduler, outbound.events);
      server.start();
      outbound.start();
      outbound.startTlsReports(c);
      outbound.keys.watch(KEY_WATCH_DEBOUNCE);
      metricsServer = MetricsServer.start(c.metrics().listen(), metrics);
      metricsServer.check("listeners", server::listening).check("spool", outbound.spool::probe);
      log.info("metrics: http://{}:{}/metrics", c.metrics().listen().host(), metricsServer.port());
      Relay relay = new Relay(metrics, outbound, server, metricsServer, admin);
      if (c.dmarc().imap().isPresent()) {
        relay.dmarc = DmarcPoller.start(c.dmarc().imap().get(), c.dmarc().poll(), c.spool().dir(), metrics.registry());
      }
      return relay;
    } catch (IOException | RuntimeException e) {
      new Relay(metrics, outbound, server, metricsServer, admin).close();
      throw e;
    }
  }

  /**
   * What went wrong with a file, in words: NIO's exceptions carry only the path as their message
   * ("spool/tmp"), the reason being in their type. Runs as root or not, the operator needs both.
   */
  static String reason(IOException e) {
    if (!(e instanceof java.nio.file.FileSystemException f)) {
      return e.getMessage();
    }
    String why = f.getReason() != null ? f.getReason() : switch (f) {
      case java.nio.file.AccessDeniedException a -> "permission denied (the relay runs as user "
          + System.getProperty("user.name") + ")";
      case java.nio.file.FileAlreadyExistsException a -> "exists and is not a directory";
      case java.nio.file.NoSuchFileException a -> "no such file or directory";
      case java.nio.file.NotDirectoryException a -> "not a directory";
      default -> f.getClass().getSimpleName();
    };
    return (f.getFile() != null ? f.getFile() + ": " : "") + why;
  }

  int submissionPort() {
    return server.addresses().get(0).getPort();
  }

  int adminPort() {
    return admin.port();
  }

  int metricsPort() {
    return metricsServer.port();
  }

  /** SIGHUP: loads the keys directory again (the old keys stay if the new ones do not load). */
  boolean reloadKeys() {
    return keys.reload();
  }

  /**
   * Graceful stop. At once, and side by side: the listeners stop (no new mail; sessions in DATA get
   * {@code sessionGrace} to finish, or are cut off unanswered) and so does the scheduler (no new
   * delivery attempt; mail accepted meanwhile waits in the spool for the next start; attempts in
   * flight get {@code deliveryGrace} to record their outcome, then their connections are cut, see
   * {@link Scheduler#stop(Duration, Runnable)}). Only when both are done: the DMARC poller, the rest of
   * the delivery side ({@link Outbound#close}: the spool last, no outcome can be written after it
   * closes), and the metrics endpoint last so the stop can be watched to the end. Both graces count
   * from the call.
   */
  void stop(Duration sessionGrace, Duration deliveryGrace) {
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
    }
    if (admin != null) {
      admin.close(); // first: no queue command may act on a stopping scheduler
    }
    Thread deliveries = Thread.ofPlatform().name("signet-stop-deliveries").start(() -> {
      try {
        outbound.stopDeliveries(deliveryGrace);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    if (server != null) {
      server.shutdown(sessionGrace);
    }
    // The spool must not close under an outcome being written: wait even if interrupted (bounded by
    // deliveryGrace + 2 × Scheduler.CUT_OFF_GRACE).
    boolean interrupted = false;
    while (deliveries.isAlive()) {
      try {
        deliveries.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (dmarc != null) {
      dmarc.close();
    }
    outbound.close(); // sender, shaping, keys, events, spool
    if (metricsServer != null) {
      metricsServer.close();
    }
  }

  @Override
  public void close() {
    stop(SESSION_GRACE, DELIVERY_GRACE);
  }
}
