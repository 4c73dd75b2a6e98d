package dev.signet.delivery;

import java.util.Objects;

/**
 * The TLS facts of one delivery attempt for a recipient, as events report them (docs/ARCHITECTURE.md
 * "Events").
 *
 * @param policy the TLS policy that applied ({@code none}, {@code opportunistic}, {@code encrypt},
 *     {@code verify}, {@code dane}, {@code mta-sts}, {@code smarthost})
 * @param protocol the session's TLS protocol ({@code TLSv1.3}), or {@code none} for plaintext or when
 *     no session was set up
 * @param policyFailed every host was skipped because it failed the policy (the attempt's reply says how)
 */
public record DeliveryTls(String policy, String protocol, boolean policyFailed) {
  public static final String NONE = "none";

  public DeliveryTls {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(protocol, "protocol");
  }

  /** The event's {@code tls} field: policy and protocol, "mta-sts TLSv1.3" or "opportunistic none". */
  public String text() {
    return policy + " " + protocol;
  }
}
