package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.DkimException;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SigningKey;
import java.io.PrintWriter;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "dns", mixinStandardHelpOptions = true,
    description = {
      "Print the DNS records to publish: each DKIM selector's TXT record (active and retired keys),",
      "and a suggested SPF and DMARC record per signing domain.",
      "With --check, look everything up as a receiver will (resolvers from delivery.dns, else the",
      "system's): DKIM keys against the keys on disk; SPF (one valid record, at most 10 lookups, a pass",
      "for every source address, -all or ~all) for each From, envelope sender and the hostname; DMARC",
      "(policy, report authorization, alignment with how Signet signs); reverse DNS of each source",
      "address; DNSSEC of those records per domain (unsigned is a note, bogus a failure). One line per",
      "check with the record to publish; exit 1 on any failure (notes do not count)."})
final class DnsCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(names = "--check", description = "Look every record up and check it as a receiver will.")
  boolean check;

  @Option(names = "--json", description = "With --check: the findings as a JSON array, for scripts.")
  boolean json;

  @Option(names = "--from", split = ",", paramLabel = "DOMAIN",
      description = "With --check: From domains the applications use (default: the domains with keys).")
  List<String> from = new java.util.ArrayList<>();

  @Option(names = "--mail-from", split = ",", paramLabel = "DOMAIN",
      description = "With --check: envelope sender (MAIL FROM) domains the applications use (default: the From domain).")
  List<String> mailFrom = new java.util.ArrayList<>();

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    SignetConfig cfg = config.load();
    KeyRing keys;
    try {
      keys = KeyRing.load(cfg.dkim().keys());
    } catch (DkimException e) {
      throw new CommandFailure(e.getMessage());
    }
    List<SigningKey> active = keys.all();
    List<SigningKey> retired = keys.retired();
    if (active.isEmpty() && retired.isEmpty()) {
      throw new CommandFailure("no keys in " + cfg.dkim().keys()
          + "; create one with: signet keygen --domain example.com --selector rsa2026");
    }
    TreeSet<String> domains = new TreeSet<>();
    active.forEach(k -> domains.add(k.domain()));
    retired.forEach(k -> domains.add(k.domain()));

    PrintWriter out = spec.commandLine().getOut();
    if (!check) {
      print(out, spfRecord(cfg), active, retired, domains);
      printBounce(out, cfg, keys);
      out.flush();
      return 0;
    }
    List<Diagnosis> findings = new DnsDoctor(cfg, keys).run(from, mailFrom);
    long failed = findings.stream().filter(d -> !d.ok()).count();
    long notes = findings.stream().filter(d -> d.level() == Diagnosis.Level.NOTE).count();
    if (json) {
      out.println(DoctorReport.json(findings));
    } else {
      DoctorReport.table(out, findings);
      out.println(failed == 0 ? "all " + findings.size() + " checks passed"
          + (notes == 0 ? "" : " (" + notes + (notes == 1 ? " note" : " notes") + ")")
          : failed + " of " + findings.size() + " checks failed: publish or change the records shown");
    }
    out.flush();
    return failed == 0 ? 0 : 1;
  }

  /**
   * The SPF record to suggest: the relay's own source addresses (RFC 7208 §5.6 ip4/ip6, no DNS lookup
   * at the receiver) when configured, else the addresses of {@code hostname} (§5.3 a:).
   */
  static String spfRecord(SignetConfig cfg) {
    StringBuilder spf = new StringBuilder("v=spf1");
    if (cfg.delivery().sourceAddresses().isEmpty()) {
      spf.append(" a:").append(cfg.hostname());
    }
    for (java.net.InetAddress a : cfg.delivery().sourceAddresses()) {
      spf.append(a instanceof java.net.Inet4Address ? " ip4:" : " ip6:").append(text(a));
    }
    return spf.append(" ~all").toString();
  }

  /** An address as people write it: IPv6 with its longest run of zero groups as "::" (RFC 5952 §4.2). */
  static String text(java.net.InetAddress address) {
    String full = address.getHostAddress();
    int percent = full.indexOf('%');
    if (percent >= 0) {
      full = full.substring(0, percent);
    }
    if (!(address instanceof java.net.Inet6Address)) {
      return full;
    }
    String[] groups = full.split(":");
    int bestStart = -1;
    int bestLength = 1; // RFC 5952 §4.2.2: never "::" for a single zero group
    for (int i = 0; i < groups.length; i++) {
      int j = i;
      while (j < groups.length && groups[j].equals("0")) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = Math.max(i, j);
    }
    if (bestStart < 0) {
      return full;
    }
    String head = String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart));
    String tail = String.join(":", java.util.Arrays.copyOfRange(groups, bestStart + bestLength, groups.length));
    return head + "::" + tail;
  }

  private static void print(PrintWriter out, String spf, List<SigningKey> active, List<SigningKey> retired,
      TreeSet<String> domains) {
    out.println("; DKIM: publish one TXT record per selector (the quoted strings are parts of ONE record)");
    active.forEach(k -> out.println(DnsRecord.of(k).zoneLine()));
    if (!retired.isEmpty()) {
      out.println("; DKIM, retired keys: keep published until mail signed with them is no longer verified (a few weeks)");
      retired.forEach(k -> out.println(DnsRecord.of(k).zoneLine()));
    }
    for (String domain : domains) {
      out.println("; SPF for " + domain + " (suggested: list every host that sends mail for the domain)");
      out.println(domain + ". IN TXT \"" + spf + "\"");
      out.println("; DMARC for " + domain + " (suggested: start with p=none, then quarantine/reject once reports are clean)");
      out.println("_dmarc." + domain + ". IN TXT \"v=DMARC1; p=none; adkim=r; aspf=r; rua=mailto:dmarc-reports@"
          + domain + "\"");
    }
  }

  /**
   * What the relay's own mail, its bounces, needs: they go out with an empty MAIL FROM, so SPF is
   * checked on the HELO name (RFC 7208 §2.3), and From: MAILER-DAEMON@{bounce domain}, signed with
   * that domain's keys or a parent's (see Relay) for DKIM and DMARC.
   */
  private static void printBounce(PrintWriter out, SignetConfig cfg, KeyRing keys) {
    String from = cfg.bounceDomain();
    String hostname = cfg.hostname();
    out.println("; Bounces (DSNs): MAIL FROM:<>, From: MAILER-DAEMON@" + from + ", EHLO " + hostname);
    out.println("; SPF for the HELO name (checked for bounces, RFC 7208 section 2.3); also an A/AAAA record for "
        + hostname + " and a PTR record back to it");
    out.println(hostname + ". IN TXT \"v=spf1 a -all\"");
    List<SigningKey> signing = keys.keysFor(from, true);
    if (signing.isEmpty()) {
      out.println("; DKIM for bounces: no key for " + from + " or a parent domain, so bounces go out unsigned;"
          + " create one with: signet keygen --domain " + from + " --selector s1 (or set bounce.from to a"
          + " domain with keys)");
    } else {
      out.println("; DKIM for bounces: signed with " + signing.stream()
          .map(k -> "d=" + k.domain() + " s=" + k.selector()).collect(java.util.stream.Collectors.joining(", "))
          + " (records above)");
    }
  }
}
