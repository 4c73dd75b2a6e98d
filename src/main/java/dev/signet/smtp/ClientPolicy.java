package dev.signet.smtp;

import dev.signet.config.Cidr;
import dev.signet.smtp.Users.User;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.subethamail.smtp.server.Session;

/**
 * Who may do what (docs/ARCHITECTURE.md, "Guarantees": no open relay): relay from {@code clients.networks} or after AUTH;
 * AUTH only under TLS unless the client is on loopback; an authenticated user only with its domains.
 */
final class ClientPolicy {
  private final List<Cidr> networks;
  private final Users users;
  private final boolean tlsAvailable;
  private final Predicate<InetAddress> local;

  /** @param local clients whose traffic cannot be sniffed (loopback), who may AUTH without TLS */
  ClientPolicy(List<Cidr> networks, Users users, boolean tlsAvailable, Predicate<InetAddress> local) {
    this.networks = List.copyOf(networks);
    this.users = users;
    this.tlsAvailable = tlsAvailable;
    this.local = local;
  }

  Users users() {
    return users;
  }

  boolean tlsAvailable() {
    return tlsAvailable;
  }

  /** In {@code clients.networks}: one of the relay's own applications. */
  boolean trusted(InetAddress client) {
    return networks.stream().anyMatch(n -> n.contains(client));
  }

  static InetAddress client(Session session) {
    return session.getRemoteAddress().getAddress();
  }

  /** RFC 4954 §4 and RFC 3207 §6: credentials only over an encrypted channel; loopback cannot be sniffed. */
  boolean authOffered(Session session) {
    return !users.isEmpty() && (session.isTLSStarted() || local.test(client(session)));
  }

  /**
   * The authenticated user, if AUTH succeeded on the session's current socket. RFC 3207 §4.2: after
   * STARTTLS the server discards what it knew from the client, AUTH included; the handshake swaps the
   * socket, so an identity given before it no longer matches.
   */
  static Optional<User> user(Session session) {
    return session.getAuthenticationHandler()
        .filter(AuthCommand.Authenticated.class::isInstance)
        .map(AuthCommand.Authenticated.class::cast)
        .filter(a -> a.socket() == session.getSocket())
        .map(AuthCommand.Authenticated::user);
  }

  /** Empty if the session may submit mail now; otherwise the reply refusing MAIL. */
  Optional<String> relayRefusal(Session session) {
    if (user(session).isPresent()) {
      return Optional.empty();
    }
    InetAddress client = client(session);
    if (trusted(client)) {
      return Optional.empty();
    }
    if (authOffered(session)) {
      return Optional.of("530 5.7.0 Authentication required"); // RFC 4954 §6
    }
    if (!users.isEmpty() && tlsAvailable && !session.isTLSStarted()) {
      return Optional.of("530 5.7.0 Must issue a STARTTLS command first"); // RFC 3207 §4
    }
    return Optional.of("554 5.7.1 Relay access denied: " + client.getHostAddress() + " is not in clients.networks");
  }

  /** Empty if the authenticated user (if any) may use {@code domain}; otherwise the 550 reply. */
  static Optional<String> domainRefusal(Session session, String domain, String what) {
    Optional<User> user = user(session);
    if (user.isEmpty() || user.get().mayUse(domain)) {
      return Optional.empty();
    }
    return Optional.of("550 5.7.1 " + what + " domain " + domain + " is not allowed for user " + user.get().name());
  }
}
