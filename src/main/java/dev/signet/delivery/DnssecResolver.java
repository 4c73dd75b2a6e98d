package dev.signet.delivery;

import dev.signet.config.HostPort;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.IDN;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Master;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * DNS lookups validated with DNSSEC (RFC 4033-4035) by dnsjava's {@link ValidatingResolver}, which
 * walks the chain of trust itself from the trust anchors (the IANA root KSKs shipped with Signet, or
 * {@code delivery.dnssec.trust-anchor}) through the configured resolvers, so no validating resolver is
 * needed. Each answer says whether it is secure, insecure (provably unsigned) or bogus (signed, but
 * the signatures do not hold), the three states DANE (RFC 7672 §2.1.1) and a DNS check need.
 *
 * <p>Answers are cached by name and type for their TTL (at most an hour; negative and failed answers
 * a minute). Thread-safe.
 */
public final class DnssecResolver {

  /** What validation made of an answer. */
  public enum Security {
    /** Validated from a trust anchor (the AD bit). */
    SECURE,
    /** Provably unsigned, or outside every trust anchor. */
    INSECURE,
    /** Signed, but the validation failed; or the resolver answered SERVFAIL. */
    BOGUS,
    /** No answer: timeout or network trouble. */
    FAILED
  }

  /**
   * One validated answer.
   *
   * @param rcode the DNS response code (NOERROR, NXDOMAIN, SERVFAIL ...)
   * @param records the answer section's records of the asked type (after CNAMEs)
   * @param reason why it is bogus or failed; empty otherwise
   */
  public record Answer(Security security, int rcode, List<Record> records, String reason) {
    public Answer {
      records = List.copyOf(records);
    }

    /** A secure answer that the name or type does not exist (NXDOMAIN or NODATA). */
    public boolean secureDenial() {
      return security == Security.SECURE && records.isEmpty()
          && (rcode == Rcode.NXDOMAIN || rcode == Rcode.NOERROR);
    }
  }

  private static final long MAX_TTL = 3600;
  private static final long NEGATIVE_TTL = 60;

  private record Key(Name name, int type) {}

  private record Cached(Answer answer, Instant expires) {}

  private final ValidatingResolver resolver;
  private final List<Name> anchors;
  private final Clock clock;
  private final Map<Key, Cached> cache = new ConcurrentHashMap<>();

  /**
   * @param servers the resolvers to ask ({@code delivery.dns}; empty = the system's)
   * @param trustAnchor a file of DS or DNSKEY records in zone-file syntax; empty = the IANA root anchors
   * @throws IOException if the trust anchor file cannot be read or holds no DS/DNSKEY record
   */
  public DnssecResolver(List<HostPort> servers, Optional<Path> trustAnchor) throws IOException {
    this(servers, trustAnchor, MxResolver.Settings.DEFAULT, Clock.systemUTC());
  }

  DnssecResolver(List<HostPort> servers, Optional<Path> trustAnchor, MxResolver.Settings settings, Clock clock)
      throws IOException {
    byte[] text;
    if (trustAnchor.isPresent()) {
      try {
        text = Files.readAllBytes(trustAnchor.get());
      } catch (java.nio.file.NoSuchFileException e) {
        throw new IOException(trustAnchor.get() + ": no such file", e);
      }
    } else {
      try (InputStream in = DnssecResolver.class.getResourceAsStream("/dnssec/root-anchors.txt")) {
        if (in == null) {
          throw new IOException("the root trust anchors are missing from the jar");
        }
        text = in.readAllBytes();
      }
    }
    this.anchors = anchorNames(text, trustAnchor.map(Path::toString).orElse("root anchors"));
    this.resolver = new ValidatingResolver(MxResolver.resolver(servers, settings), clock);
    this.resolver.loadTrustAnchors(new ByteArrayInputStream(text));
    this.clock = clock;
  }

