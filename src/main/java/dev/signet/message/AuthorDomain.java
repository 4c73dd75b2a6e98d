package dev.signet.message;

import java.util.Locale;
import java.util.Optional;

/**
 * Finds the domain of the first mailbox in a From field value (RFC 5322 §3.4): display names,
 * quoted strings, comments, angle brackets, obsolete routes and group syntax are skipped. The domain
 * is lowercased; an internationalized domain is kept as written (UTF-8, RFC 6532); Submission maps it to A-labels.
 *
 * <p>Written by hand rather than with {@code jakarta.mail.internet.InternetAddress}: that parser
 * returns a group as one address string, rejects or accepts UTF-8 depending on the system property
 * {@code mail.mime.allowutf8}, and the only thing needed here is one domain.
 */
final class AuthorDomain {
  private AuthorDomain() {}

  /** The author domain, or empty when the value holds no mailbox with a usable domain. */
  static Optional<String> of(String fromValue) {
    String s = withoutComments(fromValue);
    if (s == null) {
      return Optional.empty();
    }
    int n = s.length();
    int start = 0;
    boolean quoted = false;
    boolean literal = false;
    for (int i = 0; i <= n; i++) {
      char c = i < n ? s.charAt(i) : ',';
      if (quoted) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          quoted = false;
        }
      } else if (literal) {
        literal = c != ']';
      } else if (c == '"') {
        quoted = true;
      } else if (c == '[') {
        literal = true;
      } else if (c == '<') {
        // RFC 5322 §3.4: name-addr = [display-name] angle-addr; the address is inside <>.
        int close = s.indexOf('>', i);
        if (close < 0) {
          return Optional.empty();
        }
        String addr = s.substring(i + 1, close);
        // RFC 5322 §4.4 obs-route: "<@a.example,@b.example:user@c.example>".
        if (addr.strip().startsWith("@") && addr.indexOf(':') > 0) {
          addr = addr.substring(addr.indexOf(':') + 1);
        }
        return domainOf(addr);
      } else if (c == ':') {
        start = i + 1; // RFC 5322 §3.4 group: "display-name:" then a mailbox list
      } else if (c == ',' || c == ';') {
        String addr = s.substring(start, Math.min(i, n)).strip();
        if (!addr.isEmpty()) {
          return domainOf(addr);
        }
        start = i + 1; // an empty entry or an empty group ("undisclosed-recipients:;")
      }
    }
    return Optional.empty();
  }

  /** The part after the last {@code @} outside quotes, if it is a dot-atom or a domain literal. */
  private static Optional<String> domainOf(String addrSpec) {
    int at = -1;
    boolean quoted = false;
    for (int i = 0; i < addrSpec.length(); i++) {
      char c = addrSpec.charAt(i);
      if (quoted) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == '@') {
        at = i;
      }
    }
    if (at <= 0 || addrSpec.substring(0, at).isBlank()) {
      return Optional.empty();
    }
    String domain = addrSpec.substring(at + 1).strip();
    if (domain.startsWith("[") && domain.endsWith("]") && domain.length() > 2) {
      return Optional.of(domain.toLowerCase(Locale.ROOT)); // RFC 5322 §3.4.1 domain-literal
    }
    // RFC 5322 §4.4 obs-domain allows CFWS around the dots (comments are gone by now), not inside labels.
    StringBuilder joined = new StringBuilder(domain.length());
    for (String label : domain.split("\\.", -1)) {
      String atom = label.strip();
      if (atom.isEmpty() || !atom.chars().allMatch(AuthorDomain::atext)) {
        return Optional.empty();
      }
      joined.append(joined.isEmpty() ? "" : ".").append(atom);
    }
    return Optional.of(joined.toString().toLowerCase(Locale.ROOT));
  }

  /** RFC 5322 §3.2.3 atext, plus any non-ASCII character (RFC 6532 §3.2 UTF8-non-ascii). */
  private static boolean atext(int c) {
    return c > 127 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
  }

  /** RFC 5322 §3.2.2: comments nest and may hold quoted-pairs; they are not in quoted strings. Null if unbalanced. */
  private static String withoutComments(String value) {
    StringBuilder out = new StringBuilder(value.length());
    int depth = 0;
    boolean quoted = false;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (depth > 0) {
        if (c == '\\') {
          i++;
        } else if (c == '(') {
          depth++;
        } else if (c == ')' && --depth == 0) {
          out.append(' ');
        }
      } else if (quoted) {
        out.append(c);
        if (c == '\\' && i + 1 < value.length()) {
          out.append(value.charAt(++i));
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '(') {
        depth = 1;
      } else {
        if (c == '"') {
          quoted = true;
        }
        out.append(c);
      }
    }
    return depth == 0 && !quoted ? out.toString() : null;
  }
}
