package dev.signet.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address block like {@code 10.0.0.0/8} or {@code ::1/128}; a bare address is a single host. */
public record Cidr(byte[] network, int prefix) {

  public static Cidr parse(String text) {
    String s = text.trim();
    int slash = s.indexOf('/');
    String addressPart = slash < 0 ? s : s.substring(0, slash);
    if (!addressPart.matches("[0-9a-fA-F:.]+")) {
      // InetAddress.getByName would resolve a host name; a network list takes literals only.
      throw new IllegalArgumentException("expected an IP address or CIDR block, got '" + text + "'");
    }
    byte[] address;
    try {
      address = InetAddress.getByName(addressPart).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("expected an IP address or CIDR block, got '" + text + "'");
    }
    int bits = address.length * 8;
    int prefix = bits;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(s.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("prefix length is not a number in '" + text + "'");
      }
      if (prefix < 0 || prefix > bits) {
        throw new IllegalArgumentException("prefix length out of range 0-" + bits + " in '" + text + "'");
      }
    }
    return new Cidr(mask(address, prefix), prefix);
  }

  public boolean contains(InetAddress address) {
    byte[] candidate = address.getAddress();
    if (candidate.length != network.length) {
      return false;
    }
    return java.util.Arrays.equals(mask(candidate, prefix), network);
  }

  private static byte[] mask(byte[] address, int prefix) {
    byte[] out = address.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - i * 8));
      out[i] &= (byte) (0xff << (8 - keep));
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && c.prefix == prefix && java.util.Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(network) * 31 + prefix;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
