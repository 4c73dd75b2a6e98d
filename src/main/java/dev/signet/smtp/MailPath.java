package dev.signet.smtp;

import dev.signet.delivery.AddressLiteral;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.subethamail.smtp.RejectException;

/**
 * The argument of MAIL FROM / RCPT TO: a reverse- or forward-path and its ESMTP parameters
 * (RFC 5321 §4.1.2, §4.1.1.2). Parsed strictly enough that nothing odd reaches the spool or the
 * envelope file, leniently where clients commonly differ (a space after the colon).
 *
 * @param address the mailbox without angle brackets; empty for the null reverse-path {@code <>}
 * @param parameters upper-cased keywords to values (null for a keyword without value)
 */
record MailPath(String address, Map<String, String> parameters) {

  static MailPath parse(String command, String keyword) throws RejectException {
    // command is e.g. "MAIL FROM:<a@b> SIZE=10"; the verb is four letters and a space.
    String rest = command.length() > 5 ? command.substring(5) : "";
    if (!rest.regionMatches(true, 0, keyword, 0, keyword.length())) {
      throw new RejectException(501, "5.5.4 Syntax: " + command.substring(0, Math.min(4, command.length()))
          + " " + keyword + "<address>");
    }
    rest = rest.substring(keyword.length()).stripLeading();
    if (!rest.startsWith("<")) {
      throw new RejectException(501, "5.1.7 Address must be in angle brackets: <address>");
    }
    int close = closingBracket(rest);
    if (close < 0) {
      throw new RejectException(501, "5.1.7 Unterminated address: missing '>'");
    }
    String address = rest.substring(1, close);
    // RFC 5321 §4.1.2: a source route ("@a,@b:") is accepted and ignored (Appendix C).
    if (address.startsWith("@")) {
      int colon = address.indexOf(':');
      if (colon < 0) {
        throw new RejectException(501, "5.1.7 Bad source route in <" + address + ">");
      }
      address = address.substring(colon + 1);
    }
    Map<String, String> parameters = new LinkedHashMap<>();
    String tail = rest.substring(close + 1);
    if (!tail.isEmpty() && !tail.startsWith(" ")) {
      throw new RejectException(501, "5.5.4 Expected a space after '>'");
    }
    // Split on one space, which String.split does without a regular expression; the empty strings
    // between a run of spaces are skipped.
    for (String parameter : tail.trim().split(" ")) {
      if (parameter.isEmpty()) {
        continue;
      }
      int eq = parameter.indexOf('=');
      String name = (eq < 0 ? parameter : parameter.substring(0, eq)).toUpperCase(Locale.ROOT);
      if (!keyword(name) || parameters.containsKey(name)) {
        throw new RejectException(501, "5.5.4 Bad parameter '" + parameter + "'");
      }
      parameters.put(name, eq < 0 ? null : parameter.substring(eq + 1));
    }
    return new MailPath(address, parameters);
  }

  /** RFC 5321 §4.1.2 esmtp-keyword, upper case: {@code [A-Z0-9][A-Z0-9-]*}. */
  private static boolean keyword(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' && i > 0)) {
        return false;
      }
    }
    return !name.isEmpty();
  }

  private static int closingBracket(String s) {
    boolean quoted = false;
    for (int i = 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quoted && c == '\\') {
        i++;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == '>' && !quoted) {
        return i;
      }
    }
    return -1;
  }

  boolean isNull() {
    return address.isEmpty();
  }

  boolean ascii() {
    return address.chars().allMatch(c -> c < 128);
  }

  /** The domain, lower-cased (U-labels kept as given). */
  String domain() {
    return address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
  }

  /**
   * RFC 5321 §4.1.2 Mailbox = Local-part "@" ( Domain / address-literal ), with RFC 6531 §3.3
   * UTF-8 in both parts when {@code utf8}. Limits from §4.5.3.1.1-2 (64 / 255 octets).
   */
  static boolean validMailbox(String address, boolean utf8) {
    int at = address.lastIndexOf('@');
    if (at <= 0 || at == address.length() - 1) {
      return false;
    }
    String local = address.substring(0, at);
    String domain = address.substring(at + 1);
    if (octets(local) > 64 || octets(domain) > 255) {
      return false;
    }
    if (!utf8 && !address.chars().allMatch(c -> c < 128)) {
      return false;
    }
    return (local.startsWith("\"") ? validQuoted(local) : validDotString(local)) && validDomain(domain);
  }

  private static int octets(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  private static boolean validDotString(String local) {
    if (local.startsWith(".") || local.endsWith(".") || local.contains("..")) {
      return false;
    }
    return local.chars().allMatch(c -> c >= 128 || Character.isLetterOrDigit(c) && c < 128
        || "!#$%&'*+-/=?^_`{|}~.".indexOf(c) >= 0);
  }

  private static boolean validQuoted(String local) {
    if (local.length() < 2 || !local.endsWith("\"")) {
      return false;
    }
    String inner = local.substring(1, local.length() - 1);
    for (int i = 0; i < inner.length(); i++) {
      char c = inner.charAt(i);
      if (c == '\\') {
        if (++i == inner.length() || inner.charAt(i) < 32 || inner.charAt(i) == 127) {
          return false;
        }
      } else if (c == '"' || c < 32 || c == 127) {
        return false;
      }
    }
    return true;
  }

  private static boolean validDomain(String domain) {
    if (AddressLiteral.is(domain)) {
      return AddressLiteral.parse(domain).isPresent(); // RFC 5321 §4.1.3, strictly
    }
    for (String label : domain.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")
          || !label.chars().allMatch(c -> c >= 128 || c < 128 && (Character.isLetterOrDigit(c) || c == '-'))) {
        return false;
      }
    }
    return true;
  }
}
