package dev.signet.delivery;

import dev.signet.config.SignetConfig;
import dev.signet.shaping.Destination;
import dev.signet.shaping.Hold;
import dev.signet.shaping.Lease;
import dev.signet.shaping.Shaping;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
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
 * runs the transaction decides. The signed bytes go out unchanged (see {@link RawMessage}).
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
  private final Shaping shaping;

  /** A sender for the relay configured by {@code config} (hostname, delivery.*), shaped by the built-in rules. */
  public SmtpSender(SignetConfig config) {
    this(config, Shaping.builtIn(Clock.systemUTC()));
  }

  /** A sender for the relay configured by {@code config}, shaped by {@code shaping} (closed by its owner). */
  public SmtpSender(SignetConfig config, Shaping shaping) {
    this(config.hostname(), config.delivery(), new MxResolver(config.delivery().dns()), SenderSettings.rfc5321(),
        shaping);
  }

  SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings) {
    this(hostname, delivery, resolver, settings, Shaping.builtIn(Clock.systemUTC()));
  }

  SmtpSender(String hostname, SignetConfig.Delivery delivery, MxResolver resolver, SenderSettings settings,
      Shaping shaping) {
    this.shaping = shaping;
    this.hostname = hostname;
    this.delivery = delivery;
    this.resolver = resolver;
    this.settings = settings;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
        .name("signet-smtp-timer").daemon().unstarted(r));
    this.pool = new ConnectionPool();
    long sweep = Math.max(100, settings.reuseIdle().toMillis());
    timer.scheduleWithFixedDelay(() -> pool.closeIdle(settings), sweep, sweep, TimeUnit.MILLISECONDS);
  }

  /**
   * One delivery attempt. Never throws for delivery trouble: every recipient gets an outcome
   * (Delivered, Deferred = retry later, Failed = bounce).
   */
  public DeliveryResult deliver(DeliveryRequest request) {
    if (sockets.aborted()) {
      return logged(request, new DeliveryResult(Transaction.deferAll(request, STOPPING)));
    }
    MessageFile file;
    try {
      file = MessageFile.scan(request.message());
    } catch (IOException e) {
      return logged(request, new DeliveryResult(Transaction.deferAll(request,
          Reply.local(451, "4.3.0", "cannot read message file " + request.message() + ": " + e.getMessage()))));
    }
    List<Route> routes;
    Destination destination = Destination.UNSHAPED;
    if (delivery.smarthost().isPresent()) {
      routes = List.of(smarthost(delivery.smarthost().get()));
    } else {
      switch (resolver.lookup(request.domain())) {
        case MxResult.Found found -> {
          routes = mxRoutes(found);
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
              Transaction.deferAll(request, Reply.local(451, "4.4.3", failure.reason()))));
        }
      }
    }
    return logged(request, shaped(request, file, routes, destination));
  }

  /**
   * The recipients in transactions of at most {@code recipients-per-transaction} each, every one
   * admitted by shaping first; once shaping holds one back, the rest are held with it.
   */
  private DeliveryResult shaped(DeliveryRequest request, MessageFile file, List<Route> routes, Destination destination) {
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
        tried = attempt(part, file, routes, destination);
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

  private Tried attempt(DeliveryRequest request, MessageFile file, List<Route> routes, Destination destination) {
    boolean utf8 = Transaction.needsSmtpUtf8(request, file);
    List<Reply> skipped = new ArrayList<>();
    try {
      for (Route route : routes) {
        if (sockets.aborted()) {
          return new Tried(Transaction.deferAll(request, STOPPING), Optional.empty()); // not the next host either
        }
        while (shaping.excess(destination) && pool.closeOneIdle(destination.group())) {
          // a backoff rule lowered the group's connections: idle sessions over the limit go first
        }
        ConnectionPool.Kept kept = pool.take(destination.group(), route, utf8);
        if (kept != null && shaping.excess(destination)) {
          kept.close();
          kept = null;
        }
        Transaction.Attempt attempt = kept == null ? null : run(kept, request, file, utf8, destination);
        if (attempt == null || attempt.tryElsewhere()) {
          // No kept connection, or it died under us (the server may drop it between RSET and MAIL):
          // a fresh connection to the same host before moving on, if the group has one to spare.
          Optional<Lease> lease = shaping.open(destination);
          if (lease.isEmpty() && pool.closeOneIdle(destination.group())) {
            lease = shaping.open(destination);
          }
          if (lease.isEmpty()) {
            return new Tried(List.of(), Optional.of(shaping.busy(destination)));
          }
          SmtpConnection fresh;
          try {
            fresh = open(route, utf8);
          } catch (SmtpConnection.Unusable e) {
            lease.get().close();
            log.info("delivery to={} host={} skipped: {}", request.domain(), route, e.reply().text());
            skipped.add(e.reply());
            continue;
          }
          attempt = run(new ConnectionPool.Kept(fresh, lease.get()), request, file, utf8, destination);
        }
        if (attempt.tryElsewhere()) {
          log.info("delivery to={} host={} lost: {}", request.domain(), route,
              attempt.outcomes().get(0).reply().text());
          skipped.add(attempt.outcomes().get(0).reply());
          continue;
        }
        observe(destination, attempt.outcomes().stream().map(RecipientOutcome::reply).toList());
        return new Tried(attempt.outcomes(), Optional.empty());
      }
      return new Tried(noHostTookIt(request, skipped), Optional.empty());
    } finally {
      observe(destination, skipped);
    }
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
  private Transaction.Attempt run(ConnectionPool.Kept session, DeliveryRequest request, MessageFile file,
      boolean utf8, Destination destination) {
    SmtpConnection connection = session.connection();
    Transaction.Attempt attempt = Transaction.run(connection, request, file);
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
   * (connection refused, timeouts, 4xx) retry later.
   */
  private static List<RecipientOutcome> noHostTookIt(DeliveryRequest request, List<Reply> skipped) {
    Reply last = skipped.isEmpty()
        ? Reply.local(451, "4.4.4", "no route to " + request.domain())
        : skipped.get(skipped.size() - 1);
    List<String> reasons = skipped.stream().map(Reply::text).toList();
    String text = reasons.size() <= 1 ? last.text() : String.join("; ", reasons);
    Reply summary = new Reply(last.code(), last.status(), text, last.remoteMta());
    boolean permanent = !skipped.isEmpty() && skipped.stream().allMatch(Reply::permanentFailure);
    return request.recipients().stream().<RecipientOutcome>map(r -> permanent
        ? new RecipientOutcome.Failed(r, summary)
        : new RecipientOutcome.Deferred(r, summary)).toList();
  }

  private List<Route> mxRoutes(MxResult.Found found) {
    Route.Tls tls = delivery.tls() == SignetConfig.TlsMode.REQUIRED ? Route.Tls.REQUIRED : Route.Tls.OPPORTUNISTIC;
    List<Route> routes = new ArrayList<>();
    for (MxHost host : found.hosts().subList(0, Math.min(MAX_MX_HOSTS, found.hosts().size()))) {
      for (var address : host.addresses()) {
        routes.add(Route.mx(host.name(), address.getHostAddress(), delivery.port(), tls));
      }
    }
    return routes;
  }

  private static Route smarthost(SignetConfig.Smarthost smarthost) {
    Route.Tls tls = switch (smarthost.tls()) {
      case OPPORTUNISTIC -> Route.Tls.OPPORTUNISTIC;
      case REQUIRED -> Route.Tls.REQUIRED;
      case IMPLICIT -> Route.Tls.IMPLICIT;
    };
    // A smarthost is a named, configured peer: its certificate is verified (unlike MX hosts).
    return new Route(smarthost.address().host(), smarthost.address().host(), smarthost.address().port(), tls,
        true, smarthost.username(), smarthost.password());
  }

  private static DeliveryResult logged(DeliveryRequest request, DeliveryResult result) {
    for (RecipientOutcome o : result.outcomes()) {
      String kind = switch (o) {
        case RecipientOutcome.Delivered d -> "delivered";
        case RecipientOutcome.Deferred d -> "deferred";
        case RecipientOutcome.Failed f -> "failed";
      };
      log.info("id={} to=<{}> result={} relay={} status={} reply=\"{}\"", request.id(), o.recipient(), kind,
          o.reply().remoteMta().orElse("none"), o.reply().status(), o.reply().text());
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
