package dev.signet.cli;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.james.jspf.core.exceptions.PermErrorException;
import org.apache.james.jspf.impl.DefaultTermsFactory;
import org.apache.james.jspf.impl.SPF;
import org.apache.james.jspf.parser.RFC4408SPF1Parser;
import org.xbill.DNS.Type;

/**
 * RFC 7208 as a receiver applies it to mail from this relay: one {@code v=spf1} record, valid syntax,
 * at most 10 DNS-querying terms and 2 void lookups (§4.6.4), a {@code pass} for every address the
 * relay sends from (evaluated by Apache jSPF through our DNS servers), and a closing {@code -all} or
 * {@code ~all} so that nobody else passes.
 */
final class SpfCheck {

  /** RFC 7208 §4.6.4. */
  static final int MAX_LOOKUP_TERMS = 10;
  static final int MAX_VOID_LOOKUPS = 2;

  private final DnsLookups dns;
  private final JspfDns jspfDns;
  private final SPF spf;
  private final String hostname;

  SpfCheck(DnsLookups dns, String hostname) {
    this.dns = dns;
    this.hostname = hostname;
    this.jspfDns = new JspfDns(dns, hostname);
    this.spf = new SPF(jspfDns);
  }

  /** The checks for {@code domain}, whose mail leaves from {@code sources}. */
  List<Diagnosis> check(String domain, List<InetAddress> sources) {
    String name = domain + ".";
    List<Diagnosis> out = new ArrayList<>();
    DnsLookups.Answer answer = dns.query(domain, Type.TXT);
    if (!answer.found() && !answer.absent()) {
      out.add(Diagnosis.fail("spf", name, "TXT lookup failed: " + answer.error(), null));
      return out;
    }
    List<String> records = dns.txt(answer).stream().filter(SpfCheck::isSpf).toList();
    String suggested = suggest(sources);
    if (records.isEmpty()) {
      out.add(Diagnosis.fail("spf", name, "no SPF record (receivers treat the mail as unauthorized)",
          zoneLine(name, suggested)));
      return out;
    }
    if (records.size() > 1) {
      // RFC 7208 §4.5: more than one v=spf1 record is a permerror: every receiver fails the check.
      out.add(Diagnosis.fail("spf", name, records.size() + " SPF records (RFC 7208 §3.2 allows one; "
          + "receivers return permerror): merge them into one", zoneLine(name, suggested)));
      return out;
    }
    String record = records.get(0);
    try {
      new RFC4408SPF1Parser(new DefaultTermsFactory()).parse(record);
      out.add(Diagnosis.pass("spf", name, "one record, valid syntax: " + record));
    } catch (PermErrorException | RuntimeException e) {
      out.add(Diagnosis.fail("spf", name, "syntax error: " + shortMessage(e) + " in \"" + record + "\"",
          zoneLine(name, suggested)));
      return out;
    } catch (Exception e) {
      out.add(Diagnosis.fail("spf", name, "not an SPF record: " + shortMessage(e), zoneLine(name, suggested)));
      return out;
    }

    int terms = lookupTerms(record, new HashSet<>(Set.of(domain.toLowerCase(Locale.ROOT))), 0);
    if (terms > MAX_LOOKUP_TERMS) {
      out.add(Diagnosis.fail("spf", name, terms + " DNS-querying terms with includes (RFC 7208 §4.6.4 allows "
          + MAX_LOOKUP_TERMS + "; receivers return permerror): replace includes by ip4:/ip6: terms",
          zoneLine(name, suggested)));
    } else {
      out.add(Diagnosis.pass("spf", name, terms + " of " + MAX_LOOKUP_TERMS + " DNS-querying terms"));
    }

    List<InetAddress> failing = new ArrayList<>();
    for (InetAddress source : sources) {
      jspfDns.resetVoidLookups();
      String result = spf.checkSPF(DnsCommand.text(source), "postmaster@" + domain, hostname).getResult();
      int voids = jspfDns.voidLookups();
      if (voids > MAX_VOID_LOOKUPS) {
        out.add(Diagnosis.fail("spf", name, voids + " void lookups evaluating " + DnsCommand.text(source)
            + " (RFC 7208 §4.6.4 allows " + MAX_VOID_LOOKUPS + "): remove terms naming domains that do not exist",
            null));
      }
      if (result.equals("pass")) {
        out.add(Diagnosis.pass("spf", name, DnsCommand.text(source) + " passes"));
      } else {
        failing.add(source);
        out.add(Diagnosis.fail("spf", name, DnsCommand.text(source) + " gets " + result
            + ", not pass: the record does not authorize this source address", null));
      }
    }
    if (!failing.isEmpty()) {
      // Over the lookup limit every receiver gets permerror whatever terms are added: publish the
      // plain record (the same fix as the lookup count's line).
      String fixed = terms > MAX_LOOKUP_TERMS ? suggested : withAddresses(record, failing);
      // one fix for all the addresses, on the last of their lines
      Diagnosis last = out.remove(out.size() - 1);
      out.add(new Diagnosis(last.check(), last.name(), Diagnosis.Level.FAIL, last.detail(),
          java.util.Optional.of(zoneLine(name, fixed))));
    }

    String all = allTerm(record);
    if (all.equals("-all") || all.equals("~all")) {
      out.add(Diagnosis.pass("spf", name, "ends in " + all));
    } else if (record.toLowerCase(Locale.ROOT).contains("redirect=")) {
      out.add(Diagnosis.pass("spf", name, "ends in a redirect= (the target's all applies)"));
    } else {
      out.add(Diagnosis.fail("spf", name, (all.isEmpty() ? "no all term" : "ends in " + all)
          + ": anyone may pass as this domain; end with -all or ~all", zoneLine(name, withAll(record))));
    }
    return out;
  }

