package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.DnssecResolver;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SigningKey;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * {@code signet dns --check}: every record a receiver consults about mail from this relay, checked
 * as the receiver will check it. DKIM per selector; SPF per From domain, envelope sender domain and
 * the hostname (the identity of bounces, which have an empty MAIL FROM: RFC 7208 §2.4); DMARC per
 * From domain; reverse DNS per source address; DNSSEC of those TXT records per domain.
 */
final class DnsDoctor {

  private final SignetConfig config;
  private final KeyRing keys;
  private final DnsLookups dns;
  private final DnssecResolver dnssec;

  DnsDoctor(SignetConfig config, KeyRing keys) {
    this.config = config;
    this.keys = keys;
    this.dns = new DnsLookups(config.delivery().dns());
    try {
      this.dnssec = new DnssecResolver(config.delivery().dns(), config.delivery().trustAnchor());
    } catch (IOException e) {
      throw new CommandFailure("delivery.dnssec.trust-anchor " + e.getMessage());
    }
  }

  /**
   * @param fromDomains From domains the applications use (empty = the domains with keys)
   * @param mailFromDomains envelope sender domains the applications use (empty = the From domain itself)
   */
  List<Diagnosis> run(List<String> fromDomains, List<String> mailFromDomains) {
    List<Diagnosis> out = new ArrayList<>();
    DnsCheck dkim = new DnsCheck(dns);
    keys.all().forEach(k -> out.add(dkim.checkKey(DnsRecord.of(k), "dkim")));
    keys.retired().forEach(k -> out.add(dkim.checkKey(DnsRecord.of(k), "dkim")));

    String hostname = lower(config.hostname());
    List<InetAddress> sources = config.delivery().sourceAddresses();
    if (sources.isEmpty()) {
      // Without source-addresses the relay leaves from whatever address the system picks; the best
      // guess a resolver-only tool has is the hostname's own addresses.
      sources = dns.addresses(hostname);
      if (sources.isEmpty()) {
        out.add(Diagnosis.fail("spf", hostname + ".", "no delivery.source-addresses configured and the hostname has "
            + "no A/AAAA record: cannot tell which addresses SPF and reverse DNS must cover; publish",
            hostname + ". IN A <the relay's public address>"));
      }
    }

    TreeSet<String> from = new TreeSet<>();
    if (fromDomains.isEmpty()) {
      keys.all().forEach(k -> from.add(lower(k.domain())));
    } else {
      fromDomains.forEach(d -> from.add(lower(d)));
    }
    TreeSet<String> spfDomains = new TreeSet<>(from);
    mailFromDomains.forEach(d -> spfDomains.add(lower(d)));
    spfDomains.add(hostname);

    if (!sources.isEmpty()) {
      SpfCheck spf = new SpfCheck(dns, hostname);
      for (String domain : spfDomains) {
        out.addAll(spf.check(domain, sources));
      }
    }
    DmarcCheck dmarc = new DmarcCheck(dns);
    List<String> envelopes = mailFromDomains.stream().map(DnsDoctor::lower).toList();
    for (String domain : from) {
      List<SigningKey> signing = keys.keysFor(domain, config.dkim().subdomains());
      Optional<String> keyDomain = signing.stream().map(k -> lower(k.domain())).findFirst();
      out.addAll(dmarc.check(domain, new DmarcCheck.Signing(keyDomain, config.dkim().subdomains()), envelopes));
    }
    ReverseDnsCheck ptr = new ReverseDnsCheck(dns, hostname);
    for (InetAddress source : sources) {
      out.add(ptr.check(source));
    }
    out.addAll(dnssec(from, spfDomains));
    return out;
  }

  /**
   * One DNSSEC line per domain: the key domains, the From and envelope sender domains and the
   * hostname, each with the TXT records receivers look up there (DKIM selectors, SPF, DMARC).
   */
  private List<Diagnosis> dnssec(TreeSet<String> from, TreeSet<String> spfDomains) {
    DnssecCheck check = new DnssecCheck(dnssec, dns, config.delivery().dns());
    Optional<Diagnosis> unavailable = check.unavailable();
    if (unavailable.isPresent()) {
      return List.of(unavailable.get());
    }
    Map<String, List<DnssecCheck.Txt>> lookups = new TreeMap<>();
    Stream.concat(keys.all().stream(), keys.retired().stream()).forEach(k -> lookups
        .computeIfAbsent(lower(k.domain()), d -> new ArrayList<>())
        .add(DnssecCheck.Txt.dkim(k.selector(), lower(DnsRecord.of(k).name()))));
    spfDomains.forEach(d -> lookups.computeIfAbsent(d, x -> new ArrayList<>()).add(DnssecCheck.Txt.spf(d)));
    from.forEach(d -> lookups.get(d).add(DnssecCheck.Txt.dmarc(d)));
    List<Diagnosis> out = new ArrayList<>();
    lookups.forEach((domain, txts) -> out.add(check.check(domain, txts)));
    return out;
  }

  private static String lower(String domain) {
    return domain.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
  }
}
