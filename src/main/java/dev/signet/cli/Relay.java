package dev.signet.cli;

import dev.signet.admin.AdminServer;
import dev.signet.config.SignetConfig;
import dev.signet.delivery.Bouncer;
import dev.signet.delivery.SmtpSender;
import dev.signet.delivery.TlsReports;
import dev.signet.dmarc.DmarcPoller;
import dev.signet.dkim.KeyRing;
import dev.signet.events.Events;
import dev.signet.dkim.LiveKeyRing;
import dev.signet.dkim.Signer;
import dev.signet.message.MessageException;
import dev.signet.message.SevenBit;
import dev.signet.message.Submission;
import dev.signet.metrics.Metrics;
import dev.signet.metrics.MetricsServer;
import dev.signet.queue.BounceReports;
import dev.signet.queue.Scheduler;
import dev.signet.queue.Spool;
import dev.signet.shaping.Shaping;
import dev.signet.shaping.ShapingException;
import dev.signet.smtp.SubmissionServer;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running relay, assembled from the stages of docs/ARCHITECTURE.md: submission listeners, the signing
 * pipeline (keys reloaded live), the spool, the delivery scheduler and the metrics endpoint with
 * its health checks. {@code serve} runs one per process; tests start several in one JVM.
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
  private final Shaping shaping;
  private final SmtpSender sender;
  private final Scheduler scheduler;
  final SubmissionServer server;
  private final MetricsServer metricsServer;
  private volatile DmarcPoller dmarc;
  final Events events;
  private final AdminServer admin;
  private TlsReports tlsReports;
  private boolean stopped;

  private Relay(Metrics metrics, LiveKeyRing keys, Spool spool, Shaping shaping, SmtpSender sender,
      Scheduler scheduler, SubmissionServer server, MetricsServer metricsServer, Events events, AdminServer admin) {
    this.events = events;
    this.admin = admin;
    this.metrics = metrics;
    this.keys = keys;
    this.spool = spool;
    this.shaping = shaping;
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
    LiveKeyRing keys = LiveKeyRing.of(c.dkim().keys(), ring, metrics.signing());
    Signer signer = new Signer(c.dkim().signer(), Clock.systemUTC(), metrics.signing());
    log.info("signing providers: {}", signer.providers());
    boolean subdomains = c.dkim().subdomains();
    // The ring is read once per message: a reload never mixes old and new keys in one message.
    Submission submission = new Submission(c, signer, domain -> keys.current().keysFor(domain, subdomains));
    Shaping shaping = shaping(c, metrics);
    Spool spool;
    try {
      spool = Spool.open(c.spool().dir());
    } catch (IOException e) {
      throw new IOException("spool.dir " + c.spool().dir() + ": " + reason(e), e);
    }
    Events events = null;
    SmtpSender sender = null;
    Scheduler scheduler = null;
    SubmissionServer server = null;
    MetricsServer metricsServer = null;
    AdminServer admin = null;
    TlsReports tlsReports = null;
    try {
      SmtpSender.checkSourceAddresses(c.delivery());
      events = Events.start(c, c.spool().dir(), metrics.registry(), Clock.systemUTC());
      // RFC 6152 §3: for destinations where no host offers 8BITMIME, 8-bit mail goes out re-encoded
      // and signed again with the same keys (see SevenBit).
      SevenBit sevenBit = new SevenBit(c, signer, keys::current, Clock.systemUTC());
      tlsReports = TlsReports.forRelay(c, reportClock);
      sender = new SmtpSender(c, metrics, shaping, Optional.of((message, out) -> {
        try (java.io.InputStream in = message.open()) {
          out.write(sevenBit.convert(in));
        }
      }), tlsReports);
      scheduler = new Scheduler(c, spool, sender::deliver, bounceReports(c, signer, keys, events), Clock.systemUTC(),
          metrics, events);
      server = new SubmissionServer(c, submission, spool, metrics, events);
      admin = AdminServer.start(c, spool, scheduler, events); // before "listening": scripts wait for that line
      server.start();
      scheduler.start();
      keys.watch(KEY_WATCH_DEBOUNCE);
      metricsServer = MetricsServer.start(c.metrics().listen(), metrics);
      metricsServer.check("listeners", server::listening).check("spool", spool::probe);
      log.info("metrics: http://{}:{}/metrics", c.metrics().listen().host(), metricsServer.port());
      Relay relay = new Relay(metrics, keys, spool, shaping, sender, scheduler, server, metricsServer, events, admin);
      relay.tlsReports = tlsReports;
      if (tlsReports != null) {
        tlsReports.start(tlsReportMailer(c, signer, keys, scheduler));
      }
      if (c.dmarc().imap().isPresent()) {
        relay.dmarc = DmarcPoller.start(c.dmarc().imap().get(), c.dmarc().poll(), c.spool().dir(), metrics.registry());
      }
      return relay;
    } catch (IOException | RuntimeException e) {
      if (tlsReports != null) {
        tlsReports.close();
      }
      new Relay(metrics, keys, spool, shaping, sender, scheduler, server, metricsServer, events, admin).close();
      throw e;
    }
  }

  /**
   * TLS reports (RFC 8460 §5.3) go out through the relay's own queue, DKIM-signed with the keys of
   * the domain of delivery.tls-reports.from (or its nearest parent with keys; checked at start).
   */
  private static TlsReports.Mailer tlsReportMailer(SignetConfig c, Signer signer, LiveKeyRing keys,
      Scheduler scheduler) {
    Submission signing = new Submission(c, signer, domain -> keys.current().keysFor(domain, true));
    return (from, recipient, message) -> {
      byte[] signed;
      try {
        signed = signing.signGenerated(message, Clock.systemUTC().instant());
      } catch (MessageException e) {
        throw new IOException("TLS report not signed: " + e.smtpReply(), e);
      }
      scheduler.queueGenerated(signed, from, recipient);
    };
  }

  /**
   * Bounces come from MAILER-DAEMON@{@link SignetConfig#bounceDomain} and are DKIM-signed with that
   * domain's keys, or those of its nearest parent with keys (hostname mail.example.com, keys for
   * example.com): DMARC's relaxed alignment (RFC 7489 §3.1.1) accepts that, and an unsigned bounce
   * is what spam filters distrust most. No key: the bounce goes out unsigned rather than not at all.
   */
  private static Scheduler.Reports bounceReports(SignetConfig c, Signer signer, LiveKeyRing keys, Events events) {
    SignetConfig.Dkim d = c.dkim();
    SignetConfig.Dkim relayUnsigned = new SignetConfig.Dkim(d.keys(), d.headers(), d.oversign(), d.canonicalization(),
        d.expire(), true, SignetConfig.UnsignedPolicy.RELAY);
    SignetConfig bounceConfig = c.withDkim(relayUnsigned);
    Submission signing = new Submission(bounceConfig, signer, domain -> keys.current().keysFor(domain, true));
    Bouncer bouncer = new Bouncer(c.hostname(), c.bounceDomain(), Clock.systemUTC(), events.rules());
    return BounceReports.of(bouncer, report -> {
      try {
        return signing.signGenerated(report, Clock.systemUTC().instant());
      } catch (MessageException e) {
        // A bounce must not be lost over its signature: it goes out unsigned, and the log says why.
        log.warn("bounce not signed: {}", e.smtpReply());
        return report;
      }
    });
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

  /** delivery.shaping over the built-in rules, counted in delivery.shaping-redis if set; logged once. */
  static Shaping shaping(SignetConfig c, Metrics metrics) throws IOException {
    try {
      Shaping shaping = Shaping.load(c.delivery().shaping(), c.delivery().shapingRedis(), Clock.systemUTC(), metrics);
      log.info("shaping: {} (counters: {})", c.delivery().shaping().map(p -> "built-in rules with " + p + " over them")
          .orElse("built-in rules"), shaping.describeBudget());
      return shaping;
    } catch (ShapingException e) {
      throw new IOException("delivery.shaping: " + e.getMessage(), e);
    }
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
   * {@link Scheduler#stop(Duration, Runnable)}). Only when both are done: the sender, the spool (no
   * outcome can be written after it closes), and the metrics endpoint last so the stop can be
   * watched to the end. Both graces count from the call.
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
    Thread deliveries = scheduler == null ? null : Thread.ofPlatform().name("signet-stop-deliveries").start(() -> {
      try {
        scheduler.stop(deliveryGrace, sender::abort);
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
    while (deliveries != null && deliveries.isAlive()) {
      try {
        deliveries.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (sender != null) {
      sender.close();
    }
    if (dmarc != null) {
      dmarc.close();
    }
    if (tlsReports != null) {
      tlsReports.close();
    }
    shaping.close();
    keys.close();
    if (events != null) {
      events.close(); // after the scheduler: its last outcomes' events are stored
    }
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
