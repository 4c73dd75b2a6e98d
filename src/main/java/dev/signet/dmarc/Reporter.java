package dev.signet.dmarc;

import java.util.Locale;

/**
 * The reporters a metric label may name: the largest mailbox providers, and {@code other}. A closed
 * set keeps the label's cardinality bounded whatever organizations send reports.
 */
public enum Reporter {
  GOOGLE("google.com", "gmail.com"),
  MICROSOFT("microsoft.com", "outlook.com", "hotmail.com", "office365.com"),
  YAHOO("yahoo.com", "yahoo.co.jp", "aol.com", "yahooinc.com"),
  APPLE("apple.com", "icloud.com"),
  COMCAST("comcast.net"),
  MAILRU("mail.ru"),
  YANDEX("yandex.ru", "yandex.com"),
  GMX("gmx.net", "web.de", "1und1.de"),
  OTHER();

  private final String[] domains;

  Reporter(String... domains) {
    this.domains = domains;
  }

  /** The label value: the lower-case name. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** By the report's contact address domain, else by its organization name. */
  static Reporter of(String org, String email) {
    String address = email == null ? "" : email.toLowerCase(Locale.ROOT).strip();
    String domain = address.substring(address.lastIndexOf('@') + 1);
    String name = org == null ? "" : org.toLowerCase(Locale.ROOT);
    for (Reporter r : values()) {
      for (String d : r.domains) {
        if (domain.equals(d) || domain.endsWith("." + d)) {
          return r;
        }
      }
    }
    for (Reporter r : values()) {
      for (String d : r.domains) {
        if (name.equals(d) || name.startsWith(r.label())) {
          return r;
        }
      }
    }
    return OTHER;
  }
}
