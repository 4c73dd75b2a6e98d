package dev.signet.delivery;

import dev.signet.config.HostPort;
import java.net.IDN;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Cache;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Finds where mail for a domain goes (RFC 5321 §5.1): MX records by preference, equal preferences
 * shuffled, each host's A then AAAA addresses; no MX means the domain itself is the MX ("implicit MX");
 * a null MX (RFC 7505) means the domain takes no mail.
 *
 * <p>Each resolver has its own TTL-respecting cache (never dnsjava's static default cache: several
 * relays may share one JVM) and asks only the configured servers ({@code delivery.dns}; empty = the
 * system's resolvers). /etc/hosts is not consulted: mail routing follows DNS only, like Postfix's
 * default {@code smtp_host_lookup = dns}. Thread-safe.
 */
public final class MxResolver {

  /** How long one server gets to answer one query, and how many tries it gets. */
  record Settings(Duration timeout, int retries) {
    static final Settings DEFAULT = new Settings(Duration.ofSeconds(5), 2);
  }

  /** RFC 7505 §4.1: a client reports a null MX with 556 and X.1.10 ("Recipient address has null MX"). */
  static final String NULL_MX = "5.1.10";
  /** RFC 3463 X.1.2: bad destination system address. */
  static final String BAD_DOMAIN = "5.1.2";

  private final Resolver resolver;
  private final Cache cache = new Cache(DClass.IN);
  private final RandomGenerator random;

  /** @param servers resolvers to ask ({@code delivery.dns}); empty = the system's resolvers */
  public MxResolver(List<HostPort> servers) {
    this(servers, Settings.DEFAULT, RandomGenerator.getDefault());
  }

  MxResolver(List<HostPort> servers, Settings settings, RandomGenerator random) {
    this.resolver = resolver(servers, settings);
    this.random = random;
  }

  /**
   * The MX hosts of {@code domain} with their addresses, most preferred first. Never throws for DNS
   * trouble: the failure kind says whether to retry.
   */
  public MxResult lookup(String domain) {
    String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
    if (d.startsWith("[") && d.endsWith("]")) {
      return addressLiteral(d);
    }
    Name name;
    try {
      // DNS holds internationalized names as A-labels (RFC 5890 §2.3.2.1): look up the ASCII form.
      name = Name.fromString(IDN.toASCII(d, IDN.ALLOW_UNASSIGNED), Name.root);
    } catch (TextParseException | IllegalArgumentException e) {
      return new MxResult.PermanentFailure(BAD_DOMAIN, "invalid domain name '" + domain + "': " + e.getMessage());
    }

    Lookup mx = lookup(name, Type.MX);
    Record[] answers = mx.run();
    switch (mx.getResult()) {
      case Lookup.SUCCESSFUL -> {
        return hosts(domain, answers);
      }
      case Lookup.TYPE_NOT_FOUND -> {
        // RFC 5321 §5.1: no MX records -> the domain itself, as if it had an MX of preference 0.
        return implicitMx(domain, name);
      }
      case Lookup.HOST_NOT_FOUND -> {
        return new MxResult.PermanentFailure(BAD_DOMAIN, "domain " + domain + " does not exist (NXDOMAIN)");
      }
      default -> {
        // TRY_AGAIN (SERVFAIL, timeout, network error) and UNRECOVERABLE (referral, CNAME loop):
        // both may be a broken server of the moment, so retry rather than bounce.
        return new MxResult.TemporaryFailure("MX lookup for " + domain + " failed: " + mx.getErrorString());
      }
    }
  }

  private MxResult hosts(String domain, Record[] answers) {
    List<MXRecord> records = new ArrayList<>();
    boolean nullMx = false;
    for (Record r : answers) {
      if (r instanceof MXRecord m) {
        if (m.getTarget().equals(Name.root)) {
          nullMx = true;
        } else {
          records.add(m);
        }
      }
    }
    if (records.isEmpty()) {
      if (nullMx) {
        // RFC 7505 §3: "MX 0 ." says the domain accepts no mail; §4.1: fail at once, never retry.
        return new MxResult.PermanentFailure(NULL_MX, "domain " + domain + " does not accept mail (null MX, RFC 7505)");
      }
      return new MxResult.TemporaryFailure("MX lookup for " + domain + " returned no MX records");
    }
    // RFC 7505 §3 forbids a null MX beside other MX records; if a domain has both, the real ones win.

    // RFC 5321 §5.1: lowest preference first; equal preferences in random order to spread load.
    Map<Integer, List<MXRecord>> byPreference = new TreeMap<>();
    for (MXRecord r : records) {
      byPreference.computeIfAbsent(r.getPriority(), k -> new ArrayList<>()).add(r);
    }
    List<MxHost> hosts = new ArrayList<>();
    List<String> trouble = new ArrayList<>();
    for (List<MXRecord> group : byPreference.values()) {
      group.sort(Comparator.comparing(r -> r.getTarget().toString()));
      Collections.shuffle(group, random);
      for (MXRecord r : group) {
        Addresses found = addresses(r.getTarget());
        if (found.addresses().isEmpty()) {
          trouble.add(found.trouble());
        } else {
          hosts.add(new MxHost(hostName(r.getTarget()), r.getPriority(), found.addresses()));
        }
      }
    }
    if (!hosts.isEmpty()) {
      return new MxResult.Found(hosts);
    }
    return noAddresses(domain, trouble);
  }

  private MxResult implicitMx(String domain, Name name) {
    Addresses found = addresses(name);
    if (found.addresses().isEmpty()) {
      return noAddresses(domain, List.of(found.trouble()));
    }
    return new MxResult.Found(List.of(new MxHost(hostName(name), 0, found.addresses())));
  }

  /** No usable host: temporary if any lookup failed temporarily, else permanent (RFC 5321 §5.1). */
  private static MxResult noAddresses(String domain, List<String> trouble) {
    String reasons = String.join("; ", trouble);
    if (trouble.stream().anyMatch(t -> t.startsWith(TEMPORARY))) {
      return new MxResult.TemporaryFailure("no usable mail host for " + domain + ": " + reasons);
    }
    return new MxResult.PermanentFailure(BAD_DOMAIN, "no usable mail host for " + domain + ": " + reasons);
  }

  private static final String TEMPORARY = "temporary: ";

  private record Addresses(List<InetAddress> addresses, String trouble) {}

  /**
   * A then AAAA of one host (CNAMEs followed by Lookup). IPv4 first: many receivers treat IPv6
   * senders more strictly (reverse DNS), and every address is tried in turn anyway.
   */
  private Addresses addresses(Name host) {
    List<InetAddress> found = new ArrayList<>();
    List<String> trouble = new ArrayList<>();
    for (int type : new int[] {Type.A, Type.AAAA}) {
      Lookup lookup = lookup(host, type);
      Record[] answers = lookup.run();
      switch (lookup.getResult()) {
        case Lookup.SUCCESSFUL -> {
          for (Record r : answers) {
            if (r instanceof ARecord a) {
              found.add(a.getAddress());
            } else if (r instanceof AAAARecord aaaa) {
              found.add(aaaa.getAddress());
            }
          }
        }
        case Lookup.TYPE_NOT_FOUND -> trouble.add(hostName(host) + " has no " + Type.string(type) + " record");
        case Lookup.HOST_NOT_FOUND -> trouble.add(hostName(host) + " does not exist (NXDOMAIN)");
        default -> trouble.add(TEMPORARY + Type.string(type) + " lookup for " + hostName(host)
            + " failed: " + lookup.getErrorString());
      }
    }
    // A temporary failure of one type matters only if the other found nothing.
    String reason = trouble.stream().filter(t -> t.startsWith(TEMPORARY)).findFirst()
        .orElse(String.join(", ", trouble));
    return new Addresses(found, reason);
  }

  private Lookup lookup(Name name, int type) {
    Lookup lookup = new Lookup(name, type, DClass.IN);
    lookup.setResolver(resolver);
    lookup.setCache(cache);
    lookup.setSearchPath((List<Name>) null);
    lookup.setHostsFileParser(null);
    return lookup;
  }

  private static MxResult addressLiteral(String literal) {
    // RFC 5321 §4.1.3: user@[192.0.2.1] or user@[IPv6:2001:db8::1] names the host directly; parsed
    // strictly, never looked up (InetAddress.getByName would ask DNS and the hosts file for "dead.beef").
    return AddressLiteral.parse(literal)
        .<MxResult>map(a -> new MxResult.Found(List.of(new MxHost(literal, 0, List.of(a)))))
        .orElseGet(() -> new MxResult.PermanentFailure(BAD_DOMAIN, "invalid address literal " + literal));
  }

  private static String hostName(Name name) {
    String s = name.toString(true);
    return s.isEmpty() ? "." : s;
  }

  static Resolver resolver(List<HostPort> servers, Settings settings) {
    List<Resolver> resolvers = new ArrayList<>();
    for (HostPort server : servers) {
      SimpleResolver simple = new SimpleResolver(new InetSocketAddress(server.host(), server.port()));
      simple.setTimeout(settings.timeout());
      resolvers.add(simple);
    }
    ExtendedResolver extended = servers.isEmpty() ? new ExtendedResolver() : new ExtendedResolver(resolvers);
    extended.setRetries(settings.retries());
    int count = Math.max(1, extended.getResolvers().length);
    if (servers.isEmpty()) {
      for (Resolver r : extended.getResolvers()) {
        r.setTimeout(settings.timeout());
      }
    }
    // ExtendedResolver's own timeout bounds the whole query across servers and retries.
    extended.setTimeout(settings.timeout().multipliedBy((long) count * settings.retries()));
    return extended;
  }
}
