package dev.signet.delivery;

import dev.signet.config.SignetConfig;
import dev.signet.metrics.Metrics;
import dev.signet.shaping.Destination;
import dev.signet.shaping.Hold;
import dev.signet.shaping.Shaping;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Delivers one message to one destination: the recipients' MX hosts in preference order (RFC 5321
 * §5.1), or the configured smarthost. The steps, in order, each in its own class:
 *
 * <ol>
 *   <li>the message file is read ({@link MessageFile}) and its Received fields counted: too many is a
 *       loop ({@link LoopGuard#tooManyHops});
 *   <li>the routes ({@link RoutePlanner}): the smarthost, or the MX hosts under the domain's TLS policy,
 *       each bound to a source address, at most {@value RoutePlanner#MAX_MX_HOSTS} hosts, and the
 *       shaping group they belong to;
 *   <li>per transaction of at most {@code recipients-per-transaction} recipients, shaping's admission
 *       (suspended? a rate token?); once one is held back, the rest are held with it;
 *   <li>the routes in order ({@link RouteAttempt}): a host that must not be dialled is skipped
 *       ({@link LoopGuard#refusal}); a kept session is reused or a new one opened within the group's
 *       connections ({@link Sessions}); the transaction runs ({@link OutboundTransaction}); the first host
 *       that runs it decides;
 *   <li>when no host took it and only hosts lacking 8BITMIME are left, the message once more in 7 bits
 *       ({@link SevenBitRetry});
 *   <li>otherwise every recipient's outcome summarises why no host took it ({@link Outcomes}), and
 *       every outcome is logged.
 * </ol>
 *
 * <p>The signed bytes go out unchanged (see {@link DataStuffing}), except for that 7-bit conversion.
 * Connections are kept briefly after a message and reused (after RSET) for the next message to the
 * same host. Thread-safe; {@link #close} ends all kept connections, {@link #abort} every session.
 * Mail shaping holds back comes back Deferred with {@link DeliveryResult#heldUntil} set. A smarthost
 * is not shaped.
 */
public final class SmtpSender implements AutoCloseable {

  /** MX hosts tried per attempt, at most: {@link RoutePlanner#MAX_MX_HOSTS}. */
  static final int MAX_MX_HOSTS = RoutePlanner.MAX_MX_HOSTS;

  private final Sessions sessions;
  private final RoutePlanner planner;
  private final RouteAttempt routeAttempt;
  private final Shaping shaping;

  /**
   * A sender for the relay configured by {@code config} (hostname, delivery.*, listen.*), without metrics,
   * shaped by the built-in rules.
   */
  public SmtpSender(SignetConfig config) throws IOException {
    this(config, null, Shaping.builtIn(Clock.systemUTC()), Optional.empty());
  }

  /**
   * A sender for the relay configured by {@code config}: hostname, delivery.*, listen.* (to detect loops).
   *
   * @param metrics counts TLS policy results; null = none
   * @param shaping provider limits and backoff (closed by its owner)
   * @param sevenBit converts 8-bit messages for destinations where no host offers 8BITMIME (without
   *     one, such messages fail there with 554 5.6.3)
   * @throws IOException if delivery.ca-file cannot be read or the MTA-STS cache under spool.dir cannot be opened
   */
  public SmtpSender(SignetConfig config, Metrics metrics, Shaping shaping, Optional<SevenBitConversion> sevenBit)
      throws IOException {
    this(config, metrics, shaping, sevenBit, null);
  }

  /** The same, counting each policy domain's sessions in {@code reports} (TLS-RPT); null = not counted. */
  public SmtpSender(SignetConfig config, Metrics metrics, Shaping shaping, Optional<SevenBitConversion> sevenBit,
      TlsReports reports) throws IOException {
    this(config, metrics, shaping, sevenBit, caFile(config.delivery()), reports);
  }

  /** A sender for the relay configured by {@code config}, shaped by {@code shaping} (closed by its owner). */
  public SmtpSender(SignetConfig config, Shaping shaping) throws IOException {
    this(config, null, shaping, Optional.empty());
  }

  private SmtpSender(SignetConfig config, Metrics metrics, Shaping shaping, Optional<SevenBitConversion> sevenBit,
      PeerTrust trust, TlsReports reports) throws IOException {
    this(config.hostname(), config.delivery(), new MxResolver(config.delivery().dns()),
        SenderSettings.rfc5321().withMxTrust(trust),
        MtaSts.forRelay(config.delivery(), config.spool().dir().resolve(MtaSts.DIR), trust),
        Dane.forRelay(config.delivery()), metrics, sevenBit, LoopGuard.listeners(config.listen()), shaping, reports);
  }

  SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings) {
    this(hostname, delivery, resolver, settings, Optional.empty(), List.of());
  }

  SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings,
      Optional<SevenBitConversion> sevenBit) {
    this(hostname, delivery, resolver, settings, sevenBit, List.of());
  }

  SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings,
      List<InetSocketAddress> listening) {
    this(hostname, delivery, resolver, settings, Optional.empty(), listening);
  }

  private SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings,
      Optional<SevenBitConversion> sevenBit, List<InetSocketAddress> listening) {
    this(hostname, delivery, resolver, settings, Optional.empty(), Optional.empty(), null, sevenBit, listening,
        Shaping.builtIn(Clock.systemUTC()));
  }

  SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings,
      Shaping shaping) {
    this(hostname, delivery, resolver, settings, Optional.empty(), Optional.empty(), null, Optional.empty(),
        List.of(), shaping);
  }

  SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings,
      Optional<MtaSts> mtaSts, Optional<Dane> dane, Metrics metrics) {
    this(hostname, delivery, resolver, settings, mtaSts, dane, metrics, Optional.empty(), List.of(),
        Shaping.builtIn(Clock.systemUTC()));
  }

  /**
   * @param mtaSts MTA-STS policies (RFC 8461), if on; {@code dane} DANE (RFC 7672), if on
   * @param sevenBit converts 8-bit messages for destinations where no host offers 8BITMIME
   * @param listening this relay's own listening sockets: an MX pointing at one of them is a loop
   * @param shaping provider limits and backoff
   */
  SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings,
      Optional<MtaSts> mtaSts, Optional<Dane> dane, Metrics metrics, Optional<SevenBitConversion> sevenBit,
      List<InetSocketAddress> listening, Shaping shaping) {
    this(hostname, delivery, resolver, settings, mtaSts, dane, metrics, sevenBit, listening, shaping, null);
  }

  /** @param reports counts each policy domain's sessions for TLS-RPT; null = not counted */
  SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings,
      Optional<MtaSts> mtaSts, Optional<Dane> dane, Metrics metrics, Optional<SevenBitConversion> sevenBit,
      List<InetSocketAddress> listening, Shaping shaping, TlsReports reports) {
    MailClasses.initialize();
    this.shaping = shaping;
    TlsPolicies policies = new TlsPolicies(delivery, mtaSts, dane, settings.mxTrust(), metrics, reports);
    this.sessions = new Sessions(hostname, settings, shaping);
    this.planner = new RoutePlanner(delivery, resolver, policies, new SourceAddresses(delivery.sourceAddresses()),
        shaping);
    this.routeAttempt = new RouteAttempt(sessions, new LoopGuard(listening), policies, shaping,
        sevenBit.map(SevenBitRetry::new));
    mtaSts.ifPresent(sts -> sessions.every(MtaSts.REFRESH,
        () -> Thread.ofVirtual().name("signet-mta-sts-refresh").start(sts::refreshDue)));
    dane.ifPresent(d -> sessions.every(Dane.PROBE,
        () -> Thread.ofVirtual().name("signet-dnssec-probe").start(d::probe)));
  }

  private static PeerTrust caFile(SignetConfig.Delivery delivery) throws IOException {
    try {
      return PeerTrust.load(delivery.caFile());
    } catch (IOException e) {
      throw new IOException("delivery.ca-file " + e.getMessage(), e);
    }
  }

  /**
   * Fails unless every {@code delivery.source-addresses} entry is an address of this machine: checked
   * at start, so a typo stops the relay with a message instead of deferring every delivery.
   */
  public static void checkSourceAddresses(SignetConfig.Delivery delivery) throws IOException {
    for (InetAddress address : delivery.sourceAddresses()) {
      try (java.net.Socket probe = new java.net.Socket()) {
        probe.bind(new java.net.InetSocketAddress(address, 0));
      } catch (IOException e) {
        throw new IOException("delivery.source-addresses: " + address.getHostAddress()
            + " is not an address of this machine (" + e.getMessage() + ")", e);
      }
    }
  }

  /**
   * One delivery attempt. Never throws for delivery trouble: every recipient gets an outcome
   * (Delivered, Deferred = retry later, Failed = bounce).
   */
  public DeliveryResult deliver(DeliveryRequest request) {
    if (sessions.aborted()) {
      return Outcomes.logged(request, "none", new DeliveryResult(Outcomes.deferAll(request, RouteAttempt.STOPPING)));
    }
    MessageFile file;
    try {
      file = MessageFile.scan(request.message());
      Optional<Reply> loop = LoopGuard.tooManyHops(file);
      if (loop.isPresent()) {
        return Outcomes.logged(request, "none", new DeliveryResult(Outcomes.failAll(request, loop.get())));
      }
    } catch (IOException e) {
      return Outcomes.logged(request, "none", new DeliveryResult(Outcomes.deferAll(request,
          Reply.local(451, "4.3.0", "cannot read message file " + request.message() + ": " + e.getMessage()))));
    }
    return switch (planner.plan(request)) {
      case RoutePlanner.Decided decided ->
          Outcomes.logged(request, decided.label(), new DeliveryResult(decided.outcomes()));
      case RoutePlanner.Routes routes -> Outcomes.logged(request, routes.label(), shaped(request, file, routes));
    };
  }

  /**
   * The recipients in transactions of at most {@code recipients-per-transaction} each, every one
   * admitted by shaping first; once shaping holds one back, the rest are held with it.
   */
  private DeliveryResult shaped(DeliveryRequest request, MessageFile file, RoutePlanner.Routes plan) {
    Destination destination = plan.destination();
    Set<Reply> refused = Collections.newSetFromMap(new IdentityHashMap<>());
    refused.addAll(plan.skipped()); // every host routes() left out failed the TLS policy
    List<String> all = request.recipients();
    int per = destination.limits().recipientsPerTransaction();
    List<RecipientOutcome> outcomes = new ArrayList<>(all.size());
    for (int from = 0; from < all.size(); from += per) {
      DeliveryRequest part = all.size() <= per ? request
          : new DeliveryRequest(request.id(), request.mailFrom(), all.subList(from, Math.min(all.size(), from + per)),
              request.message());
      Optional<Hold> hold = shaping.admit(destination);
      RouteAttempt.Tried tried = null;
      if (hold.isEmpty()) {
        tried = routeAttempt.attempt(part, file, plan.routes(), destination, plan.policy(), plan.label(),
            new ArrayList<>(plan.skipped()), refused);
        hold = tried.hold();
      }
      if (hold.isPresent()) {
        Reply held = Reply.local(Hold.CODE, Hold.STATUS, hold.get().text());
        for (String r : all.subList(from, all.size())) {
          outcomes.add(new RecipientOutcome.Deferred(r, held));
        }
        return new DeliveryResult(outcomes, destination.provider(), Optional.of(hold.get().until()));
      }
      outcomes.addAll(tried.outcomes());
    }
    return new DeliveryResult(outcomes, destination.provider(), Optional.empty());
  }

  /**
   * For a stopping relay whose grace ran out: closes the socket of every session, idle or in a
   * transaction, so that every attempt in flight ends now with its recipients deferred (connection
   * lost), and no attempt opens another session afterwards. Whatever an attempt read before the cut
   * is reported as usual (a 250 already read is Delivered). Call from any thread.
   *
   * <p>The one outcome this cannot save: the server took the final "." and answered (or was about to)
   * when the socket closed, so the 250 was sent but never read. The message stays pending and goes
   * out again on the next start: RFC 5321 §6.1's duplicate, and the only one a stop can cause.
   */
  public void abort() {
    sessions.abort();
  }

  @Override
  public void close() {
    sessions.close();
  }
}
