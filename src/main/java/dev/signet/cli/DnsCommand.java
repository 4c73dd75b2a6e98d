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
      "With --check, look them up (resolvers from delivery.dns, else the system's) and report keys",
      "missing from DNS, published keys that differ from the key on disk, and records split into",
      "several TXT records. Exit 1 when a DKIM record is missing or wrong."})
final class DnsCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(names = "--check", description = "Look the records up and report mismatches.")
  boolean check;

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
      print(out, cfg.hostname(), active, retired, domains);
      printBounce(out, cfg, keys);
      out.flush();
      return 0;
    }
    DnsCheck dns = new DnsCheck(cfg.delivery().dns());
    int problems = 0;
    for (SigningKey key : active) {
      problems += report(out, "dkim", dns.checkKey(DnsRecord.of(key)));
    }
    for (SigningKey key : retired) {
      problems += report(out, "dkim (retired)", dns.checkKey(DnsRecord.of(key)));
    }
    for (String domain : domains) {
      report(out, "spf", dns.checkPolicy(domain, "v=spf1"));
      report(out, "dmarc", dns.checkPolicy("_dmarc." + domain, "v=DMARC1"));
    }
    out.println(problems == 0 ? "all DKIM records match the keys on disk"
        : problems + " DKIM record(s) missing or wrong");
    out.flush();
    return problems == 0 ? 0 : 1;
  }

  private static void print(PrintWriter out, String hostname, List<SigningKey> active, List<SigningKey> retired,
      TreeSet<String> domains) {
    out.println("; DKIM: publish one TXT record per selector (the quoted strings are parts of ONE record)");
    active.forEach(k -> out.println(DnsRecord.of(k).zoneLine()));
    if (!retired.isEmpty()) {
      out.println("; DKIM, retired keys: keep published until mail signed with them is no longer verified (a few weeks)");
      retired.forEach(k -> out.println(DnsRecord.of(k).zoneLine()));
    }
    for (String domain : domains) {
      out.println("; SPF for " + domain + " (suggested: list every host that sends mail for the domain)");
      out.println(domain + ". IN TXT \"v=spf1 a:" + hostname + " ~all\"");
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

  /** Prints one finding; returns 1 when it is a problem. */
  private static int report(PrintWriter out, String kind, DnsCheck.Finding finding) {
    out.printf("%-7s %-15s %s: %s%n", finding.ok() ? "ok" : finding.status(), kind, finding.name(), finding.detail());
    return finding.ok() ? 0 : 1;
  }
}
