package dev.signet.delivery;

import dev.signet.config.SignetConfig;
import dev.signet.metrics.Metrics;
import dev.signet.shaping.Destination;
import dev.signet.shaping.Hold;
import dev.signet.shaping.Lease;
import dev.signet.shaping.Shaping;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers one message to one destination: the recipients' MX hosts in preference order (RFC 5321
 * §5.1), or the configured smarthost. Within one attempt, a host that cannot be reached, refuses the
 * session (4xx/5xx greeting) or lacks required TLS is skipped for the next one; the first host that
 * runs the transaction decides. A host lacking an extension the message needs (8BITMIME, SMTPUTF8) is
 * skipped too. The signed bytes go out unchanged (see {@link RawMessage}), except that 8-bit mail for a
 * destination where no host offers 8BITMIME is converted to 7 bits and signed again
 * ({@link SevenBitConversion}).
 *
 * <p>Connections are kept briefly after a message and reused (after RSET) for the next message to the
 * same host. Thread-safe; {@link #close} ends all kept connections, {@link #abort} every session.
 *
 * <p>Traffic shaping ({@link Shaping}) decides per message whether it may go now (suspension, rate),
 * per new session whether its provider has a connection to spare, how many messages a session carries
 * and how many recipients one transaction takes; every reply is shown to its backoff rules. Mail it
 * holds back comes back Deferred with {@link DeliveryResult#heldUntil} set. A smarthost is not shaped.
 */
public final class SmtpSender implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SmtpSender.class);
  /** RFC 3463 X.3.2: system not accepting network messages (this one, shutting down). */
  private static final Reply STOPPING = Reply.local(421, "4.3.2", "delivery cut off: the relay is stopping");
  /**
   * MX hosts tried per attempt, at most (the rest wait for the next attempt, after the first hosts
   * have been tried again). A domain with dozens of MX records would otherwise keep one attempt busy
   * for dozens of connection timeouts; chasquid tries 5 as well, and real domains rarely list more.
   */
  static final int MAX_MX_HOSTS = 5;

  private final String hostname;
  private final SignetConfig.Delivery delivery;
  private final MxResolver resolver;
  private final SenderSettings settings;
  private final ScheduledExecutorService timer;
  private final ConnectionPool pool;
  private final SocketCapture.Registry sockets = new SocketCapture.Registry();
  private final SourceAddresses sources;
  private final Optional<SevenBitConversion> sevenBit;
  private final List<InetSocketAddress> listening;
  private final TlsPolicies policies;
  private final Shaping shaping;

  private static List<InetSocketAddress> listeners(SignetConfig.Listen listen) {
    List<InetSocketAddress> out = new ArrayList<>();
    for (var at : listen.smtps().isPresent() ? List.of(listen.submission(), listen.smtps().get())
        : List.of(listen.submission())) {
      try {
        out.add(new InetSocketAddress(InetAddress.getByName(at.host()), at.port()));
      } catch (IOException e) {
        log.warn("cannot resolve listener {} for mail-loop detection: {}", at, e.toString());
      }
    }
    return out;
  }

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
        Dane.forRelay(config.delivery()), metrics, sevenBit, listeners(config.listen()), shaping, reports);
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
    this.shaping = shaping;
    this.sevenBit = sevenBit;
    this.listening = List.copyOf(listening);
    this.hostname = hostname;
    this.delivery = delivery;
    this.resolver = resolver;
    this.settings = settings;
    this.sources = new SourceAddresses(delivery.sourceAddresses());
    this.policies = new TlsPolicies(delivery, mtaSts, dane, settings.mxTrust(), metrics, reports);
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
        .name("signet-smtp-timer").daemon().unstarted(r));
    this.pool = new ConnectionPool();
    long sweep = Math.max(100, settings.reuseIdle().toMillis());
    timer.scheduleWithFixedDelay(() -> pool.closeIdle(settings), sweep, sweep, TimeUnit.MILLISECONDS);
    mtaSts.ifPresent(sts -> timer.scheduleWithFixedDelay(
        () -> Thread.ofVirtual().name("signet-mta-sts-refresh").start(sts::refreshDue),
        MtaSts.REFRESH.toMillis(), MtaSts.REFRESH.toMillis(), TimeUnit.MILLISECONDS));
    dane.ifPresent(d -> timer.scheduleWithFixedDelay(
        () -> Thread.ofVirtual().name("signet-dnssec-probe").start(d::probe),
        Dane.PROBE.toMillis(), Dane.PROBE.toMillis(), TimeUnit.MILLISECONDS));
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
    if (sockets.aborted()) {
      return logged(request, new DeliveryResult(OutboundTransaction.deferAll(request, STOPPING)));
    }
    MessageFile file;
    try {
      file = MessageFile.scan(request.message());
    } catch (IOException e) {
      return logged(request, new DeliveryResult(OutboundTransaction.deferAll(request,
          Reply.local(451, "4.3.0", "cannot read message file " + request.message() + ": " + e.getMessage()))));
    }
    try {
      int hops = Hops.count(request.message());
      if (hops > Hops.LIMIT) {
        // RFC 5321 §6.3: a loop must be broken; RFC 3463 X.4.6 "routing loop detected".
        Reply reply = Reply.local(554, "5.4.6", "too many hops: " + hops + " Received header fields (limit "
            + Hops.LIMIT + "), mail loop");
        return logged(request, new DeliveryResult(request.recipients().stream()
            .<RecipientOutcome>map(r -> new RecipientOutcome.Failed(r, reply)).toList()));
      }
    } catch (IOException e) {
      return logged(request, new DeliveryResult(OutboundTransaction.deferAll(request,
          Reply.local(451, "4.3.0", "cannot read message file " + request.message() + ": " + e.getMessage()))));
    }
    List<Route> routes;
    TlsPolicy policy = TlsPolicy.byDefault(SignetConfig.TlsLevel.OPPORTUNISTIC);
    List<Reply> skipped = new ArrayList<>();
    Destination destination = Destination.UNSHAPED;
    if (delivery.smarthost().isPresent()) {
      routes = List.of(smarthost(delivery.smarthost().get(), sources.first()));
    } else {
      switch (resolver.lookup(request.domain())) {
        case MxResult.Found found -> {
          policy = policies.forDomain(request.domain());
          List<Route> secured = policies.routes(request.domain(), found, policy, delivery.port(), skipped);
          routes = capped(sources.routes(request.domain(), secured));
          if (!secured.isEmpty() && routes.isEmpty()) {
            // RFC 3463 X.4.4: unable to route. Temporary: the MX records or the configuration may change.
            return logged(request, policy.label(), new DeliveryResult(OutboundTransaction.deferAll(request,
                Reply.local(451, "4.4.4", "no MX address of " + request.domain()
                    + " is reachable from delivery.source-addresses (" + sources.families() + " only)"))));
          }
          destination = shaping.destination(request.domain(), found.hosts().stream().map(MxHost::name).toList());
        }
        case MxResult.PermanentFailure failure -> {
          int code = failure.status().equals(MxResolver.NULL_MX) ? 556 : 550;
          Reply reply = Reply.local(code, failure.status(), failure.reason());
          return logged(request, new DeliveryResult(request.recipients().stream()
              .<RecipientOutcome>map(r -> new RecipientOutcome.Failed(r, reply)).toList()));
        }
        case MxResult.TemporaryFailure failure -> {
          // RFC 3463 X.4.3: directory server failure (DNS).
          return logged(request, new DeliveryResult(
              OutboundTransaction.deferAll(request, Reply.local(451, "4.4.3", failure.reason()))));
        }
      }
    }
    // DANE decides per MX host: name it in the log line when it secured any of the hosts tried.
    String label = delivery.smarthost().isPresent() ? Route.SMARTHOST
        : routes.stream().anyMatch(r -> r.policy().equals(TlsPolicy.DANE)) ? TlsPolicy.DANE : policy.label();
    return logged(request, label, shaped(request, file, routes, destination, policy, label, skipped));
  }

  /**
   * At most {@value #MAX_MX_HOSTS} hosts per attempt (as chasquid): a domain listing dozens of MX hosts
   * that all fail must not hold a delivery slot for dozens of timeouts. The rest wait for the next attempt.
   */
  private static List<Route> capped(List<Route> routes) {
    Set<String> hosts = new LinkedHashSet<>();
    List<Route> kept = new ArrayList<>();
    for (Route route : routes) {
      if (hosts.contains(route.name()) || hosts.size() < MAX_MX_HOSTS) {
        hosts.add(route.name());
        kept.add(route);
      }
    }
    return kept;
  }

  /**
   * The recipients in transactions of at most {@code recipients-per-transaction} each, every one
   * admitted by shaping first; once shaping holds one back, the rest are held with it.
   *
   * @param label the TLS policy label of the attempt, for the outcomes' {@link DeliveryTls}
   * @param skipped hosts the TLS policy left out before any connection (reasons for the summary)
   */
  private DeliveryResult shaped(DeliveryRequest request, MessageFile file, List<Route> routes, Destination destination,
      TlsPolicy policy, String label, List<Reply> skipped) {
    Set<Reply> refused = Collections.newSetFromMap(new IdentityHashMap<>());
    refused.addAll(skipped); // every host routes() left out failed the TLS policy
    List<String> all = request.recipients();
    int per = destination.limits().recipientsPerTransaction();
    List<RecipientOutcome> outcomes = new ArrayList<>(all.size());
    for (int from = 0; from < all.size(); from += per) {
      DeliveryRequest part = all.size() <= per ? request
          : new DeliveryRequest(request.id(), request.mailFrom(), all.subList(from, Math.min(all.size(), from + per)),
              request.message());
      Optional<Hold> hold = shaping.admit(destination);
      Tried tried = null;
      if (hold.isEmpty()) {
        tried = attempt(part, file, routes, destination, policy, label, new ArrayList<>(skipped), refused);
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

  /** What one transaction's attempt came to: outcomes, or held back (no connection to spare). */
  private record Tried(List<RecipientOutcome> outcomes, Optional<Hold> hold) {}

  /**
   * One transaction to the routes in order; when no host took it and the hosts that lacked only
   * 8BITMIME are all that is left, the message once more in 7 bits (RFC 6152 §3).
   *
   * @param refused the replies of hosts skipped because they failed the TLS policy (identity set)
   */
  private Tried attempt(DeliveryRequest request, MessageFile file, List<Route> routes, Destination destination,
      TlsPolicy policy, String label, List<Reply> skipped, Set<Reply> refused) {
    List<Route> without8bit = new ArrayList<>();
    Optional<Tried> sent = attempt(request, file, routes, destination, policy, skipped, refused, without8bit);
    if (sent.isEmpty() && !without8bit.isEmpty() && sevenBit.isPresent() && !sockets.aborted()) {
      sent = converted(request, without8bit, destination, policy, skipped, refused);
    }
    return sent.orElseGet(() -> new Tried(noHostTookIt(request, skipped, label, refused), Optional.empty()));
  }

  /** The message converted to 7 bits (and signed again) in a temporary file, to {@code routes}. */
  private Optional<Tried> converted(DeliveryRequest request, List<Route> routes, Destination destination,
      TlsPolicy policy, List<Reply> skipped, Set<Reply> refused) {
    Path temporary = null;
    try {
      temporary = Files.createTempFile("signet-7bit-", ".eml"); // mode 0600
      try (OutputStream out = Files.newOutputStream(temporary)) {
        sevenBit.get().convert(request.message(), out);
      }
      DeliveryRequest sevenBitRequest = new DeliveryRequest(request.id(), request.mailFrom(), request.recipients(),
          temporary);
      MessageFile file = MessageFile.scan(sevenBitRequest.message());
      if (file.eightBit()) {
        throw new IOException("8-bit octets left after the conversion");
      }
      log.info("id={} to={}: no host offers 8BITMIME; sending the message converted to 7 bits and signed again",
          request.id(), request.domain());
      return attempt(sevenBitRequest, file, routes, destination, policy, skipped, refused, new ArrayList<>());
    } catch (IOException e) {
      skipped.add(Reply.local(554, "5.6.3", "message has 8-bit content, no host of " + request.domain()
          + " offers 8BITMIME, and it could not be converted to 7 bits: " + e.getMessage()));
      return Optional.empty();
    } finally {
      if (temporary != null) {
        try {
          Files.deleteIfExists(temporary);
        } catch (IOException e) {
          log.warn("cannot delete {}: {}", temporary, e.toString());
        }
      }
    }
  }

  /**
   * Tries {@code routes} in order; empty when no host took the message ({@code skipped} says why, and
   * {@code without8bit} collects the hosts that lacked only 8BITMIME). A new session needs a place in
   * the group's connections; when shaping has none to spare, the transaction is held back.
   */
  private Optional<Tried> attempt(DeliveryRequest request, MessageFile file, List<Route> routes,
      Destination destination, TlsPolicy policy, List<Reply> skipped, Set<Reply> refused, List<Route> without8bit) {
    boolean utf8 = OutboundTransaction.needsSmtpUtf8(request, file);
    int seen = skipped.size();
    try {
      for (Route route : routes) {
        if (sockets.aborted()) {
          // not the next host either
          return Optional.of(new Tried(OutboundTransaction.deferAll(request, STOPPING), Optional.empty()));
        }
        Optional<String> undialable = route.address().flatMap(AddressLiteral::undialable);
        if (undialable.isPresent()) {
          // Whatever DNS says: an MX at 169.254.169.254 (cloud metadata) or 0.0.0.0 is no mail host.
          skipped.add(Reply.about(route.name(), 550, "5.4.4", "not connecting to " + route + ": "
              + route.connectHost() + " is a " + undialable.get() + " address"));
          continue;
        }
        if (listener(route)) {
          skipped.add(Reply.about(route.name(), 554, "5.4.6", "mail for " + request.domain()
              + " loops back to myself: " + route + " is this relay's own listener"));
          continue;
        }
        while (shaping.excess(destination) && pool.closeOneIdle(destination.group())) {
          // a backoff rule lowered the group's connections: idle sessions over the limit go first
        }
        ConnectionPool.Kept kept = pool.take(destination.group(), route, utf8);
        if (kept != null && shaping.excess(destination)) {
          kept.close();
          kept = null;
        }
        DeliveryTls tls = kept == null ? null : tlsOf(kept.connection());
        OutboundTransaction.Attempt attempt = kept == null ? null : run(kept, request, file, utf8, destination);
        if (attempt == null || (attempt.tryElsewhere() && attempt.lacking().isEmpty())) {
          // No kept connection, or it died under us (the server may drop it between RSET and MAIL):
          // a fresh connection to the same host before moving on, if the group has one to spare.
          Optional<Lease> lease = shaping.open(destination);
          if (lease.isEmpty() && pool.closeOneIdle(destination.group())) {
            lease = shaping.open(destination);
          }
          if (lease.isEmpty()) {
            return Optional.of(new Tried(List.of(), Optional.of(shaping.busy(destination))));
          }
          SmtpConnection fresh;
          try {
            fresh = open(route, utf8);
          } catch (SmtpConnection.Unusable e) {
            lease.get().close();
            Reply why = policies.failed(request.domain(), policy, route, e);
            if (why != e.reply()) {
              refused.add(why); // the policy is why this host was skipped
            }
            log.info("delivery to={} host={} skipped: {}", request.domain(), route, why.text());
            skipped.add(why);
            continue;
          }
          policies.opened(request.domain(), policy, fresh.route, fresh.tlsSession(), fresh.localAddress());
          tls = tlsOf(fresh);
          attempt = run(new ConnectionPool.Kept(fresh, lease.get()), request, file, utf8, destination);
        }
        if (attempt.tryElsewhere()) {
          log.info("delivery to={} host={} {}: {}", request.domain(), route,
              attempt.lacking().isPresent() ? "lacks " + attempt.lacking().get() : "lost",
              attempt.outcomes().get(0).reply().text());
          skipped.add(attempt.outcomes().get(0).reply());
          if (attempt.lacking().filter("8BITMIME"::equals).isPresent()) {
            without8bit.add(route);
          }
          continue;
        }
        observe(destination, attempt.outcomes().stream().map(RecipientOutcome::reply).toList());
        DeliveryTls used = tls;
        return Optional.of(new Tried(attempt.outcomes().stream().map(o -> o.withTls(used)).toList(),
            Optional.empty()));
      }
      return Optional.empty();
    } finally {
      observe(destination, skipped.subList(seen, skipped.size()));
    }
  }

  /** The TLS of a session: its route's policy and the protocol, "none" for plaintext. */
  private static DeliveryTls tlsOf(SmtpConnection connection) {
    return new DeliveryTls(connection.route.policy(),
        connection.tlsSession().map(s -> s.getProtocol()).orElse(DeliveryTls.NONE), false);
  }

  /** Shows the servers' refusals to the backoff rules, each distinct reply once. */
  private void observe(Destination destination, List<Reply> replies) {
    Set<String> seen = new LinkedHashSet<>();
    for (Reply r : replies) {
      if (r.code() >= 400 && r.remoteMta().isPresent() && seen.add(r.code() + r.status() + r.text())) {
        shaping.observe(destination, r.code(), r.status(), r.text());
      }
    }
  }

  /**
   * Whether {@code route} is one of this relay's listening sockets (an MX record pointing at us): the
   * message would come straight back. A wildcard listener counts for every local address.
   */
  private boolean listener(Route route) {
    if (route.address().isEmpty()) {
      return false; // a smarthost's name: its EHLO name tells (SmtpConnection)
    }
    InetAddress target = route.address().get();
    try {
      for (InetSocketAddress own : listening) {
        if (own.getPort() == route.port() && (own.getAddress().equals(target) || own.getAddress().isAnyLocalAddress()
            && (target.isLoopbackAddress() || NetworkInterface.getByInetAddress(target) != null))) {
          return true;
        }
      }
    } catch (IOException e) {
      log.debug("cannot compare {} with the listeners: {}", route, e.toString());
    }
    return false;
  }

  /**
   * Connects; when opportunistic STARTTLS fails in the handshake, once more in plaintext: with
   * opportunistic TLS plaintext is acceptable, so a broken TLS stack at the receiver must not keep
   * the mail from going out (as Postfix does at security level "may").
   */
  private SmtpConnection open(Route route, boolean utf8) throws SmtpConnection.Unusable {
    try {
      return SmtpConnection.open(route, utf8, hostname, settings, timer, sockets);
    } catch (SmtpConnection.Unusable e) {
      if (!e.tlsFailed() || route.tls() != Route.Tls.OPPORTUNISTIC || route.verify()) {
        throw e;
      }
      log.info("host={} TLS handshake failed, retrying without TLS: {}", route, e.reply().text());
      return SmtpConnection.open(route.plaintext(), utf8, hostname, settings, timer, sockets);
    }
  }

  /**
   * One transaction; afterwards the connection is kept for the next message (with its place in the
   * group's connections) or closed (giving the place back).
   */
  private OutboundTransaction.Attempt run(ConnectionPool.Kept session, DeliveryRequest request, MessageFile file,
      boolean utf8, Destination destination) {
    SmtpConnection connection = session.connection();
    OutboundTransaction.Attempt attempt = OutboundTransaction.run(connection, request, file);
    session.lease().sent();
    if (attempt.reusable() && !utf8 && session.lease().reusable() && !shaping.excess(destination)) {
      connection.transactionDone();
      pool.give(destination.group(), connection, session.lease());
    } else {
      session.close();
    }
    return attempt;
  }

  /**
   * Every host was skipped. Permanent only if every host refused permanently (5xx greeting); otherwise
   * (connection refused, timeouts, 4xx) retry later. When every host failed the TLS policy
   * ({@code refused}), the outcomes' {@link DeliveryTls} says so.
   */
  private static List<RecipientOutcome> noHostTookIt(DeliveryRequest request, List<Reply> skipped, String label,
      Set<Reply> refused) {
    Reply last = skipped.isEmpty()
        ? Reply.local(451, "4.4.4", "no route to " + request.domain())
        : skipped.get(skipped.size() - 1);
    List<String> reasons = skipped.stream().map(Reply::text).toList();
    String text = reasons.size() <= 1 ? last.text() : String.join("; ", reasons);
    Reply summary = new Reply(last.code(), last.status(), text, last.remoteMta());
    boolean permanent = !skipped.isEmpty() && skipped.stream().allMatch(Reply::permanentFailure);
    DeliveryTls tls = new DeliveryTls(label, DeliveryTls.NONE,
        !skipped.isEmpty() && skipped.stream().allMatch(refused::contains));
    return request.recipients().stream().<RecipientOutcome>map(r -> permanent
        ? new RecipientOutcome.Failed(r, summary, tls)
        : new RecipientOutcome.Deferred(r, summary, tls)).toList();
  }

  private static Route smarthost(SignetConfig.Smarthost smarthost, Optional<InetAddress> source) {
    Route.Tls tls = switch (smarthost.tls()) {
      case OPPORTUNISTIC -> Route.Tls.OPPORTUNISTIC;
      case REQUIRED -> Route.Tls.REQUIRED;
      case IMPLICIT -> Route.Tls.IMPLICIT;
    };
    // A smarthost is a named, configured peer: its certificate is verified (unlike MX hosts).
    return new Route(smarthost.address().host(), smarthost.address().host(), smarthost.address().port(), tls,
        true, smarthost.username(), smarthost.password(), Route.SMARTHOST, List.of(), source);
  }

  private DeliveryResult logged(DeliveryRequest request, String label, DeliveryResult result) {
    return logOutcomes(request, delivery.smarthost().isPresent() ? Route.SMARTHOST : label, result);
  }

  private static DeliveryResult logged(DeliveryRequest request, DeliveryResult result) {
    return logOutcomes(request, "none", result);
  }

  /** One line per recipient, with the TLS policy that applied ("none" when no session was tried). */
  private static DeliveryResult logOutcomes(DeliveryRequest request, String policy, DeliveryResult result) {
    for (RecipientOutcome o : result.outcomes()) {
      String kind = switch (o) {
        case RecipientOutcome.Delivered d -> "delivered";
        case RecipientOutcome.Deferred d -> "deferred";
        case RecipientOutcome.Failed f -> "failed";
      };
      log.info("id={} to=<{}> result={} relay={} tls-policy={} status={} reply=\"{}\"", request.id(), o.recipient(),
          kind, o.reply().remoteMta().orElse("none"), policy, o.reply().status(), o.reply().text());
    }
    return result;
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
    sockets.abortAll();
  }

  @Override
  public void close() {
    pool.closeAll(); // first: QUIT writes still need the timer (mail.smtp.writetimeout)
    timer.shutdownNow();
  }
}
