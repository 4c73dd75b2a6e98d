package dev.signet.message;

import dev.signet.dkim.HeaderField;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;

/** The fields a submission server adds: Date and Message-ID (RFC 6409 §8) and Received (RFC 5321 §4.4). */
final class AddedFields {
  /** RFC 5322 §3.3 date-time, numeric zone (the "GMT" of RFC 1123 is obs-zone). */
  private static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

  private final String hostname;
  private final SecureRandom random = new SecureRandom();

  AddedFields(String hostname) {
    this.hostname = hostname;
  }

  static String date(Instant when) {
    long seconds = when.getEpochSecond();
    if (seconds < 0 || seconds >= YEAR_10000) {
      return DATE.format(when);
    }
    // The formatter's text, written here: its code is large for one line per message, and a restarted relay
    // compiled it during its first thousands of messages (docs/ARCHITECTURE.md "Start-up").
    LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
    StringBuilder out = new StringBuilder(31)
        .append(DAYS[t.getDayOfWeek().ordinal()]).append(", ").append(t.getDayOfMonth()).append(' ')
        .append(MONTHS[t.getMonthValue() - 1]).append(' ').append(t.getYear()).append(' ');
    two(out, t.getHour()).append(':');
    two(out, t.getMinute()).append(':');
    return two(out, t.getSecond()).append(" +0000").toString();
  }

  private static final long YEAR_10000 = 253402300800L;
  private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  private static final String[] MONTHS =
      {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

  private static StringBuilder two(StringBuilder out, int value) {
    return out.append((char) ('0' + value / 10)).append((char) ('0' + value % 10));
  }

  HeaderField dateField(Instant when) {
    return HeaderField.of("Date: " + date(when) + "\r\n");
  }

  /** RFC 5322 §3.6.4: {@code <unique@host>}; 128 random bits make the left part unique. */
  String newMessageId() {
    byte[] bytes = new byte[16];
    random.nextBytes(bytes);
    return "<" + HexFormat.of().formatHex(bytes) + "@" + hostname + ">";
  }

  static HeaderField messageIdField(String messageId) {
    return HeaderField.of("Message-ID: " + messageId + "\r\n");
  }

  /**
   * RFC 5321 §4.4 time stamp line, folded below 78 characters:
   * {@code Received: from HELO ([addr]) by HOST (Signet) with ESMTPSA id QUEUEID; date}.
   * The protocol names are RFC 3848's: S = TLS, A = authenticated; RFC 6531 §3.7.3 names an SMTPUTF8
   * transaction UTF8SMTP (UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA). The AUTH identity itself is not written (it
   * would reveal a login name to every recipient).
   */
  HeaderField receivedField(Trace trace) {
    String literal = addressLiteral(trace.clientAddress());
    String helo = trace.helo().length() <= 255 && domainOrLiteral(trace.helo()) ? trace.helo() : "unknown";
    String protocol = (trace.smtpUtf8() ? "UTF8SMTP" : "ESMTP") + (trace.tls() ? "S" : "") + (trace.authUser().isPresent() ? "A" : "");
    String id = atom(trace.queueId()) ? trace.queueId() : "unknown";
    return HeaderField.of("Received: from " + helo + " (" + literal + ")\r\n"
        + "\tby " + hostname + " (Signet) with " + protocol + " id " + id + ";\r\n"
        + "\t" + date(trace.received()) + "\r\n");
  }

  /**
   * RFC 5321 §4.1.3 Domain, relaxed (underscores appear in real EHLO names): labels of letters, digits,
   * {@code _} and {@code -} that begin and end with a letter or digit, separated by dots, one more dot
   * allowed at the end; or an address-literal, {@code [} letters, digits, dots and colons {@code ]}.
   * Checked by hand, not with a regular expression, as it runs once per message.
   */
  static boolean domainOrLiteral(String name) {
    int n = name.length();
    if (n >= 3 && name.charAt(0) == '[' && name.charAt(n - 1) == ']') {
      for (int i = 1; i < n - 1; i++) {
        char c = name.charAt(i);
        if (!letterOrDigit(c) && c != '.' && c != ':') {
          return false;
        }
      }
      return true;
    }
    int end = n > 1 && name.charAt(n - 1) == '.' ? n - 1 : n;
    for (int start = 0; ; ) {
      int dot = name.indexOf('.', start);
      int stop = dot < 0 || dot >= end ? end : dot;
      if (stop == start || !letterOrDigit(name.charAt(start)) || !letterOrDigit(name.charAt(stop - 1))) {
        return false;
      }
      for (int i = start + 1; i < stop - 1; i++) {
        char c = name.charAt(i);
        if (!letterOrDigit(c) && c != '_' && c != '-') {
          return false;
        }
      }
      if (stop == end) {
        return true;
      }
      start = stop + 1;
    }
  }

  /** One or more letters, digits, dots, underscores and hyphens: a queue id fit for the Received field. */
  private static boolean atom(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!letterOrDigit(c) && c != '.' && c != '_' && c != '-') {
        return false;
      }
    }
    return !text.isEmpty();
  }

  private static boolean letterOrDigit(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
  }

  /** RFC 5321 §4.1.3: {@code [192.0.2.1]} or {@code [IPv6:2001:db8::1]}. */
  static String addressLiteral(InetAddress address) {
    String text = address.getHostAddress();
    int scope = text.indexOf('%');
    if (scope >= 0) {
      text = text.substring(0, scope);
    }
    return address instanceof Inet6Address ? "[IPv6:" + text + "]" : "[" + text + "]";
  }
}
