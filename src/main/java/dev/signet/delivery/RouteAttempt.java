package dev.signet.delivery;

import dev.signet.shaping.Destination;
import dev.signet.shaping.Hold;
import dev.signet.shaping.Shaping;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One transaction's attempt over the routes in order (RFC 5321 §5.1): a host that must not be dialled
 * ({@link LoopGuard}), cannot be reached, refuses the session, fails the TLS policy or lacks an
 * extension the message needs is skipped for the next; the first host that runs the transaction
 * decides. When none took it and the hosts that lacked only 8BITMIME are all that is left, the
 * message goes to those once more in 7 bits ({@link SevenBitRetry}); when none is left, the
 * recipients' outcomes summarise why ({@link Outcomes#noHostTookIt}). Every refusal from a server is
 * shown to shaping's backoff rules.
 */
final class RouteAttempt {
  private static final Logger log = LoggerFactory.getLogger(SmtpSender.class);
  /** RFC 3463 X.3.2: system not accepting network messages (this one, shutting down). */
  static final Reply STOPPING = Reply.local(421, "4.3.2", "delivery cut off: the relay is stopping");

  /** What one transaction's attempt came to: outcomes, or held back (no connection to spare). */
  record Tried(List<RecipientOutcome> outcomes, Optional<Hold> hold) {}

  private final Sessions sessions;
  private final LoopGuard loops;
  private final TlsPolicies policies;
  private final Shaping shaping;
  private final Optional<SevenBitRetry> sevenBit;

  RouteAttempt(Sessions sessions, LoopGuard loops, TlsPolicies policies, Shaping shaping,
      Optional<SevenBitRetry> sevenBit) {
    this.sessions = sessions;
    this.loops = loops;
    this.policies = policies;
    this.shaping = shaping;
    this.sevenBit = sevenBit;
  }

  /**
   * One transaction to the routes in order; when no host took it and the hosts that lacked only
   * 8BITMIME are all that is left, the message once more in 7 bits (RFC 6152 §3).
   *
   * @param label the TLS policy label of the attempt, for the outcomes' {@link DeliveryTls}
   * @param skipped why hosts were left out so far (added to)
   * @param refused the replies of hosts skipped because they failed the TLS policy (identity set)
   */
  Tried attempt(DeliveryRequest request, MessageFile file, List<Route> routes, Destination destination,
      TlsPolicy policy, String label, List<Reply> skipped, Set<Reply> refused) {
    List<Route> without8bit = new ArrayList<>();
    Optional<Tried> sent = attempt(request, file, routes, destination, policy, skipped, refused, without8bit);
    if (sent.isEmpty() && !without8bit.isEmpty() && sevenBit.isPresent() && !sessions.aborted()) {
      sent = sevenBit.get().resend(request, skipped, (converted, convertedFile) ->
          attempt(converted, convertedFile, without8bit, destination, policy, skipped, refused, new ArrayList<>()));
    }
    return sent.orElseGet(() -> new Tried(Outcomes.noHostTookIt(request, skipped, label, refused), Optional.empty()));
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
    Set<String> shown = new HashSet<>(); // the replies the backoff rules have seen in this attempt
    // A transaction this host decided (not one lost on the way to another host) is shown to the backoff
    // rules before its connection gives back its place (Sessions.run), and so is a session the host
    // refused (a 421 greeting: Sessions.fresh), so that a suspension it starts is in force before
    // another delivery can take that place.
    Consumer<OutboundTransaction.Attempt> decided = a -> {
      if (!a.tryElsewhere()) {
        observe(destination, a.outcomes().stream().map(RecipientOutcome::reply).toList(), shown);
      }
    };
    try {
      for (Route route : routes) {
        if (sessions.aborted()) {
          // not the next host either
          return Optional.of(new Tried(Outcomes.deferAll(request, STOPPING), Optional.empty()));
        }
        Optional<Reply> refusal = loops.refusal(route, request.domain());
        if (refusal.isPresent()) {
          skipped.add(refusal.get());
          continue;
        }
        ConnectionPool.Kept kept = sessions.kept(destination, route, utf8);
        DeliveryTls tls = kept == null ? null : tlsOf(kept.connection());
        OutboundTransaction.Attempt attempt = kept == null ? null
            : sessions.run(kept, request, file, utf8, destination, decided);
        if (attempt == null || (attempt.tryElsewhere() && attempt.lacking().isEmpty())) {
          // No kept connection, or it died under us (the server may drop it between RSET and MAIL):
          // a fresh connection to the same host before moving on, if the group has one to spare.
          Optional<ConnectionPool.Kept> fresh;
          Reply[] unusable = new Reply[1];
          try {
            fresh = sessions.fresh(destination, route, utf8, e -> {
              unusable[0] = policies.failed(request.domain(), policy, route, e);
              observe(destination, List.of(unusable[0]), shown);
            });
          } catch (SmtpConnection.Unusable e) {
            Reply why = unusable[0]; // fresh showed it to the refusal handler above before it threw
            if (why != e.reply()) {
              refused.add(why); // the policy is why this host was skipped
            }
            log.info("delivery to={} host={} skipped: {}", request.domain(), route, why.text());
            skipped.add(why);
            continue;
          }
          if (fresh.isEmpty()) {
            return Optional.of(new Tried(List.of(), Optional.of(shaping.busy(destination))));
          }
          SmtpConnection connection = fresh.get().connection();
          policies.opened(request.domain(), policy, connection.route, connection.tlsSession(),
              connection.localAddress());
          tls = tlsOf(connection);
          attempt = sessions.run(fresh.get(), request, file, utf8, destination, decided);
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
        DeliveryTls used = tls;
        return Optional.of(new Tried(attempt.outcomes().stream().map(o -> o.withTls(used)).toList(),
            Optional.empty()));
      }
      return Optional.empty();
    } finally {
      observe(destination, skipped.subList(seen, skipped.size()), shown);
    }
  }

  /** The TLS of a session: its route's policy and the protocol, "none" for plaintext. */
  private static DeliveryTls tlsOf(SmtpConnection connection) {
    return new DeliveryTls(connection.route.policy(),
        connection.tlsSession().map(s -> s.getProtocol()).orElse(DeliveryTls.NONE), false);
  }

  /** Shows the servers' refusals to the backoff rules, each distinct reply once ({@code shown}: those seen). */
  private void observe(Destination destination, List<Reply> replies, Set<String> shown) {
    for (Reply r : replies) {
      if (r.code() >= 400 && r.remoteMta().isPresent() && shown.add(r.code() + r.status() + r.text())) {
        shaping.observe(destination, r.code(), r.status(), r.text());
      }
    }
  }
}
