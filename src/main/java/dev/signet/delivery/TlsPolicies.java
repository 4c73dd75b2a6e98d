package dev.signet.delivery;

import dev.signet.config.SignetConfig;
import dev.signet.config.SignetConfig.MtaStsMode;
import dev.signet.config.SignetConfig.TlsLevel;
import dev.signet.metrics.Metrics;
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
 * makes that encrypt). Also judges each session against the policy: the metric, the log line, and
 * for a policy in testing mode the after-the-fact check it reports.
 */
final class TlsPolicies {

  private static final Logger log = LoggerFactory.getLogger(TlsPolicies.class);

  private final Map<String, TlsLevel> configured;
  private final TlsLevel fallback;
  private final MtaStsMode mtaStsMode;
  private final Optional<MtaSts> mtaSts;
  private final PeerTrust trust;
  private final Metrics metrics;

  /** @param metrics where session results are counted; null = not counted (tests of the sender alone) */
  TlsPolicies(SignetConfig.Delivery delivery, Optional<MtaSts> mtaSts, PeerTrust trust, Metrics metrics) {
    this.configured = delivery.tlsPolicy();
    this.fallback = delivery.tls() == SignetConfig.TlsMode.REQUIRED ? TlsLevel.ENCRYPT : TlsLevel.OPPORTUNISTIC;
    this.mtaStsMode = delivery.mtaSts();
    this.mtaSts = delivery.mtaSts() == MtaStsMode.OFF ? Optional.empty() : mtaSts;
    this.trust = trust;
    this.metrics = metrics;
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
    }
    return TlsPolicy.byDefault(fallback);
  }

  /**
   * An MX host the policy excludes (RFC 8461 §4.1): the reply that skips it. In testing mode the host
   * is used anyway and this is only reported.
   */
  Reply refusedHost(String domain, TlsPolicy policy, String host) {
    MtaStsPolicy sts = policy.sts().orElseThrow().policy();
    String text = host + " is not an MX host allowed by the " + policy.describe(domain) + ": mx "
        + String.join(", ", sts.mx());
    if (metrics != null) {
      metrics.deliveryTls(policy.label(), false);
    }
    log.warn("tls domain={} host={} policy={} result=failed type=mx-mismatch: {}{}", domain, host, policy.label(),
        text, policy.reportOnly() ? " (testing: delivering anyway)" : "");
    return Reply.about(host, 451, "4.7.5", text);
  }

  /**
   * A session is open: counts it, and for a policy in testing mode checks what enforce would have
   * checked (STARTTLS, chain, name) and reports a failure without stopping the delivery.
   */
  void opened(String domain, TlsPolicy policy, Route route, Optional<SSLSession> session) {
    boolean ok = true;
    String detail = "";
    if (policy.reportOnly()) {
      if (session.isEmpty()) {
        ok = false;
        detail = " type=starttls-not-supported";
      } else {
        Optional<PeerTrust.Failure> failure = trust.check(session.get(), route.name());
        if (failure.isPresent()) {
          ok = false;
          detail = " type=" + failure.get().resultType() + " detail=\"" + failure.get().detail() + "\"";
        }
      }
    }
    if (metrics != null) {
      metrics.deliveryTls(route.smarthost() ? Route.SMARTHOST : policy.label(), ok);
    }
    String tls = session.map(s -> s.getProtocol()).orElse("none");
    if (ok) {
      log.debug("tls domain={} host={} policy={} result=ok tls={}", domain, route, policy.label(), tls);
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
  Reply failed(String domain, TlsPolicy policy, Route route, Reply reply) {
    boolean tlsTrouble = reply.status().startsWith("4.7.");
    if (!tlsTrouble || route.smarthost()) {
      return reply;
    }
    if (!policy.enforced()) {
      return reply; // opportunistic: the sender tries again in plaintext, which meets the policy
    }
    if (metrics != null) {
      metrics.deliveryTls(policy.label(), false);
    }
    String text = policy.describe(domain) + ": " + reply.text();
    log.warn("tls domain={} host={} policy={} result=failed: {}", domain, route, policy.label(), text);
    return new Reply(reply.code(), reply.status(), text, reply.remoteMta());
  }
}
