package dev.signet.dkim;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which header fields a signature covers, and in what order (the h= list).
 *
 * <p>A configured name is signed once per occurrence; an oversigned name gets one more entry, so a
 * copy added later breaks the signature (RFC 6376 §8.15); an oversigned absent name is listed once
 * (it signs the "null" field, so adding it later breaks the signature too). RFC 6376 §5.4.2: several
 * instances of a name are taken from the bottom of the header block up, and an h= entry with no
 * instance left selects nothing. From is always signed (§5.4), listed first.
 *
 * @param names the h= entries, lowercase
 * @param fields the instance each entry selects, in h= order; entries that select nothing are absent
 */
record HeaderSelection(List<String> names, List<HeaderField> fields) {
  static final String FROM = "from";

  /**
   * The configured names, lowercased and in h= order, From first: built once per signer, not per
   * message (building it was most of the selection's cost).
   */
  record Policy(List<String> candidates, Set<String> oversign) {
    static Policy of(List<String> sign, List<String> oversign) {
      Set<String> over = lowercase(oversign);
      Set<String> candidates = new LinkedHashSet<>();
      candidates.add(FROM); // RFC 6376 §5.4: "The From header field MUST be signed", whatever the config says
      candidates.addAll(lowercase(sign));
      candidates.addAll(over);
      return new Policy(List.copyOf(candidates), Set.copyOf(over));
    }
  }

  /**
   * The most h= entries for one name. RFC 5322 §3.6 allows most signed fields once; 20 000 To fields
   * made a 60 KB DKIM-Signature. Beyond this many, the bottom-most instances are signed (those a
   * verifier selects first, RFC 6376 §5.4.2) and the name is not oversigned.
   */
  static final int MAX_INSTANCES = 20;

  static HeaderSelection select(List<HeaderField> headers, Policy policy) {
    List<String> names = new ArrayList<>();
    List<HeaderField> fields = new ArrayList<>();
    for (String name : policy.candidates()) {
      int instances = 0;
      for (int i = headers.size() - 1; i >= 0 && instances < MAX_INSTANCES; i--) { // bottom-up
        HeaderField field = headers.get(i);
        if (field.name().trim().equalsIgnoreCase(name)) { // names are ASCII (RFC 5322 §3.6.8)
          names.add(name);
          fields.add(field);
          instances++;
        }
      }
      if (policy.oversign().contains(name) && instances < MAX_INSTANCES) {
        names.add(name);
      }
    }
    return new HeaderSelection(List.copyOf(names), List.copyOf(fields));
  }

  /**
   * The fields an h= list selects, as a verifier selects them (RFC 6376 §5.4.2): each entry takes the
   * bottom-most instance of its name not yet taken; an entry with none left selects nothing. For a
   * list {@link #select} made from the same fields, the same fields in the same order.
   */
  static List<HeaderField> byNames(List<HeaderField> headers, List<String> names) {
    boolean[] taken = new boolean[headers.size()];
    List<HeaderField> fields = new ArrayList<>();
    for (String name : names) {
      for (int i = headers.size() - 1; i >= 0; i--) {
        if (!taken[i] && headers.get(i).name().trim().equalsIgnoreCase(name.trim())) {
          taken[i] = true;
          fields.add(headers.get(i));
          break;
        }
      }
    }
    return fields;
  }

  /** True if a From field is among the signed ones. */
  boolean signsFrom() {
    for (HeaderField f : fields) {
      if (f.name().trim().equalsIgnoreCase(FROM)) {
        return true;
      }
    }
    return false;
  }

  private static Set<String> lowercase(List<String> names) {
    Set<String> out = new LinkedHashSet<>();
    for (String n : names) {
      out.add(n.trim().toLowerCase(Locale.ROOT));
    }
    return out;
  }
}
