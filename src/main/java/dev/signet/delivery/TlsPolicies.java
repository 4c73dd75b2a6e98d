package dev.signet.delivery;

import dev.signet.config.SignetConfig;
import dev.signet.config.SignetConfig.MtaStsMode;
import dev.signet.config.SignetConfig.TlsLevel;
import dev.signet.metrics.Metrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides the {@link TlsPolicy} of each recipient domain, evaluated per domain (never per shared MX
 * host): the operator's {@code delivery.tls-policy} entry for it wins; otherwise the domain's MTA-STS
 * policy ({@code delivery.mta-sts}); otherwise opportunistic TLS ({@code delivery.tls: required}
 * makes that encrypt). Also judges each session against the policy: the metric, the log line, the
 * TLS report ({@link TlsReports}), and for a policy in testing mode the after-the-fact check it reports.
 */
final class TlsPolicies {

  private static final Logger log = LoggerFactory.getLogger(TlsPolicies.class);

  private final Map<String, TlsLevel> configured;
  private final TlsLevel fallback;
  private final MtaStsMode mtaStsMode;
  private final Optional<MtaSts> mtaSts;
  private final Optional<Dane> dane;
  private final PeerTrust trust;
  private final Metrics metrics;
  private final TlsReports reports;

  TlsPolicies(SignetConfig.Delivery delivery, Optional<MtaSts> mtaSts, Optional<Dane> dane, PeerTrust trust,
      Metrics metrics) {
    this(delivery, mtaSts, dane, trust, metrics, null);
  }

  /**
   * @param metrics where session results are counted; null = not counted (tests of the sender alone)
   * @param reports where policy domains' sessions are counted for TLS-RPT (RFC 8460); null = nowhere
   */
  TlsPolicies(SignetConfig.Delivery delivery, Optional<MtaSts> mtaSts, Optional<Dane> dane, PeerTrust trust,
      Metrics metrics, TlsReports reports) {
    this.reports = reports;
    this.configured = delivery.tlsPolicy();
    this.fallback = delivery.tls() == SignetConfig.TlsMode.REQUIRED ? TlsLevel.ENCRYPT : TlsLevel.OPPORTUNISTIC;
    this.mtaStsMode = delivery.mtaSts();
    this.mtaSts = delivery.mtaSts() == MtaStsMode.OFF ? Optional.empty() : mtaSts;
    this.dane = dane;
    this.trust = trust;
    this.metrics = metrics;
    if (metrics != null && dane.isPresent()) {
      metrics.dnssecAvailable(dane.get()::availability);
    }
    if (metrics != null && this.mtaSts.isPresent()) {
      MtaSts sts = this.mtaSts.get();
      metrics.mtaStsPolicies(mode -> sts.counts().get(MtaStsPolicy.Mode.valueOf(mode.toUpperCase(Locale.ROOT))));
    }
  }

  /** The policy for mail to {@code domain}. May fetch an MTA-STS policy (HTTPS) when the cache has none. */
  TlsPolicy forDomain(String domain) {
    String d = domain.toLowerCase(Locale.ROOT);
    if (d.endsWith(".")) {
      d = d.substring(0, d.length() - 1);
    }
    TlsLevel level = configured.get(d);
    if (level != null) {
      return TlsPolicy.configured(level); // the operator's word overrides discovery for this domain
    }
    if (mtaSts.isPresent()) {
      Optional<MtaSts.Applied> applied = mtaSts.get().policy(d);
      if (applied.isPresent()) {
        boolean testing = applied.get().policy().mode() == MtaStsPolicy.Mode.TESTING
            || mtaStsMode == MtaStsMode.TESTING_ONLY;
        return TlsPolicy.mtaSts(applied.get(), testing, fallback);
      }
      Optional<String> unfetched = mtaSts.get().fetchFailure(d);
      if (unfetched.isPresent()) {
        return TlsPolicy.unfetched(fallback, unfetched.get()); // RFC 8461 §5: deliver as without a policy
      }
    }
    return TlsPolicy.byDefault(fallback);
  }

