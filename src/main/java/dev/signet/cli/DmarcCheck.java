package dev.signet.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.xbill.DNS.Type;

/**
 * RFC 7489 as a receiver applies it to mail whose From domain is {@code domain}: a policy record (at
 * {@code _dmarc.<domain>}, else at the organizational domain's), valid tags, report addresses on other
 * domains authorized by them (§7.1), and alignment with how Signet signs and what envelope senders the
 * applications use.
 *
 * <p>The organizational domain is approximated without the Public Suffix List: the last two labels, or
 * three under a two-letter country code with a short second-level label (example.co.uk).
 */
final class DmarcCheck {

  /** How Signet will sign mail from a From domain: the key's domain, or empty when no key does. */
  record Signing(Optional<String> keyDomain, boolean subdomains) {}

  private static final Set<String> POLICIES = Set.of("none", "quarantine", "reject");

  private final DnsLookups dns;

  DmarcCheck(DnsLookups dns) {
    this.dns = dns;
  }

  /**
   * @param mailFrom the envelope sender domains the applications use with this From domain
   *     (empty = the From domain itself)
   */
  List<Diagnosis> check(String domain, Signing signing, List<String> mailFrom) {
    List<Diagnosis> out = new ArrayList<>();
    String suggested = "v=DMARC1; p=none; adkim=r; aspf=r; rua=mailto:dmarc-reports@" + domain;
    Found found = discover(domain, out);
    if (found == null) {
      return out;
    }
    if (found.records().isEmpty()) {
      out.add(Diagnosis.fail("dmarc", "_dmarc." + domain + ".", "no DMARC record (receivers apply their own "
          + "guesses; Gmail and Yahoo require one of bulk senders)", SpfCheck.zoneLine("_dmarc." + domain + ".",
          suggested)));
      return out;
    }
    String name = "_dmarc." + found.owner() + ".";
    if (found.records().size() > 1) {
      // RFC 7489 §6.6.3: more than one record = no policy at all.
      out.add(Diagnosis.fail("dmarc", name, found.records().size()
          + " DMARC records (receivers then ignore them all): keep one", SpfCheck.zoneLine(name, suggested)));
      return out;
    }
    String record = found.records().get(0);
    Map<String, String> tags = new LinkedHashMap<>();
    String error = parse(record, tags);
    if (error != null) {
      out.add(Diagnosis.fail("dmarc", name, error + " in \"" + record + "\"", SpfCheck.zoneLine(name, suggested)));
      return out;
    }
    String policy = found.owner().equals(domain) ? tags.get("p") : tags.getOrDefault("sp", tags.get("p"));
    out.add(Diagnosis.pass("dmarc", name, "valid record, policy p=" + policy
        + (policy.equals("none") ? " (monitoring only: receivers report but do not act on failures)" : "")));

    for (String key : List.of("rua", "ruf")) {
      if (tags.containsKey(key)) {
        for (String uri : tags.get(key).split(",")) {
          out.add(reportTarget(key, found.owner(), uri.strip()));
        }
      }
    }

    String adkim = tags.getOrDefault("adkim", "r");
    String aspf = tags.getOrDefault("aspf", "r");
    if (signing.keyDomain().isEmpty()) {
      out.add(Diagnosis.fail("dmarc", name, "no key signs mail from " + domain
          + ", so DKIM cannot align: create one with signet keygen --domain " + domain + " --selector <name>", null));
    } else {
      String d = signing.keyDomain().get();
      if (adkim.equals("s") && !d.equals(domain)) {
        out.add(Diagnosis.fail("dmarc", name, "adkim=s but mail from " + domain + " is signed d=" + d
            + " (dkim.subdomains): strict alignment fails; relax it", SpfCheck.zoneLine(name, withTag(record, "adkim", "r"))));
      } else if (!organizational(d).equals(organizational(domain))) {
        out.add(Diagnosis.fail("dmarc", name, "mail from " + domain + " is signed d=" + d
            + ", another organizational domain: DKIM cannot align", null));
      } else {
        out.add(Diagnosis.pass("dmarc", name, "DKIM d=" + d + " aligns with From " + domain + " (adkim=" + adkim + ")"));
      }
    }
    for (String envelope : mailFrom.isEmpty() ? List.of(domain) : mailFrom) {
      if (aspf.equals("s") && !envelope.equals(domain)) {
        out.add(Diagnosis.fail("dmarc", name, "aspf=s but the envelope sender domain " + envelope
            + " differs from From " + domain + ": SPF can never align; relax it",
            SpfCheck.zoneLine(name, withTag(record, "aspf", "r"))));
      } else if (organizational(envelope).equals(organizational(domain))) {
        out.add(Diagnosis.pass("dmarc", name, "SPF for envelope sender " + envelope + " aligns (aspf=" + aspf + ")"));
      } else {
        out.add(Diagnosis.pass("dmarc", name, "SPF for envelope sender " + envelope
            + " does not align with " + domain + "; DMARC relies on DKIM alone"));
      }
    }
    return out;
  }

  private record Found(String owner, List<String> records) {}

