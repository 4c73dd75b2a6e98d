package dev.signet.dmarc;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What Signet keeps of one DMARC aggregate report (RFC 7489 appendix C): who reported, for which
 * period and domain, how many messages got which DMARC-evaluated DKIM and SPF result and disposition,
 * and which source addresses failed SPF. A report of any size becomes a summary of bounded size.
 *
 * @param unauthorized source IP -> messages whose SPF check did not pass, at most {@link #MAX_IPS}
 *     addresses; the rest are added up under {@link #OTHER_IPS}
 */
public record ReportSummary(
    String org,
    String email,
    String reportId,
    Instant begin,
    Instant end,
    String domain,
    List<Tally> tallies,
    Map<String, Long> unauthorized) {

  static final int MAX_IPS = 100;
  static final String OTHER_IPS = "(others)";

  /**
   * Messages with one combination of results, as the receiver evaluated them for DMARC (policy_evaluated:
   * an aligned pass or not).
   */
  public record Tally(String dkim, String spf, String disposition, long count) {}

  public ReportSummary {
    tallies = List.copyOf(tallies);
    unauthorized = Map.copyOf(unauthorized);
  }

  public long messages() {
    return tallies.stream().mapToLong(Tally::count).sum();
  }

  /** The reporter as a metric label value, from a closed set. */
  public Reporter reporter() {
    return Reporter.of(org, email);
  }
}
