package dev.signet.config;

import java.net.IDN;
import java.util.Locale;

/**
 * Domain name syntax shared by the config ({@code hostname}), the CLI ({@code user add --domains},
 * {@code keygen --domain}) and signing (the From domain's keys and {@code d=}).
 *
 * <p>DNS and DKIM work on the ASCII form: RFC 6376 §3.5 says {@code d=} holds A-labels, and key
 * records live under {@code selector._domainkey.<A-labels>}. An internationalized name written with
 * U-labels ({@code bücher.example}) is mapped to its A-labels ({@code xn--bcher-kva.example}) with IDNA
 * (RFC 3490 ToASCII with the STD3 host name rules, which also check letters-digits-hyphen syntax).
 */
public final class DomainName {
  private DomainName() {}

  /**
   * The lowercase A-label form of {@code text}, a host or domain name.
   *
   * @throws IllegalArgumentException saying what is wrong with it
   */
  public static String ascii(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("expected a domain name, got an empty value");
    }
    if (text.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
      throw new IllegalArgumentException("a domain name may not contain spaces or control characters (CR, LF, tab): '"
          + printable(text) + "'");
    }
    String name = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    String ascii;
    try {
      ascii = IDN.toASCII(name, IDN.USE_STD3_ASCII_RULES);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a valid domain name: '" + printable(text)
          + "' (letters, digits and hyphens in dot-separated labels, or an internationalized name)");
    }
    if (ascii.isEmpty() || ascii.length() > 253) {
      throw new IllegalArgumentException("not a valid domain name: '" + printable(text) + "' (1-253 characters)");
    }
    for (String label : ascii.split("\\.", -1)) {
      // IDN.toASCII leaves some empty or overlong labels to the caller.
      if (label.isEmpty() || label.length() > 63) {
        throw new IllegalArgumentException("not a valid domain name: '" + printable(text)
            + "' (each label 1-63 characters)");
      }
    }
    return ascii.toLowerCase(Locale.ROOT);
  }

  /** Like {@link #ascii}, and the name must have at least two labels (RFC 5321 §2.3.5: a fully-qualified name). */
  public static String fullyQualified(String text) {
    String ascii = ascii(text);
    if (!ascii.contains(".")) {
      throw new IllegalArgumentException("expected a fully qualified domain name like mail.example.com, got '"
          + printable(text) + "'");
    }
    return ascii;
  }

  /** CR, LF and other controls shown escaped, so an error message is one line that shows the culprit. */
  private static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (char c : text.toCharArray()) {
      switch (c) {
        case '\r' -> out.append("\\r");
        case '\n' -> out.append("\\n");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < ' ' || c == 0x7f) {
            out.append(String.format("\\x%02x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }
}
