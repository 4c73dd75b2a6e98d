package dev.signet.delivery;

import dev.signet.config.SignetConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checks that keep mail from going round in circles or to places that are no mail host: too
 * many Received fields (a loop somewhere), an MX at an address no mail host has (cloud metadata,
 * 0.0.0.0), an MX that is this relay's own listener.
 */
final class LoopGuard {
  private static final Logger log = LoggerFactory.getLogger(SmtpSender.class);

  private final List<InetSocketAddress> listening;

  /** @param listening this relay's own listening sockets: an MX pointing at one of them is a loop */
  LoopGuard(List<InetSocketAddress> listening) {
    this.listening = List.copyOf(listening);
  }

  /** The submission listeners of {@code listen}, resolved (one that does not resolve is left out, logged). */
  static List<InetSocketAddress> listeners(SignetConfig.Listen listen) {
    List<InetSocketAddress> out = new ArrayList<>();
    for (var at : listen.smtps().isPresent() ? List.of(listen.submission(), listen.smtps().get())
        : List.of(listen.submission())) {
      try {
        out.add(new InetSocketAddress(InetAddress.getByName(at.host()), at.port()));
      } catch (IOException e) {
        log.warn("cannot resolve listener {} for mail-loop detection: {}", at, e.toString());
      }
    }
    return out;
  }

  /**
   * The most Received fields a message may hold when it leaves. Postfix refuses a message at {@code
   * hopcount_limit} = 50 Received fields; the submission side refuses at 50 before adding its own, so
   * an accepted message here holds at most this many, and more means it was spooled by something else.
   */
  static final int HOP_LIMIT = 50;

  /**
   * The failure for a message that has passed too many relays (RFC 5321 §6.3: a loop must be broken;
   * the Received fields say how many hops it has taken; RFC 3463 X.4.6 "routing loop detected"); empty
   * when it may go on.
   */
  static Optional<Reply> tooManyHops(MessageFile message) {
    if (message.hops() <= HOP_LIMIT) {
      return Optional.empty();
    }
    return Optional.of(Reply.local(554, "5.4.6", "too many hops: " + message.hops()
        + " Received header fields (limit " + HOP_LIMIT + "), mail loop"));
  }

  /** Why {@code route} (a host of {@code domain}) must not be dialled; empty when it may. */
  Optional<Reply> refusal(Route route, String domain) {
    Optional<String> undialable = route.address().flatMap(AddressLiteral::undialable);
    if (undialable.isPresent()) {
      // Whatever DNS says: an MX at 169.254.169.254 (cloud metadata) or 0.0.0.0 is no mail host.
      return Optional.of(Reply.about(route.name(), 550, "5.4.4", "not connecting to " + route + ": "
          + route.connectHost() + " is a " + undialable.get() + " address"));
    }
    if (listener(route)) {
      return Optional.of(Reply.about(route.name(), 554, "5.4.6", "mail for " + domain
          + " loops back to myself: " + route + " is this relay's own listener"));
    }
    return Optional.empty();
  }

  /**
   * Whether {@code route} is one of this relay's listening sockets (an MX record pointing at us): the
   * message would come straight back. A wildcard listener counts for every local address.
   */
  private boolean listener(Route route) {
    if (route.address().isEmpty()) {
      return false; // a smarthost's name: its EHLO name tells (SmtpConnection)
    }
    InetAddress target = route.address().get();
    try {
      for (InetSocketAddress own : listening) {
        if (own.getPort() == route.port() && (own.getAddress().equals(target) || own.getAddress().isAnyLocalAddress()
            && (target.isLoopbackAddress() || NetworkInterface.getByInetAddress(target) != null))) {
          return true;
        }
      }
    } catch (IOException e) {
      log.debug("cannot compare {} with the listeners: {}", route, e.toString());
    }
    return false;
  }
}
