package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.Bouncer;
import dev.signet.delivery.SmtpSender;
import dev.signet.delivery.TlsReports;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.LiveKeyRing;
import dev.signet.dkim.Signer;
import dev.signet.events.Events;
import dev.signet.message.MessageException;
import dev.signet.message.SevenBit;
import dev.signet.message.Signatures;
import dev.signet.message.Submission;
import dev.signet.metrics.Metrics;
import dev.signet.queue.AcceptedEvents;
import dev.signet.queue.BounceReports;
import dev.signet.queue.Scheduler;
import dev.signet.queue.Spool;
import dev.signet.shaping.Shaping;
import dev.signet.shaping.ShapingException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool and everything that empties it: the keys and the signer, the event store, shaping, the
 * SMTP sender (counted, shaped, converting 8-bit mail for hosts without 8BITMIME) and the scheduler
 * (bounces signed). Assembled here only, so that {@code serve} ({@link Relay}, which puts its
 * listeners on top) and {@code drain} (which opens none) deliver by the same rules.
 */
final class Outbound implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Outbound.class);

  final LiveKeyRing keys;
  final Signer signer;
  final Spool spool;
  final Events events;
  final Scheduler scheduler;
  private final Shaping shaping;
  private final SmtpSender sender;
  private final TlsReports tlsReports;

  private Outbound(LiveKeyRing keys, Signer signer, Spool spool, Events events, Scheduler scheduler, Shaping shaping,
      SmtpSender sender, TlsReports tlsReports) {
    this.tlsReports = tlsReports;
    this.keys = keys;
    this.signer = signer;
    this.spool = spool;
    this.events = events;
    this.scheduler = scheduler;
    this.shaping = shaping;
    this.sender = sender;
  }

  /**
   * Opens the spool and builds the delivery side over it; nothing is delivered before {@link #start}.
   * On failure whatever was opened is closed.
   *
   * @param ring the keys as loaded at start ({@code dkim.keys})
   * @param reportClock the clock of the TLS reports' days (delivery.tls-reports; tests use virtual time)
   * @throws IOException naming the configuration key at fault
   */
  static Outbound open(SignetConfig c, KeyRing ring, Metrics metrics, Clock reportClock) throws IOException {
    LiveKeyRing keys = LiveKeyRing.of(c.dkim().keys(), ring, metrics.signing());
    Signer signer = new Signer(c.dkim().signer(), Clock.systemUTC(), metrics.signing());
    log.info("signing providers: {}", signer.providers());
    Shaping shaping = shaping(c, metrics);
    Spool spool;
    try {
      spool = Spool.open(c.spool().dir());
    } catch (IOException e) {
      shaping.close();
      throw new IOException("spool.dir " + c.spool().dir() + ": " + Relay.reason(e), e);
    }
    Events events = null;
    SmtpSender sender = null;
    TlsReports tlsReports = null;
    try {
      SmtpSender.checkSourceAddresses(c.delivery());
      finishSignatures(spool, signer, keys.current()); // before anything can deliver them
      events = Events.start(c, c.spool().dir(), metrics.registry(), Clock.systemUTC());
      AcceptedEvents.restore(spool, events); // before any delivery event, which would come after them
      // RFC 6152 §3: for destinations where no host offers 8BITMIME, 8-bit mail goes out re-encoded
      // and signed again with the same keys (see SevenBit).
      SevenBit sevenBit = new SevenBit(c, signer, keys::current, Clock.systemUTC());
      tlsReports = TlsReports.forRelay(c, reportClock); // null without delivery.tls-reports.from
      sender = new SmtpSender(c, metrics, shaping, Optional.of((message, out) -> {
        try (InputStream in = message.open()) {
          out.write(sevenBit.convert(in));
        }
      }), tlsReports);
      Scheduler scheduler = new Scheduler(c, spool, sender::deliver, bounceReports(c, signer, keys, events),
          Clock.systemUTC(), metrics.queue(), events);
      return new Outbound(keys, signer, spool, events, scheduler, shaping, sender, tlsReports);
    } catch (IOException | RuntimeException e) {
      new Outbound(keys, signer, spool, events, null, shaping, sender, tlsReports).close();
      throw e;
    }
  }

  /**
   * Fills in the signatures of queued messages that a crash kept off the disk (the spool fsyncs a
   * message written alone while its signatures are computed, see {@link Spool#unfinished}): signed
   * again with the same keys, byte for byte as they were. One that cannot be goes to corrupt/.
   */
  private static void finishSignatures(Spool spool, Signer signer, KeyRing ring) throws IOException {
    for (String id : spool.unfinished()) {
      spool.finish(id, block -> {
        try {
          Signatures.fillStored(block, signer, ring);
        } catch (MessageException e) {
          throw new IOException(e.getMessage(), e);
        }
      });
    }
  }

  /**
   * Bounces come from MAILER-DAEMON@{@link SignetConfig#bounceDomain} and are DKIM-signed with that
   * domain's keys, or those of its nearest parent with keys (hostname mail.example.com, keys for
   * example.com): DMARC's relaxed alignment (RFC 7489 §3.1.1) accepts that, and an unsigned bounce
   * is what spam filters distrust most. No key: the bounce goes out unsigned rather than not at all.
   */
  private static Scheduler.Reports bounceReports(SignetConfig c, Signer signer, LiveKeyRing keys, Events events) {
    SignetConfig.Dkim d = c.dkim();
    SignetConfig.Dkim relayUnsigned = d.toBuilder().subdomains(true).unsigned(SignetConfig.UnsignedPolicy.RELAY).build();
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
   * Sends the TLS reports of each ended day (RFC 8460), when delivery.tls-reports.from is set. A
   * relay does; a drain only counts its sessions (the spool keeps the counts).
   */
  void startTlsReports(SignetConfig c) {
    if (tlsReports != null) {
      tlsReports.start(tlsReportMailer(c));
    }
  }

  /**
   * TLS reports (RFC 8460 §5.3) go out through the relay's own queue, DKIM-signed with the keys of
   * the domain of delivery.tls-reports.from (or its nearest parent with keys; checked at start).
   */
  private TlsReports.Mailer tlsReportMailer(SignetConfig c) {
    Submission signing = new Submission(c, signer, domain -> keys.current().keysFor(domain, true));
    return (from, recipient, message) -> {
      byte[] signed;
      try {
        signed = signing.signGenerated(message, Clock.systemUTC().instant());
      } catch (MessageException e) {
        throw new IOException("TLS report not signed: " + e.smtpReply(), e);
      }
      scheduler.outbox().queueGenerated(signed, from, recipient);
    };
  }

  /** delivery.shaping over the built-in rules, counted in delivery.shaping-redis if set; logged once. */
  private static Shaping shaping(SignetConfig c, Metrics metrics) throws IOException {
    try {
      Shaping shaping = Shaping.load(c.delivery().shaping(), c.delivery().shapingRedis(), Clock.systemUTC(), metrics);
      log.info("shaping: {} (counters: {})", c.delivery().shaping().map(p -> "built-in rules with " + p + " over them")
          .orElse("built-in rules"), shaping.describeBudget());
      return shaping;
    } catch (ShapingException e) {
      throw new IOException("delivery.shaping: " + e.getMessage(), e);
    }
  }

  /** Schedules what the spool holds and starts delivering; what it accepts later is scheduled at once. */
  void start() throws IOException {
    scheduler.start();
  }

  /**
   * No new delivery attempt; those in flight get until {@code grace} to record their outcome, then
   * their connections are cut ({@link Scheduler#stop(Duration, Runnable)}). The spool stays open.
   */
  void stopDeliveries(Duration grace) throws InterruptedException {
    if (scheduler != null) {
      scheduler.stop(grace, sender::abort);
    }
  }

  /**
   * After {@link #stopDeliveries} has returned: the TLS reports, the sender, shaping, the keys, the event store (after
   * the scheduler, so the last outcomes' events are stored), and the spool last (no outcome can be
   * written after it closes).
   */
  @Override
  public void close() {
    if (tlsReports != null) {
      tlsReports.close();
    }
    if (sender != null) {
      sender.close();
    }
    shaping.close();
    keys.close();
    if (events != null) {
      events.close();
    }
    try {
      spool.close();
    } catch (IOException e) {
      log.error("closing the spool: {}", e.getMessage());
    }
  }
}
