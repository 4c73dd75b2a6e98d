package dev.signet.delivery;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which local address an outbound connection leaves from ({@code delivery.source-addresses}).
 *
 * <p>With no addresses configured the system chooses, and MX addresses of both families are used.
 * Otherwise a connection binds to an address of the MX address's family, and an MX address of a family
 * the list lacks is not used at all: a list of IPv4 addresses is "IPv4 only" (what Gmail's reverse-DNS
 * rules for IPv6 senders make many operators want).
 *
 * <p>With several addresses of one family, each destination domain always leaves from the same one,
 * picked by a hash of the domain: a receiver sees one steady sender address (its reputation builds on
 * one IP), while different destinations spread over all of them. SPF must list every address.
 */
final class SourceAddresses {

  private final List<InetAddress> v4;
  private final List<InetAddress> v6;

  SourceAddresses(List<InetAddress> addresses) {
    this.v4 = addresses.stream().filter(a -> a instanceof Inet4Address).toList();
    this.v6 = addresses.stream().filter(a -> a instanceof Inet6Address).toList();
  }

  /** Whether the system picks the source address (nothing configured). */
  boolean any() {
    return v4.isEmpty() && v6.isEmpty();
  }

  /** Whether an MX address of this family may be used. */
  boolean reaches(InetAddress destination) {
    return any() || !family(destination).isEmpty();
  }

  /**
   * The address to bind to for a connection to {@code destination} on behalf of {@code domain}; empty
   * when nothing is configured (the system chooses).
   *
   * @throws IllegalArgumentException when the family is not configured (check {@link #reaches} first)
   */
  Optional<InetAddress> pick(String domain, InetAddress destination) {
    if (any()) {
      return Optional.empty();
    }
    List<InetAddress> candidates = family(destination);
    if (candidates.isEmpty()) {
      throw new IllegalArgumentException("no source address of the family of " + destination.getHostAddress());
    }
    int index = Math.floorMod(domain.toLowerCase(Locale.ROOT).hashCode(), candidates.size());
    return Optional.of(candidates.get(index));
  }

  /**
   * The MX routes of {@code domain} this relay may use, each bound to its source address: routes to a
   * family the list lacks are left out.
   */
  List<Route> routes(String domain, List<Route> routes) {
    if (any()) {
      return routes;
    }
    List<Route> usable = new java.util.ArrayList<>();
    for (Route route : routes) {
      route.address().filter(this::reaches).ifPresent(to -> usable.add(route.from(pick(domain, to))));
    }
    return List.copyOf(usable);
  }

  /** For a smarthost (a name, its family unknown before connecting): the first address configured. */
  Optional<InetAddress> first() {
    return v4.isEmpty() ? v6.stream().findFirst() : Optional.of(v4.get(0));
  }

  /** "IPv4" or "IPv6": the families configured, for messages. */
  String families() {
    return v4.isEmpty() ? "IPv6" : v6.isEmpty() ? "IPv4" : "IPv4 and IPv6";
  }

  private List<InetAddress> family(InetAddress address) {
    return address instanceof Inet4Address ? v4 : v6;
  }
}
