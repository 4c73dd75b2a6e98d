package dev.signet.cli;

import dev.signet.config.HostPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * The doctor's DNS: every query goes to the configured servers ({@code delivery.dns}; none = the
 * system's), uncached (the doctor must see what is published now, and several runs share a JVM in
 * tests), with no search path and no hosts file.
 */
final class DnsLookups {

  /** One answer: the records, or why there are none. */
  record Answer(int result, List<Record> records, String error) {
    boolean found() {
      return result == Lookup.SUCCESSFUL;
    }

    /** NXDOMAIN or no record of the type: the name is known not to have it. */
    boolean absent() {
      return result == Lookup.HOST_NOT_FOUND || result == Lookup.TYPE_NOT_FOUND;
    }
  }

  private final ExtendedResolver resolver;

  DnsLookups(List<HostPort> servers) {
    List<org.xbill.DNS.Resolver> resolvers = new ArrayList<>();
    for (HostPort server : servers) {
      resolvers.add(new SimpleResolver(new InetSocketAddress(server.host(), server.port())));
    }
    resolver = servers.isEmpty() ? new ExtendedResolver() : new ExtendedResolver(resolvers);
    resolver.setTimeout(Duration.ofSeconds(5));
    resolver.setRetries(2);
  }

  Answer query(String name, int type) {
    Name n;
    try {
      n = Name.fromString(name.endsWith(".") ? name : name + ".");
    } catch (TextParseException e) {
      return new Answer(Lookup.UNRECOVERABLE, List.of(), "not a valid DNS name: " + name);
    }
    Lookup lookup = new Lookup(n, type, DClass.IN);
    lookup.setResolver(resolver);
    lookup.setCache(null);
    lookup.setSearchPath((List<Name>) null);
    lookup.setHostsFileParser(null);
    Record[] records = lookup.run();
    return new Answer(lookup.getResult(), records == null ? List.of() : List.of(records),
        lookup.getResult() == Lookup.SUCCESSFUL ? "" : lookup.getErrorString());
  }

  /** Each TXT record of {@code name} as one string (its character-strings joined, RFC 7208 §3.3). */
  List<String> txt(Answer answer) {
    List<String> out = new ArrayList<>();
    for (Record r : answer.records()) {
      if (r instanceof TXTRecord txt) {
        out.add(String.join("", txt.getStrings()));
      }
    }
    return out;
  }

  /** A then AAAA of {@code host}; empty when it has none (or the lookups failed). */
  List<InetAddress> addresses(String host) {
    List<InetAddress> out = new ArrayList<>();
    for (int type : new int[] {Type.A, Type.AAAA}) {
      for (Record r : query(host, type).records()) {
        if (r instanceof ARecord a) {
          out.add(a.getAddress());
        } else if (r instanceof AAAARecord aaaa) {
          out.add(aaaa.getAddress());
        }
      }
    }
    return out;
  }

  /** The reverse name of an address (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa), with its dot. */
  static String reverseName(InetAddress address) {
    return ReverseMap.fromAddress(address).toString();
  }

  /** The PTR targets of {@code address}, without their final dot. */
  List<String> ptr(Answer answer) {
    List<String> out = new ArrayList<>();
    for (Record r : answer.records()) {
      if (r instanceof PTRRecord p) {
        out.add(p.getTarget().toString(true));
      }
    }
    return out;
  }

  org.xbill.DNS.Resolver resolver() {
    return resolver;
  }
}