  private static List<Name> anchorNames(byte[] text, String source) throws IOException {
    List<Name> names = new ArrayList<>();
    try (Master master = new Master(new ByteArrayInputStream(text), Name.root, 0)) {
      for (Record r = master.nextRecord(); r != null; r = master.nextRecord()) {
        if ((r.getType() == Type.DS || r.getType() == Type.DNSKEY) && !names.contains(r.getName())) {
          names.add(r.getName());
        }
      }
    } catch (IOException e) {
      throw new IOException(source + ": not zone-file DS/DNSKEY records: " + e.getMessage(), e);
    }
    if (names.isEmpty()) {
      throw new IOException(source + ": no DS or DNSKEY record");
    }
    return List.copyOf(names);
  }

  /** The {@code type} records of {@code name}, validated. Never throws for DNS trouble. */
  public Answer query(String name, int type) {
    Name n;
    try {
      n = Name.fromString(IDN.toASCII(name.endsWith(".") ? name : name + ".", IDN.ALLOW_UNASSIGNED), Name.root);
    } catch (TextParseException | IllegalArgumentException e) {
      return new Answer(Security.FAILED, Rcode.FORMERR, List.of(), "not a domain name: " + name);
    }
    return query(n, type);
  }

  Answer query(Name name, int type) {
    Key key = new Key(name, type);
    Instant now = clock.instant();
    Cached cached = cache.get(key);
    if (cached != null && cached.expires().isAfter(now)) {
      return cached.answer();
    }
    Answer answer = ask(name, type);
    long ttl = answer.records().isEmpty() || answer.security() == Security.BOGUS
        || answer.security() == Security.FAILED ? NEGATIVE_TTL
        : Math.min(MAX_TTL, answer.records().stream().mapToLong(Record::getTTL).min().orElse(NEGATIVE_TTL));
    cache.put(key, new Cached(answer, now.plusSeconds(ttl)));
    return answer;
  }

  private Answer ask(Name name, int type) {
    Message response;
    try {
      Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
      response = resolver.send(query);
    } catch (IOException e) {
      return new Answer(Security.FAILED, Rcode.SERVFAIL, List.of(), "no answer for " + name + "/"
          + Type.string(type) + ": " + e.getMessage());
    }
    int rcode = response.getRcode();
    if (rcode == Rcode.SERVFAIL) {
      // The validator turns a bogus answer into SERVFAIL and says why in a private-class TXT record.
      String reason = reason(response);
      return new Answer(Security.BOGUS, rcode, List.of(), reason == null ? "SERVFAIL" : reason);
    }
    if (rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
      return new Answer(Security.FAILED, rcode, List.of(), Rcode.string(rcode));
    }
    Security security = response.getHeader().getFlag(Flags.AD) ? Security.SECURE : Security.INSECURE;
    return new Answer(security, rcode, records(response, type), "");
  }

  private static List<Record> records(Message response, int type) {
    List<Record> found = new ArrayList<>();
    for (Record r : response.getSection(Section.ANSWER)) {
      if (r.getType() == type) {
        found.add(r);
      }
    }
    return found;
  }

  /** The validator's reason, which it adds as a TXT record of a private class to the additional section. */
  private static String reason(Message response) {
    for (Record r : response.getSection(Section.ADDITIONAL)) {
      if (r instanceof TXTRecord t && r.getDClass() == ValidatingResolver.VALIDATION_REASON_QCLASS) {
        return String.join("", t.getStrings());
      }
    }
    return null;
  }

  /**
   * Whether the resolvers pass DNSSEC through: the DNSKEY set of every trust anchor (the root's, by
   * default) validates. A resolver that strips signatures fails this, and every signed domain would
   * look bogus behind it.
   */
  public boolean validatesTrustAnchors() {
    for (Name anchor : anchors) {
      Answer a = ask(anchor, Type.DNSKEY);
      if (a.security() != Security.SECURE || a.records().isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /** The zones the trust anchors are for (the root, by default). */
  public List<String> trustAnchorNames() {
    return anchors.stream().map(n -> n.toString()).toList();
  }
}
