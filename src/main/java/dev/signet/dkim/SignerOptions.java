package dev.signet.dkim;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How a {@link Signer} signs: what the application's configuration says about DKIM, and nothing
 * else (the key choice and the unsigned-mail policy belong to the caller).
 *
 * @param canonicalization c= (RFC 6376 §3.4)
 * @param headers the header fields to sign when present (h=, RFC 6376 §5.4)
 * @param oversign the fields signed once more than they occur, so none can be added (§5.4.2)
 * @param expire how long after t= the signature expires (x=, §3.5); empty: no x=
 */
public record SignerOptions(Canonicalization canonicalization, List<String> headers, List<String> oversign,
    Optional<Duration> expire) {
  public SignerOptions {
    headers = List.copyOf(headers);
    oversign = List.copyOf(oversign);
  }
}
