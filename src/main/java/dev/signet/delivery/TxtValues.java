package dev.signet.delivery;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.xbill.DNS.Record;
import org.xbill.DNS.TXTRecord;

/**
 * The values of the TXT records in a DNS answer, each record's strings concatenated (as RFC 8461
 * §3.1 and RFC 8460 §3 read a policy record), keeping those a protocol claims (its version tag).
 */
final class TxtValues {
  private TxtValues() {}

  static List<String> of(Record[] answers, Predicate<String> claimed) {
    List<String> values = new ArrayList<>();
    for (Record r : answers) {
      if (r instanceof TXTRecord t) {
        String value = String.join("", t.getStrings());
        if (claimed.test(value)) {
          values.add(value);
        }
      }
    }
    return values;
  }
}
