package dev.signet.delivery;

import java.net.InetAddress;
import java.util.List;

/**
 * One mail exchanger of a domain: its name, MX preference and addresses, tried in the order given
 * (RFC 5321 §5.1: each address of a host is tried before the next host).
 */
public record MxHost(String name, int preference, List<InetAddress> addresses) {
  public MxHost {
    addresses = List.copyOf(addresses);
  }
}