  /** RFC 7489 §6.6.3: the From domain's record, else the organizational domain's; null after a DNS failure. */
  private Found discover(String domain, List<Diagnosis> out) {
    List<String> candidates = new ArrayList<>(List.of(domain));
    String org = organizational(domain);
    if (!org.equals(domain)) {
      candidates.add(org);
    }
    for (String owner : candidates) {
      DnsLookups.Answer answer = dns.query("_dmarc." + owner, Type.TXT);
      if (!answer.found() && !answer.absent()) {
        out.add(Diagnosis.fail("dmarc", "_dmarc." + owner + ".", "TXT lookup failed: " + answer.error(), null));
        return null;
      }
      List<String> records = dns.txt(answer).stream()
          .filter(t -> t.strip().matches("(?i)v\\s*=\\s*DMARC1\\s*(;.*)?")).toList();
      if (!records.isEmpty()) {
        return new Found(owner, records);
      }
    }
    return new Found(domain, List.of());
  }

  /** Fills {@code tags}; returns what is wrong, or null. RFC 7489 §6.3 and §6.4. */
  static String parse(String record, Map<String, String> tags) {
    boolean first = true;
    for (String part : record.split(";")) {
      if (part.isBlank()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq <= 0) {
        return "'" + part.strip() + "' is not a tag=value pair";
      }
      String key = part.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      String value = part.substring(eq + 1).strip();
      if (first && !(key.equals("v") && value.equals("DMARC1"))) {
        return "the record must start with v=DMARC1";
      }
      first = false;
      tags.put(key, key.equals("rua") || key.equals("ruf") ? value : value.toLowerCase(Locale.ROOT));
    }
    if (!tags.containsKey("p")) {
      return "no policy (p=none, quarantine or reject is required)";
    }
    for (String key : List.of("p", "sp")) {
      if (tags.containsKey(key) && !POLICIES.contains(tags.get(key))) {
        return key + "=" + tags.get(key) + " is not none, quarantine or reject";
      }
    }
    for (String key : List.of("adkim", "aspf")) {
      if (tags.containsKey(key) && !tags.get(key).matches("[rs]")) {
        return key + "=" + tags.get(key) + " is not r or s";
      }
    }
    if (tags.containsKey("pct") && !tags.get("pct").matches("\\d{1,2}|100")) {
      return "pct=" + tags.get("pct") + " is not 0-100";
    }
    for (String key : List.of("rua", "ruf")) {
      if (tags.containsKey(key)) {
        for (String uri : tags.get(key).split(",")) {
          if (!uri.strip().toLowerCase(Locale.ROOT).matches("mailto:[^@\\s]+@[^@\\s!]+(![0-9]+[kmgt]?)?")) {
            return key + " URI '" + uri.strip() + "' is not a mailto: address";
          }
        }
      }
    }
    return null;
  }

  /** RFC 7489 §7.1: a report address on another domain needs that domain's consent record. */
  private Diagnosis reportTarget(String key, String owner, String uri) {
    String address = uri.substring("mailto:".length()).replaceFirst("!.*$", "");
    String target = address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
    String name = "_dmarc." + owner + ".";
    if (organizational(target).equals(organizational(owner))) {
      return Diagnosis.pass("dmarc", name, key + " " + address + " is on the domain's own organization");
    }
    String consent = owner + "._report._dmarc." + target;
    DnsLookups.Answer answer = dns.query(consent, Type.TXT);
    boolean authorized = dns.txt(answer).stream().anyMatch(t -> t.strip().matches("(?i)v\\s*=\\s*DMARC1\\s*(;.*)?"));
    if (authorized) {
      return Diagnosis.pass("dmarc", name, key + " " + address + " is authorized by " + consent + ".");
    }
    return Diagnosis.fail("dmarc", name, key + " " + address + " is on another domain that has not authorized "
        + "reports for " + owner + " (receivers drop them); the owner of " + target + " publishes",
        SpfCheck.zoneLine(consent + ".", "v=DMARC1"));
  }

  /** {@code record} with tag {@code key} set to {@code value} (replaced, or added after p=). */
  static String withTag(String record, String key, String value) {
    List<String> parts = new ArrayList<>();
    boolean replaced = false;
    for (String part : record.split(";")) {
      if (part.isBlank()) {
        continue;
      }
      String k = part.substring(0, Math.max(0, part.indexOf('='))).strip().toLowerCase(Locale.ROOT);
      if (k.equals(key)) {
        parts.add(key + "=" + value);
        replaced = true;
      } else {
        parts.add(part.strip());
      }
    }
    if (!replaced) {
      parts.add(key + "=" + value);
    }
    return String.join("; ", parts);
  }

  /** The organizational domain, approximated (see the class comment). */
  static String organizational(String domain) {
    String[] labels = domain.toLowerCase(Locale.ROOT).replaceAll("\\.$", "").split("\\.");
    int n = labels.length;
    if (n <= 2) {
      return String.join(".", labels);
    }
    boolean ccSecondLevel = labels[n - 1].length() == 2 && labels[n - 2].length() <= 3;
    int keep = ccSecondLevel ? 3 : 2;
    return String.join(".", java.util.Arrays.copyOfRange(labels, n - keep, n));
  }
}