  /**
   * The addresses to try for {@code found}'s MX hosts, each secured as the policy (or DANE) asks;
   * hosts that cannot be used go to {@code skipped} with the reason. DANE comes first where the MX set
   * is DNSSEC-secure (RFC 8461 §2: DANE takes precedence over MTA-STS), unless the operator configured
   * another level for the domain.
   */
  List<Route> routes(String domain, MxResult.Found found, TlsPolicy policy, int port, List<Reply> skipped) {
    List<Route> routes = new ArrayList<>();
    boolean daneRequired = policy.level() == TlsLevel.DANE;
    if (policy.configured() && !daneRequired) {
      found.hosts().forEach(h -> plain(domain, h, policy, port, routes, skipped));
      return routes;
    }
    if (dane.isEmpty() || !dane.get().available()) {
      if (daneRequired) {
        skipped.add(daneFailure(domain, null, policy.describe(domain) + ": DANE cannot be checked ("
            + (dane.isEmpty() ? "delivery.dane is off" : "DNSSEC does not validate through delivery.dns") + ")"));
        return routes;
      }
      found.hosts().forEach(h -> plain(domain, h, policy, port, routes, skipped));
      return routes;
    }
    Dane d = dane.get();
    Dane.MxSecurity mx = d.mx(domain);
    if (mx == Dane.MxSecurity.BOGUS) {
      // RFC 7672 §2.2.1: a bogus MX set could be forged: no delivery until it validates.
      if (metrics != null) {
        metrics.deliveryTls(TlsPolicy.DANE, false);
      }
      String text = "DNSSEC validation of the MX records of " + domain + " failed: " + d.mxTrouble(domain);
      log.warn("tls domain={} policy=dane result=failed type=dnssec-invalid: {}", domain, text);
      if (reports != null) {
        reports.record(new TlsReports.Session(domain, TlsReports.Session.TLSA, List.of(), List.of(), "dnssec-invalid",
            "", "", ""));
      }
      skipped.add(Reply.local(451, "4.4.3", text));
      return routes;
    }
    for (MxHost host : found.hosts()) {
      Dane.Host h = mx == Dane.MxSecurity.SECURE ? d.host(host.name())
          : new Dane.Host.NoDane("the MX records of " + domain + " are not DNSSEC-signed");
      switch (h) {
        case Dane.Host.Required r -> {
          for (var address : host.addresses()) {
            routes.add(Route.dane(host.name(), address.getHostAddress(), port, r.usable()));
          }
        }
        case Dane.Host.Unusable u -> skipped.add(daneFailure(domain, host.name(), u.why()));
        case Dane.Host.NoDane n -> {
          if (daneRequired) {
            skipped.add(daneFailure(domain, host.name(), policy.describe(domain) + ": " + n.why()));
          } else {
            plain(domain, host, policy, port, routes, skipped);
          }
        }
      }
    }
    return routes;
  }

  /** The routes of one host without DANE: as the policy says, unless MTA-STS enforce excludes it (§4.1). */
  private void plain(String domain, MxHost host, TlsPolicy policy, int port, List<Route> routes, List<Reply> skipped) {
    if (policy.stsRefuses(host.name())) {
      Reply refused = refusedHost(domain, policy, host.name());
      if (!policy.allows(host.name())) {
        skipped.add(refused);
        return;
      }
    }
    for (var address : host.addresses()) {
      routes.add(Route.mx(host.name(), address.getHostAddress(), port, policy.routeTls(), policy.verify(),
          policy.label()));
    }
  }

  private Reply daneFailure(String domain, String host, String text) {
    if (metrics != null) {
      metrics.deliveryTls(TlsPolicy.DANE, false);
    }
    log.warn("tls domain={} host={} policy=dane result=failed: {}", domain, host == null ? "none" : host, text);
    return host == null ? Reply.local(451, "4.7.5", text) : Reply.about(host, 451, "4.7.5", text);
  }

  /**
   * An MX host the policy excludes (RFC 8461 §4.1): the reply that skips it. In testing mode the host
   * is used anyway and this is only reported.
   */
  private Reply refusedHost(String domain, TlsPolicy policy, String host) {
    MtaStsPolicy sts = policy.sts().orElseThrow().policy();
    String text = host + " is not an MX host allowed by the " + policy.describe(domain) + ": mx "
        + String.join(", ", sts.mx());
    if (metrics != null && !policy.reportOnly()) {
      metrics.deliveryTls(policy.label(), false); // in testing mode the session counts once, in opened()
    }
    if (!policy.reportOnly()) {
      // RFC 8460 has no type of its own for an MX outside the policy: the MX fails validation (§4.3.2.2).
      report(domain, policy, Route.mx(host, "", 0, Route.Tls.NONE, false, policy.label()), "", "validation-failure");
    }
    log.warn("tls domain={} host={} policy={} result=failed type=mx-mismatch: {}{}", domain, host, policy.label(),
        text, policy.reportOnly() ? " (testing: delivering anyway)" : "");
    return Reply.about(host, 451, "4.7.5", text);
  }