  /** The record to suggest: the source addresses as ip4:/ip6:, then ~all (as `signet dns` prints). */
  static String suggest(List<InetAddress> sources) {
    StringBuilder s = new StringBuilder("v=spf1");
    for (InetAddress a : sources) {
      s.append(a instanceof Inet4Address ? " ip4:" : " ip6:").append(DnsCommand.text(a));
    }
    return s.append(" ~all").toString();
  }

  static boolean isSpf(String txt) {
    // RFC 7208 §4.5: exactly "v=spf1", then a space or the end.
    return txt.regionMatches(true, 0, "v=spf1", 0, 6) && (txt.length() == 6 || txt.charAt(6) == ' ');
  }

  /**
   * RFC 7208 §4.6.4: include, a, mx, ptr, exists and redirect each cost a DNS query; counted through
   * included and redirected records (terms with macros are counted but not followed).
   */
  private int lookupTerms(String record, Set<String> seen, int depth) {
    int count = 0;
    for (String term : record.trim().split("\\s+")) {
      String t = term.toLowerCase(Locale.ROOT).replaceFirst("^[-+~?]", "");
      String target = null;
      if (t.startsWith("include:")) {
        count++;
        target = t.substring(8);
      } else if (t.startsWith("redirect=")) {
        count++;
        target = t.substring(9);
      } else if (t.equals("a") || t.startsWith("a:") || t.startsWith("a/") || t.equals("mx") || t.startsWith("mx:")
          || t.startsWith("mx/") || t.equals("ptr") || t.startsWith("ptr:") || t.startsWith("exists:")) {
        count++;
      }
      if (target != null && !target.contains("%") && depth < 10 && seen.add(target)) {
        for (String r : dns.txt(dns.query(target, Type.TXT))) {
          if (isSpf(r)) {
            count += lookupTerms(r, seen, depth + 1);
            break;
          }
        }
      }
    }
    return count;
  }

  private static String allTerm(String record) {
    String[] terms = record.trim().split("\\s+");
    String last = terms[terms.length - 1].toLowerCase(Locale.ROOT);
    if (last.matches("[-+~?]?all")) {
      return last.startsWith("+") || last.equals("all") ? "+all" : last;
    }
    for (String t : terms) {
      if (t.toLowerCase(Locale.ROOT).matches("[-+~?]?all")) {
        return t.toLowerCase(Locale.ROOT); // all before other terms: those after it are never reached
      }
    }
    return "";
  }

  /** {@code record} with {@code addresses} added in front of its all term. */
  static String withAddresses(String record, List<InetAddress> addresses) {
    List<String> terms = new ArrayList<>(List.of(record.trim().split("\\s+")));
    int at = terms.size();
    for (int i = 1; i < terms.size(); i++) {
      if (terms.get(i).toLowerCase(Locale.ROOT).matches("[-+~?]?all|redirect=.*")) {
        at = i;
        break;
      }
    }
    List<String> added = new ArrayList<>();
    for (InetAddress a : addresses) {
      added.add((a instanceof Inet4Address ? "ip4:" : "ip6:") + DnsCommand.text(a));
    }
    terms.addAll(at, added);
    return withAll(String.join(" ", terms));
  }

  /** {@code record} ending in ~all (an -all stays): its all term replaced or added. */
  static String withAll(String record) {
    List<String> terms = new ArrayList<>();
    boolean hasAll = false;
    for (String t : record.trim().split("\\s+")) {
      if (t.toLowerCase(Locale.ROOT).matches("[-+~?]?all")) {
        hasAll = true;
        terms.add(t.equalsIgnoreCase("-all") ? "-all" : "~all");
      } else {
        terms.add(t);
      }
    }
    if (!hasAll && !record.toLowerCase(Locale.ROOT).contains("redirect=")) {
      terms.add("~all");
    }
    return String.join(" ", terms);
  }

  static String zoneLine(String name, String value) {
    return name + " IN TXT \"" + value + "\"";
  }

  private static String shortMessage(Exception e) {
    String m = String.valueOf(e.getMessage());
    int cut = m.indexOf(" is not syntactically valid");
    return cut > 0 ? m.substring(0, cut + " is not syntactically valid".length()) : m;
  }
}
