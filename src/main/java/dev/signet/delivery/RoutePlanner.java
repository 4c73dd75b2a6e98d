package dev.signet.delivery;

import dev.signet.config.SignetConfig;
import dev.signet.shaping.Destination;
import dev.signet.shaping.Shaping;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where one delivery may go, before any connection: the smarthost, or the recipient domain's MX hosts
 * in preference order ({@link MxResolver}), each address a {@link Route} under the domain's TLS policy
 * ({@link TlsPolicies#routes}: hosts the policy rules out are left out, with the reason), bound to a
 * local address of its family ({@link SourceAddresses}), at most {@value #MAX_MX_HOSTS} hosts; and the
 * shaping group those hosts belong to.
 *
 * @param sources the local address each route leaves from ({@code delivery.source-addresses})
 * @param shaping names the group of the hosts
 */
record RoutePlanner(SignetConfig.Delivery delivery, MxResolver resolver, TlsPolicies policies,
    SourceAddresses sources, Shaping shaping) {
  /**
   * MX hosts tried per attempt, at most (the rest wait for the next attempt, after the first hosts
   * have been tried again). A domain with dozens of MX records would otherwise keep one attempt busy
   * for dozens of connection timeouts; chasquid tries 5 as well, and real domains rarely list more.
   */
  static final int MAX_MX_HOSTS = 5;

  /** What a delivery can be routed to. */
  sealed interface Plan {}

  /**
   * The routes to try in order.
   *
   * @param skipped the hosts the TLS policy left out, each with its reason (every one a policy failure)
   * @param label the TLS policy for log lines and outcomes: the smarthost's, DANE when it secured any
   *     route, else the domain's policy
   */
  record Routes(List<Route> routes, TlsPolicy policy, Destination destination, List<Reply> skipped, String label)
      implements Plan {}

  /** No route: every recipient's outcome is decided already (logged under {@code label}). */
  record Decided(List<RecipientOutcome> outcomes, String label) implements Plan {}

  Plan plan(DeliveryRequest request) {
    if (delivery.smarthost().isPresent()) {
      // A smarthost is not shaped.
      return new Routes(List.of(smarthost(delivery.smarthost().get(), sources.first())),
          TlsPolicy.byDefault(SignetConfig.TlsLevel.OPPORTUNISTIC), Destination.UNSHAPED, List.of(), Route.SMARTHOST);
    }
    return switch (resolver.lookup(request.domain())) {
      case MxResult.Found found -> {
        TlsPolicy policy = policies.forDomain(request.domain());
        List<Reply> skipped = new ArrayList<>();
        List<Route> secured = policies.routes(request.domain(), found, policy, delivery.port(), skipped);
        List<Route> routes = capped(sources.routes(request.domain(), secured));
        if (!secured.isEmpty() && routes.isEmpty()) {
          // RFC 3463 X.4.4: unable to route. Temporary: the MX records or the configuration may change.
          yield new Decided(Outcomes.deferAll(request, Reply.local(451, "4.4.4", "no MX address of "
              + request.domain() + " is reachable from delivery.source-addresses (" + sources.families()
              + " only)")), policy.label());
        }
        Destination destination = shaping.destination(request.domain(),
            found.hosts().stream().map(MxHost::name).toList());
        // DANE decides per MX host: name it in the log line when it secured any of the hosts tried.
        String label = routes.stream().anyMatch(r -> r.policy().equals(TlsPolicy.DANE)) ? TlsPolicy.DANE
            : policy.label();
        yield new Routes(routes, policy, destination, List.copyOf(skipped), label);
      }
      case MxResult.PermanentFailure failure -> {
        int code = failure.status().equals(MxResolver.NULL_MX) ? 556 : 550;
        yield new Decided(Outcomes.failAll(request, Reply.local(code, failure.status(), failure.reason())), "none");
      }
      // RFC 3463 X.4.3: directory server failure (DNS).
      case MxResult.TemporaryFailure failure ->
          new Decided(Outcomes.deferAll(request, Reply.local(451, "4.4.3", failure.reason())), "none");
    };
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
}