  /**
   * A session is open: counts it, and for a policy in testing mode checks what enforce would have
   * checked (STARTTLS, chain, name) and reports a failure without stopping the delivery.
   */
  void opened(String domain, TlsPolicy policy, Route route, Optional<SSLSession> session, String localAddress) {
    boolean ok = true;
    String detail = "";
    String resultType = null;
    if (policy.reportOnly() && route.policy().equals(policy.label())) {
      if (policy.stsRefuses(route.name())) {
        ok = false;
        detail = " type=mx-mismatch";
        resultType = "validation-failure";
      } else if (session.isEmpty()) {
        ok = false;
        detail = " type=starttls-not-supported";
        resultType = "starttls-not-supported";
      } else {
        Optional<PeerTrust.Failure> failure = trust.check(session.get(), route.name());
        if (failure.isPresent()) {
          ok = false;
          detail = " type=" + failure.get().resultType() + " detail=\"" + failure.get().detail() + "\"";
          resultType = failure.get().resultType();
        }
      }
    }
    if (metrics != null) {
      metrics.deliveryTls(route.policy(), ok);
    }
    report(domain, policy, route, localAddress, resultType);
    String tls = session.map(s -> s.getProtocol()).orElse("none");
    if (ok) {
      log.debug("tls domain={} host={} policy={} result=ok tls={}", domain, route, route.policy(), tls);
    } else {
      log.warn("tls domain={} host={} policy={} result=failed{} tls={} ({}: delivering anyway)", domain, route,
          policy.label(), detail, tls, policy.describe(domain));
    }
  }

  /**
   * A session could not be set up. If the policy is why (TLS missing or failed under a policy that
   * requires it), counts the failure and names the policy in the reply, so that the deferral and
   * the DSN at expiry say what failed.
   */
  Reply failed(String domain, TlsPolicy policy, Route route, SmtpConnection.Unusable unusable) {
    Reply reply = unusable.reply();
    boolean tlsTrouble = reply.status().startsWith("4.7.");
    if (!tlsTrouble || route.smarthost() || route.tls() != Route.Tls.REQUIRED) {
      return reply; // not TLS, or opportunistic: the sender tries again in plaintext, which meets the policy
    }
    if (metrics != null) {
      metrics.deliveryTls(route.policy(), false);
    }
    report(domain, policy, route, unusable.localAddress(), reply.status().equals("4.7.4")
        ? "starttls-not-supported" : unusable.tls().map(PeerTrust.Failure::resultType).orElse("validation-failure"));
    String why = route.policy().equals(TlsPolicy.DANE)
        ? "DANE (TLSA records of _25._tcp." + route.name() + ")" : policy.describe(domain);
    String text = why + ": " + reply.text();
    log.warn("tls domain={} host={} policy={} result=failed: {}", domain, route, route.policy(), text);
    return new Reply(reply.code(), reply.status(), text, reply.remoteMta());
  }

  /**
   * Counts a session with a policy domain for TLS-RPT: DANE routes under their TLSA records, others
   * under the domain's MTA-STS policy; sessions under no published policy are not reported.
   *
   * @param route the route of the session (connectHost empty when the host was never contacted)
   * @param localAddress the address the session left from; empty when unknown
   * @param resultType the RFC 8460 §4.3 result type of a failure; null = success
   */
  private void report(String domain, TlsPolicy policy, Route route, String localAddress, String resultType) {
    if (reports == null) {
      return;
    }
    String host = route.name();
    String ip = route.connectHost();
    if (route.policy().equals(TlsPolicy.DANE)) {
      reports.record(new TlsReports.Session(domain, TlsReports.Session.TLSA,
          route.tlsa().stream().map(Dane.Tlsa::toString).toList(), List.of(host), resultType, localAddress, host,
          ip));
    } else if (policy.sts().isPresent()) {
      MtaStsPolicy p = policy.sts().get().policy();
      List<String> strings = new ArrayList<>();
      strings.add("version: STSv1"); // RFC 8460 §4.3.1: the policy as fetched, one string per line
      strings.add("mode: " + p.mode().name().toLowerCase(Locale.ROOT));
      p.mx().forEach(m -> strings.add("mx: " + m));
      strings.add("max_age: " + p.maxAgeSeconds());
      reports.record(new TlsReports.Session(domain, TlsReports.Session.STS, strings, p.mx(), resultType, localAddress,
          host, ip));
    } else if (policy.stsFailure().isPresent()) {
      // RFC 8460 §4.3.2.2: the policy could not be had; every session counts as failed for that reason.
      reports.record(new TlsReports.Session(domain, TlsReports.Session.NO_POLICY, List.of(), List.of(),
          resultType != null ? resultType : policy.stsFailure().get(), localAddress, host, ip));
    }
  }
}
