package dev.signet.cli;

import dev.signet.config.HostPort;
import dev.signet.dkim.DnsRecord;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/** Looks up published TXT records and compares them with what Signet would publish. */
final class DnsCheck {

  /** {@code status}: OK, MISSING, MISMATCH, SPLIT, BROKEN, DNSFAIL, or WARN for advice (never an error). */
  record Finding(String status, String name, String detail) {
    boolean ok() {
      return status.equals("OK");
    }
  }

  private final Resolver resolver;

  DnsCheck(List<HostPort> servers) {
    List<Resolver> resolvers = new ArrayList<>();
    for (HostPort server : servers) {
      resolvers.add(new SimpleResolver(new InetSocketAddress(server.host(), server.port())));
    }
    ExtendedResolver extended = servers.isEmpty() ? new ExtendedResolver() : new ExtendedResolver(resolvers);
    extended.setTimeout(Duration.ofSeconds(5));
    extended.setRetries(2);
    this.resolver = extended;
  }

  /** The selector's record must exist as ONE TXT record whose p= equals the key on disk. */
  Finding checkKey(DnsRecord expected) {
    Lookup lookup = lookup(expected.name());
    if (lookup == null) {
      return new Finding("BROKEN", expected.name(), "not a valid DNS name");
    }
    List<String> dkim = new ArrayList<>();
    switch (lookup.getResult()) {
      case Lookup.SUCCESSFUL -> {
        for (Record r : lookup.getAnswers()) {
          if (r instanceof TXTRecord txt) {
            dkim.add(String.join("", txt.getStrings()));
          }
        }
      }
      case Lookup.HOST_NOT_FOUND, Lookup.TYPE_NOT_FOUND -> {
        return new Finding("MISSING", expected.name(), "no TXT record; publish: " + expected.zoneLine());
      }
      default -> {
        return new Finding("DNSFAIL", expected.name(), "lookup failed: " + lookup.getErrorString());
      }
    }
    if (dkim.size() > 1) {
      // RFC 6376 §3.6.2.2: several strings of ONE record are joined; several records are an error.
      return new Finding("SPLIT", expected.name(), dkim.size()
          + " separate TXT records; publish one record made of several quoted strings: " + expected.zoneLine());
    }
    String published = dkim.get(0);
    String p = tag(published, "p");
    if (p == null) {
      return new Finding("BROKEN", expected.name(), "the TXT record has no p= tag: " + abbreviate(published));
    }
    String wanted = tag(expected.value(), "p");
    if (p.isEmpty()) {
      return new Finding("MISMATCH", expected.name(), "published with an empty p= (key revoked)");
    }
    if (!p.equals(wanted)) {
      return new Finding("MISMATCH", expected.name(), "the published key differs from the key on disk; publish: "
          + expected.zoneLine());
    }
    String k = tag(published, "k");
    String wantedK = tag(expected.value(), "k");
    if (k != null && !k.equalsIgnoreCase(wantedK)) {
      return new Finding("MISMATCH", expected.name(), "published k=" + k + " but the key is " + wantedK);
    }
    return new Finding("OK", expected.name(), "published key matches the key on disk");
  }

  /** SPF and DMARC: advice only, reported but never an error (their content is the owner's policy). */
  Finding checkPolicy(String name, String prefix) {
    Lookup lookup = lookup(name);
    if (lookup == null) {
      return new Finding("BROKEN", name, "not a valid DNS name");
    }
    if (lookup.getResult() == Lookup.SUCCESSFUL) {
      for (Record r : lookup.getAnswers()) {
        if (r instanceof TXTRecord txt) {
          String value = String.join("", txt.getStrings());
          if (value.regionMatches(true, 0, prefix, 0, prefix.length())) {
            return new Finding("OK", name, value);
          }
        }
      }
    }
    return new Finding("WARN", name, "no " + prefix + " record (recommended; `signet dns` prints a suggestion)");
  }

  private Lookup lookup(String name) {
    try {
      Lookup lookup = new Lookup(Name.fromString(name.endsWith(".") ? name : name + "."), Type.TXT, DClass.IN);
      lookup.setResolver(resolver);
      lookup.setCache(null);
      lookup.setSearchPath((List<Name>) null);
      lookup.run();
      return lookup;
    } catch (TextParseException e) {
      return null;
    }
  }

  /** The value of tag {@code name} in a tag=value list (RFC 6376 §3.2), whitespace removed; null if absent. */
  static String tag(String record, String name) {
    for (String part : record.split(";")) {
      int eq = part.indexOf('=');
      if (eq > 0 && part.substring(0, eq).strip().toLowerCase(Locale.ROOT).equals(name)) {
        return part.substring(eq + 1).replaceAll("\\s+", "");
      }
    }
    return null;
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
