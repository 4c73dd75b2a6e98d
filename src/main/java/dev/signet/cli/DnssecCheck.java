package dev.signet.cli;

import dev.signet.config.HostPort;
import dev.signet.delivery.DnssecResolver;
import dev.signet.delivery.DnssecResolver.Security;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.xbill.DNS.Type;

/**
 * DNSSEC (RFC 4033-4035) of the TXT records receivers look up about mail from a domain: its DKIM
 * selectors, its SPF record and its DMARC record (at {@code _dmarc.<domain>}, and at the
 * organizational domain's when that one is absent, as receivers look). Validated by Signet itself
 * ({@link DnssecResolver}, from the trust anchors through the {@code delivery.dns} servers), as a
 * validating receiver would. The hostname's A/AAAA and the PTR records are left out: receivers' reverse
 * DNS checks do not ask for DNSSEC, and reverse zones belong to the address's provider.
 *
 * <p>Secure: every answer validates. Insecure (provably unsigned, or outside every trust anchor): a
 * note, not a failure, since most domains are unsigned and receivers take such answers as they are.
 * Bogus (signed, but the signatures do not hold): a failure, since a validating receiver then gets a
 * DNS error instead of the record, and DKIM, SPF and DMARC all fail or stay temporary errors.
 *
 * <p>Behind a resolver that strips DNSSEC records, every signed domain would look bogus; so the trust
 * anchors' DNSKEY sets are validated first (as DANE does), and when they do not validate the domains
 * are not checked and one note says why.
 */
final class DnssecCheck {

  /** One TXT lookup a receiver makes: what for (DKIM selector, SPF, DMARC) and at which name. */
  record Txt(String role, String name) {
    static Txt dkim(String selector, String name) {
      return new Txt("DKIM " + selector, name);
    }

    static Txt spf(String domain) {
      return new Txt("SPF", domain);
    }

    static Txt dmarc(String domain) {
      return new Txt("DMARC", "_dmarc." + domain);
    }
  }

  private final DnssecResolver resolver;
  private final DnsLookups dns;
  private final List<HostPort> servers;

  /** @param dns unvalidated lookups through the same servers (to find the zone of a bogus answer) */
  DnssecCheck(DnssecResolver resolver, DnsLookups dns, List<HostPort> servers) {
    this.resolver = resolver;
    this.dns = dns;
    this.servers = servers;
  }

  /** A note when DNSSEC does not get through the resolvers (nothing else can be checked); else empty. */
  Optional<Diagnosis> unavailable() {
    if (resolver.validatesTrustAnchors()) {
      return Optional.empty();
    }
    String anchors = String.join(" ", resolver.trustAnchorNames());
    String through = servers.isEmpty() ? "the system's resolvers" : "the delivery.dns resolvers";
    return Optional.of(Diagnosis.note("dnssec", anchors, "not checked: the DNSKEY set of trust anchor " + anchors
        + " does not validate through " + through + ", which strip DNSSEC records or do not answer for it;"
        + " point delivery.dns at a resolver that passes DNSSEC through (DANE needs one too)"));
  }

  /** The DNSSEC status of {@code domain}'s records, one line. */
  Diagnosis check(String domain, List<Txt> lookups) {
    String name = domain + ".";
    List<String> secure = new ArrayList<>();
    List<String> insecure = new ArrayList<>();
    for (Txt txt : lookups) {
      DnssecResolver.Answer answer = resolver.query(txt.name(), Type.TXT);
      if (answer.security() == Security.BOGUS) {
        return Diagnosis.fail("dnssec", name, "BOGUS: the " + txt.role() + " record at " + txt.name()
            + ". fails validation (" + brief(answer.reason()) + "): validating receivers get a DNS error instead of it",
            repair(txt.name()));
      }
      if (answer.security() == Security.FAILED) {
        return Diagnosis.fail("dnssec", name, "DNSFAIL: lookup of " + txt.name() + ". failed: " + answer.reason(),
            null);
      }
      (answer.security() == Security.SECURE ? secure : insecure).add(txt.role());
      if (txt.role().equals("DMARC") && answer.records().isEmpty()) {
        // RFC 7489 §6.6.3: without a record at the From domain, receivers ask the organizational domain.
        String org = DmarcCheck.organizational(domain);
        if (!org.equals(domain)) {
          Txt orgDmarc = new Txt("DMARC (" + org + ")", "_dmarc." + org);
          Diagnosis fallback = check(domain, List.of(orgDmarc));
          if (!fallback.ok()) {
            return fallback;
          }
          (fallback.level() == Diagnosis.Level.PASS ? secure : insecure).add(orgDmarc.role());
        }
      }
    }
    if (insecure.isEmpty()) {
      return Diagnosis.pass("dnssec", name, "secure: " + join(secure) + verb(secure, " validates", " validate"));
    }
    if (secure.isEmpty()) {
      return Diagnosis.note("dnssec", name, "insecure: " + join(insecure) + verb(insecure, " is", " are")
          + " not DNSSEC-signed (receivers take the answers unverified; signing the zone protects them from"
          + " forgery)");
    }
    return Diagnosis.note("dnssec", name, "partly insecure: " + join(secure)
        + verb(secure, " validates", " validate") + "; " + join(insecure) + verb(insecure, " is", " are")
        + " not DNSSEC-signed");
  }

  /**
   * What to do about a bogus answer at {@code name}: either the zone's keys do not validate from the
   * parent's DS record (RFC 4035 §5.2; a key rolled without the DS), or they do and the signature over
   * the record is wrong (§5.3; expired, or the zone edited without re-signing).
   */
  private String repair(String name) {
    Optional<String> apex = apex(name);
    if (apex.isEmpty()) {
      return "re-sign the zone of " + name + ". (a signature is missing, expired or does not match the"
          + " record), and check that the DS record at its parent matches the zone's current key-signing key";
    }
    String zone = apex.get() + ".";
    DnssecResolver.Answer keys = resolver.query(apex.get(), Type.DNSKEY);
    if (keys.security() == Security.SECURE) {
      return "re-sign the zone " + zone + " (its keys validate, but the signature over " + name
          + ". TXT is missing, expired or does not match the record)";
    }
    return "the DNSKEY set of " + zone + " does not validate from the DS record at its parent: publish there the DS"
        + " of the zone's current key-signing key (dnssec-dsfromkey), or sign with the key the DS names";
  }

  /** The zone {@code name} lies in: the nearest name at or above it with DNSKEY records (looked up unvalidated). */
  private Optional<String> apex(String name) {
    String n = name;
    while (n.contains(".")) {
      if (!dns.query(n, Type.DNSKEY).records().isEmpty()) {
        return Optional.of(n);
      }
      n = n.substring(n.indexOf('.') + 1);
    }
    return Optional.empty();
  }

  /** The validator's reason without the records and signatures it appends ("...: { name TTL IN TXT ... }"). */
  private static String brief(String reason) {
    int records = reason.indexOf(": {");
    return records < 0 ? reason : reason.substring(0, records);
  }

  private static String verb(List<String> subjects, String one, String several) {
    return subjects.size() == 1 ? one : several;
  }

  private static String join(List<String> roles) {
    if (roles.size() <= 1) {
      return String.join("", roles);
    }
    return String.join(", ", roles.subList(0, roles.size() - 1)) + " and " + roles.get(roles.size() - 1);
  }
}
