package dev.signet.delivery;

import java.util.List;

/** What {@link MxResolver#lookup} found: where to deliver, or why not (and whether to retry). */
public sealed interface MxResult {

  /** The hosts to try, most preferred first; never empty. */
  record Found(List<MxHost> hosts) implements MxResult {
    public Found {
      if (hosts.isEmpty()) {
        throw new IllegalArgumentException("Found needs at least one host");
      }
      hosts = List.copyOf(hosts);
    }
  }

  /**
   * The domain cannot receive mail (NXDOMAIN, null MX, no address at all): do not retry.
   *
   * @param status the RFC 3463 status to report: 5.1.10 for a null MX (RFC 7505 §4.1), else 5.1.2
   */
  record PermanentFailure(String status, String reason) implements MxResult {}

  /** DNS trouble (SERVFAIL, timeout, network): retry later. */
  record TemporaryFailure(String reason) implements MxResult {}
}
