package dev.signet.cli;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import org.xbill.DNS.Type;

/**
 * Forward-confirmed reverse DNS of each source address (RFC 8601 §3 "iprev"; Gmail and Microsoft
 * refuse mail without it): a PTR record, whose name resolves back to the address, and that name is
 * the relay's {@code hostname} (what it says in EHLO).
 */
final class ReverseDnsCheck {

  private final DnsLookups dns;
  private final String hostname;

  ReverseDnsCheck(DnsLookups dns, String hostname) {
    this.dns = dns;
    this.hostname = hostname.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
  }

  Diagnosis check(InetAddress source) {
    String address = DnsCommand.text(source);
    String reverse = DnsLookups.reverseName(source);
    String fix = reverse + " IN PTR " + hostname + ".";
    DnsLookups.Answer answer = dns.query(reverse, Type.PTR);
    if (!answer.found() && !answer.absent()) {
      return Diagnosis.fail("ptr", address, "PTR lookup failed: " + answer.error(), null);
    }
    List<String> names = dns.ptr(answer);
    if (names.isEmpty()) {
      return Diagnosis.fail("ptr", address, "no PTR record for " + address
          + " (large receivers refuse such mail); ask the address's provider to publish", fix);
    }
    for (String name : names) {
      if (dns.addresses(name).contains(source)) {
        if (name.toLowerCase(Locale.ROOT).equals(hostname)) {
          return Diagnosis.pass("ptr", address, "PTR " + name + " resolves back to " + address + " and is the hostname");
        }
        return Diagnosis.fail("ptr", address, "PTR " + name + " forward-confirms but the relay says EHLO "
            + hostname + ": set hostname: " + name + " in the config, or change the PTR", fix);
      }
    }
    String name = names.get(0);
    return Diagnosis.fail("ptr", address, "PTR " + name + " does not resolve back to " + address
        + " (not forward-confirmed); publish", name + ". IN " + (source instanceof java.net.Inet4Address ? "A" : "AAAA")
        + " " + address);
  }
}
