package dev.signet.delivery;

import dev.signet.config.SignetConfig.TlsLevel;
import java.util.Locale;
import java.util.Optional;

/**
 * How sessions with one recipient domain's MX hosts must be secured, and which rule said so: the
 * operator's {@code delivery.tls-policy}, the domain's MTA-STS policy, or the default.
 *
 * @param level what a session must achieve: NONE and OPPORTUNISTIC accept plaintext, ENCRYPT needs
 *     STARTTLS, VERIFY also a certificate that chains to a trusted root and names the MX host
 * @param label the metric label and log name: the level for a configured policy ({@code verify}),
 *     {@code mta-sts} for a discovered one, else {@code opportunistic} (or {@code encrypt} under
 *     {@code delivery.tls: required})
 * @param sts the MTA-STS policy behind it, if any
 * @param reportOnly MTA-STS testing: deliver at {@code level}, but check and report what the policy
 *     would have refused (RFC 8461 §5: "testing")
 * @param configured from delivery.tls-policy: overrides discovery (MTA-STS, and DANE unless the level is dane)
 * @param stsFailure the domain publishes an MTA-STS policy that could not be fetched (and none is
 *     cached): the RFC 8460 result type of that failure, reported for each session (no-policy-found)
 */
record TlsPolicy(TlsLevel level, String label, Optional<MtaSts.Applied> sts, boolean reportOnly,
    boolean configured, Optional<String> stsFailure) {

  static final String MTA_STS = "mta-sts";
  static final String DANE = "dane";

  static TlsPolicy configured(TlsLevel level) {
    return new TlsPolicy(level, level.name().toLowerCase(Locale.ROOT), Optional.empty(), false, true,
        Optional.empty());
  }

  /** Where nothing is configured or published: opportunistic, or encrypt under {@code delivery.tls: required}. */
  static TlsPolicy byDefault(TlsLevel level) {
    return new TlsPolicy(level, level.name().toLowerCase(Locale.ROOT), Optional.empty(), false, false,
        Optional.empty());
  }

  /** The default, for a domain whose published MTA-STS policy could not be fetched ({@code resultType}). */
  static TlsPolicy unfetched(TlsLevel level, String resultType) {
    return new TlsPolicy(level, level.name().toLowerCase(Locale.ROOT), Optional.empty(), false, false,
        Optional.of(resultType));
  }

  static TlsPolicy mtaSts(MtaSts.Applied applied, boolean testing, TlsLevel testingLevel) {
    return new TlsPolicy(testing ? testingLevel : TlsLevel.VERIFY, MTA_STS, Optional.of(applied), testing, false,
        Optional.empty());
  }

  /** Whether mail may go to MX host {@code name} (RFC 8461 §4.1; in testing mode every host may). */
  boolean allows(String name) {
    return reportOnly || sts.isEmpty() || sts.get().policy().allows(name);
  }

  /** Whether an MTA-STS policy would refuse MX host {@code name} (to report in testing mode). */
  boolean stsRefuses(String name) {
    return sts.isPresent() && !sts.get().policy().allows(name);
  }

  Route.Tls routeTls() {
    return switch (level) {
      case NONE -> Route.Tls.NONE;
      case OPPORTUNISTIC -> Route.Tls.OPPORTUNISTIC;
      case ENCRYPT, VERIFY, DANE -> Route.Tls.REQUIRED;
    };
  }

  boolean verify() {
    return level == TlsLevel.VERIFY;
  }

  /** Whether a failure of this policy keeps mail from going out (as opposed to plaintext fallback). */
  boolean enforced() {
    return level == TlsLevel.ENCRYPT || level == TlsLevel.VERIFY || level == TlsLevel.DANE;
  }

  /** For log lines and reply texts: "MTA-STS policy of example.com (enforce, id=2026)" or "tls-policy verify". */
  String describe(String domain) {
    if (sts.isPresent()) {
      MtaSts.Applied a = sts.get();
      return "MTA-STS policy of " + domain + " (" + a.policy().mode().name().toLowerCase(Locale.ROOT)
          + (reportOnly && a.policy().mode() == MtaStsPolicy.Mode.ENFORCE ? " treated as testing" : "")
          + ", id=" + a.id() + ")";
    }
    return "TLS policy " + label + " for " + domain;
  }
}
