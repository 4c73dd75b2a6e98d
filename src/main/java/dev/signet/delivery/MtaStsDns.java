package dev.signet.delivery;

import dev.signet.config.HostPort;
import java.net.IDN;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Cache;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * The DNS lookups of MTA-STS, through {@code delivery.dns} with a TTL-respecting cache of its own:
 * the {@code _mta-sts.<domain>} TXT record (RFC 8461 §3.1) and the policy host's addresses.
 */
final class MtaStsDns {

  private final Resolver resolver;
  private final Cache cache = new Cache(DClass.IN);

  MtaStsDns(List<HostPort> servers, MxResolver.Settings settings) {
    this.resolver = MxResolver.resolver(servers, settings);
  }

  /** §3.1: exactly one TXT record starting "v=STSv1;" with an id of 1-32 letters and digits. */
  MtaSts.Txt txt(String domain) {
    Lookup lookup;
    try {
      lookup = lookup("_mta-sts." + domain, Type.TXT);
    } catch (TextParseException | IllegalArgumentException e) {
      return new MtaSts.Txt.Absent("not a domain name: " + domain);
    }
    Record[] answers = lookup.run();
    switch (lookup.getResult()) {
      case Lookup.SUCCESSFUL -> { }
      case Lookup.HOST_NOT_FOUND, Lookup.TYPE_NOT_FOUND -> {
        return new MtaSts.Txt.Absent("no _mta-sts record");
      }
      default -> {
        return new MtaSts.Txt.Failed("TXT lookup of _mta-sts." + domain + " failed: " + lookup.getErrorString());
      }
    }
    List<String> sts = TxtValues.of(answers, value -> value.startsWith("v=STSv1")); // §3.1
    if (sts.size() != 1) {
      return new MtaSts.Txt.Absent(sts.isEmpty() ? "no v=STSv1 record" : "several v=STSv1 records");
    }
    String id = null;
    String[] fields = sts.get(0).split(";");
    if (!fields[0].strip().equals("v=STSv1")) {
      return new MtaSts.Txt.Absent("v=STSv1 is not the first field");
    }
    for (String field : fields) {
      String f = field.strip();
      if (f.startsWith("id=")) {
        id = f.substring(3).strip();
      }
    }
    if (id == null || !id.matches("[A-Za-z0-9]{1,32}")) {
      return new MtaSts.Txt.Absent("the v=STSv1 record has no valid id");
    }
    return new MtaSts.Txt.Found(id);
  }

  /** A then AAAA addresses of {@code host}; empty when it has none or DNS fails. */
  List<InetAddress> addresses(String host) {
    List<InetAddress> found = new ArrayList<>();
    for (int type : new int[] {Type.A, Type.AAAA}) {
      Lookup lookup;
      try {
        lookup = lookup(host, type);
      } catch (TextParseException | IllegalArgumentException e) {
        return List.of();
      }
      Record[] answers = lookup.run();
      if (lookup.getResult() == Lookup.SUCCESSFUL) {
        for (Record r : answers) {
          if (r instanceof ARecord a) {
            found.add(a.getAddress());
          } else if (r instanceof AAAARecord aaaa) {
            found.add(aaaa.getAddress());
          }
        }
      }
    }
    return found;
  }

  private Lookup lookup(String name, int type) throws TextParseException {
    Lookup lookup = new Lookup(Name.fromString(IDN.toASCII(name, IDN.ALLOW_UNASSIGNED), Name.root), type, DClass.IN);
    lookup.setResolver(resolver);
    lookup.setCache(cache);
    lookup.setSearchPath((List<Name>) null);
    lookup.setHostsFileParser(null);
    return lookup;
  }
}
