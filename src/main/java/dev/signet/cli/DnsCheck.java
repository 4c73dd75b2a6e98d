package dev.signet.cli;

import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.TagList;
import java.util.List;
import org.xbill.DNS.Type;

/** DKIM: each selector's published TXT record, compared with the key on disk (RFC 6376 §3.6.2). */
final class DnsCheck {

  private final DnsLookups dns;

  DnsCheck(DnsLookups dns) {
    this.dns = dns;
  }

  /** The selector's record must exist as ONE TXT record whose p= equals the key on disk. */
  Diagnosis checkKey(DnsRecord expected, String kind) {
    String name = expected.name();
    String fix = expected.zoneLine();
    DnsLookups.Answer answer = dns.query(name, Type.TXT);
    if (answer.absent()) {
      return Diagnosis.fail(kind, name, "MISSING: no TXT record", fix);
    }
    if (!answer.found()) {
      return Diagnosis.fail(kind, name, "DNSFAIL: lookup failed: " + answer.error(), null);
    }
    List<String> dkim = dns.txt(answer);
    if (dkim.size() > 1) {
      // RFC 6376 §3.6.2.2: several strings of ONE record are joined; several records are an error.
      return Diagnosis.fail(kind, name, "SPLIT: " + dkim.size()
          + " separate TXT records; publish one record made of several quoted strings", fix);
    }
    String published = dkim.get(0);
    String p = TagList.value(published, "p").orElse(null);
    if (p == null) {
      return Diagnosis.fail(kind, name, "BROKEN: the TXT record has no p= tag: " + abbreviate(published), fix);
    }
    String wanted = TagList.value(expected.value(), "p").orElse(null);
    if (p.isEmpty()) {
      return Diagnosis.fail(kind, name, "MISMATCH: published with an empty p= (key revoked)", fix);
    }
    if (!p.equals(wanted)) {
      return Diagnosis.fail(kind, name, "MISMATCH: the published key differs from the key on disk", fix);
    }
    String k = TagList.value(published, "k").orElse(null);
    String wantedK = TagList.value(expected.value(), "k").orElse(null);
    if (k != null && !k.equalsIgnoreCase(wantedK)) {
      return Diagnosis.fail(kind, name, "MISMATCH: published k=" + k + " but the key is " + wantedK, fix);
    }
    return Diagnosis.pass(kind, name, "published key matches the key on disk");
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
