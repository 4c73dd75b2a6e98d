package dev.signet.delivery;

import java.util.Optional;

/**
 * One place to try: an MX address or the smarthost, with how to secure the session there.
 *
 * @param name the host's name, for logs and the DSN's Remote-MTA
 * @param connectHost what to connect to: an MX's IP address (the resolver chose it), or the smarthost's name
 * @param verify check the certificate chain and the name: always for the smarthost; for an MX when its
 *     domain's TLS policy asks for it ({@link TlsPolicy}), else MX TLS is opportunistic (RFC 7435)
 * @param policy which TLS policy chose {@code tls} and {@code verify} (a {@link TlsPolicy#label})
 */
record Route(String name, String connectHost, int port, Tls tls, boolean verify,
    Optional<String> username, Optional<String> password, String policy) {

  static final String SMARTHOST = "smarthost";

  enum Tls {
    /** Plaintext even if STARTTLS is offered: the retry after a failed opportunistic handshake. */
    NONE,
    /** STARTTLS when offered, plaintext otherwise. */
    OPPORTUNISTIC,
    /** STARTTLS or no delivery through this host. */
    REQUIRED,
    /** TLS from the first byte (port 465 style, RFC 8314 §3.3). */
    IMPLICIT
  }

  static Route mx(String name, String address, int port, Tls tls, boolean verify, String policy) {
    return new Route(name, address, port, tls, verify, Optional.empty(), Optional.empty(), policy);
  }

  /** The same host without TLS. */
  Route plaintext() {
    return new Route(name, connectHost, port, Tls.NONE, verify, username, password, policy);
  }

  boolean smarthost() {
    return policy.equals(SMARTHOST);
  }

  boolean authenticates() {
    return username.isPresent() && password.isPresent();
  }

  @Override
  public String toString() {
    return name.equals(connectHost) ? name + ":" + port : name + "[" + connectHost + "]:" + port;
  }
}
