package dev.signet.delivery;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * RFC 5321 §4.1.3 address literals, parsed strictly and never handed to a resolver:
 * {@code [192.0.2.1]} (exactly four decimal octets) and {@code [IPv6:2001:db8::1]} (RFC 4291 §2.2
 * text, optionally ending in a dotted quad). The shorthands that C's {@code inet_aton} and Java's
 * {@code InetAddress.getByName} accept ({@code [127.1]}, {@code [2130706433]}, {@code [0]}) and
 * anything else ({@code [IPv6:dead.beef]}, which getByName would look up in DNS and the hosts file)
 * are not address literals.
 */
public final class AddressLiteral {
  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  private static final Pattern HEX16 = Pattern.compile("[0-9A-Fa-f]{1,4}");

  private AddressLiteral() {}

  /** True for a domain written as an address literal ({@code [...]}), valid or not. */
  public static boolean is(String domain) {
    return domain.startsWith("[") && domain.endsWith("]");
  }

  /** The address of a valid literal such as {@code [192.0.2.1]} or {@code [IPv6:::1]}; empty otherwise. */
  public static Optional<InetAddress> parse(String literal) {
    if (!is(literal) || literal.length() < 3) {
      return Optional.empty();
    }
    String inner = literal.substring(1, literal.length() - 1);
    byte[] bytes = inner.regionMatches(true, 0, "IPv6:", 0, 5) ? ipv6(inner.substring(5)) : ipv4(inner);
    if (bytes == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByAddress(bytes)); // from bytes: no lookup
    } catch (UnknownHostException e) {
      return Optional.empty(); // not reached: the length is 4 or 16
    }
  }

  /** RFC 5321 §4.1.3 IPv4-address-literal = Snum 3("." Snum), Snum = 1*3DIGIT of 0-255. */
  private static byte[] ipv4(String s) {
    var m = IPV4.matcher(s);
    if (!m.matches()) {
      return null;
    }
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      int n = Integer.parseInt(m.group(i + 1));
      if (n > 255) {
        return null;
      }
      out[i] = (byte) n;
    }
    return out;
  }

  /** RFC 4291 §2.2 forms 1-3: eight groups, one "::" standing for one or more zero groups, an IPv4 tail. */
  private static byte[] ipv6(String s) {
    byte[] tail = null;
    int lastColon = s.lastIndexOf(':');
    if (lastColon < 0) {
      return null;
    }
    String head = s;
    if (s.indexOf('.', lastColon) > 0) {
      tail = ipv4(s.substring(lastColon + 1));
      if (tail == null) {
        return null;
      }
      head = s.substring(0, lastColon + 1) + "0:0"; // placeholder groups, replaced below
    }
    int gap = head.indexOf("::");
    if (gap >= 0 && head.indexOf("::", gap + 1) >= 0) {
      return null;
    }
    String[] left = gap < 0 ? head.split(":", -1) : split(head.substring(0, gap));
    String[] right = gap < 0 ? new String[0] : split(head.substring(gap + 2));
    int groups = left.length + right.length;
    if (gap < 0 ? groups != 8 : groups > 7) {
      return null;
    }
    byte[] out = new byte[16];
    if (!fill(out, 0, left) || !fill(out, 16 - 2 * right.length, right)) {
      return null;
    }
    if (tail != null) {
      System.arraycopy(tail, 0, out, 12, 4);
    }
    return out;
  }

  private static String[] split(String part) {
    return part.isEmpty() ? new String[0] : part.split(":", -1);
  }

  private static boolean fill(byte[] out, int at, String[] groups) {
    for (String g : groups) {
      if (!HEX16.matcher(g).matches()) {
        return false;
      }
      int v = Integer.parseInt(g, 16);
      out[at++] = (byte) (v >> 8);
      out[at++] = (byte) v;
    }
    return true;
  }

  /**
   * Why Signet never connects to {@code address}, whatever DNS says; empty if it may. Unspecified
   * (0.0.0.0/8, ::), multicast, broadcast and link-local addresses (169.254.0.0/16 holds cloud
   * metadata services; fe80::/10) are no mail host. Loopback and private ranges stay reachable:
   * internal relays and tests use them.
   */
  public static Optional<String> undialable(InetAddress address) {
    byte[] b = address.getAddress();
    if (address.isAnyLocalAddress() || b.length == 4 && b[0] == 0) {
      return Optional.of("unspecified");
    }
    if (address.isMulticastAddress()) {
      return Optional.of("multicast");
    }
    if (b.length == 4 && (b[0] & b[1] & b[2] & b[3]) == (byte) 0xff) {
      return Optional.of("broadcast");
    }
    if (address.isLinkLocalAddress()) {
      return Optional.of("link-local");
    }
    return Optional.empty();
  }
}
