package dev.signet.delivery;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * One place to try: an MX address or the smarthost, with how to secure the session there.
 *
 * @param name the host's name, for logs and the DSN's Remote-MTA
 * @param connectHost what to connect to: an MX's IP address (the resolver chose it), or the smarthost's name
 * @param verify check the certificate chain and the name: always for the smarthost; for an MX when its
 *     domain's TLS policy asks for it ({@link TlsPolicy}), else MX TLS is opportunistic (RFC 7435)
 * @param policy which TLS policy chose {@code tls} and {@code verify} (a {@link TlsPolicy#label})
 * @param tlsa with {@code verify}: the DANE TLSA records that authenticate the host instead of WebPKI
 * @param source the local address to connect from ({@code delivery.source-addresses}); empty = the system's choice
 */
record Route(String name, String connectHost, int port, Tls tls, boolean verify,
    Optional<String> username, Optional<String> password, String policy, List<Dane.Tlsa> tlsa,
    Optional<InetAddress> source) {

  Route {
    tlsa = List.copyOf(tlsa);
  }

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
    return new Route(name, address, port, tls, verify, Optional.empty(), Optional.empty(), policy, List.of(),
        Optional.empty());
  }

  /** An MX that DANE authenticates by {@code tlsa} (none usable = TLS required, not authenticated). */
  static Route dane(String name, String address, int port, List<Dane.Tlsa> tlsa) {
    return new Route(name, address, port, Tls.REQUIRED, !tlsa.isEmpty(), Optional.empty(), Optional.empty(),
        TlsPolicy.DANE, tlsa, Optional.empty());
  }

  /** The same host without TLS. */
  Route plaintext() {
    return new Route(name, connectHost, port, Tls.NONE, verify, username, password, policy, tlsa, source);
  }

  /** The same host, connected to from {@code local}. */
  Route from(Optional<InetAddress> local) {
    return new Route(name, connectHost, port, tls, verify, username, password, policy, tlsa, local);
  }

  boolean smarthost() {
    return policy.equals(SMARTHOST);
  }

  /** The address an MX route connects to (the resolver chose it); empty for a smarthost's name. */
  Optional<InetAddress> address() {
    return AddressLiteral.parse(connectHost.contains(":") ? "[IPv6:" + connectHost + "]" : "[" + connectHost + "]");
  }

  boolean authenticates() {
    return username.isPresent() && password.isPresent();
  }

  @Override
  public String toString() {
    return name.equals(connectHost) ? name + ":" + port : name + "[" + connectHost + "]:" + port;
  }
}
