package dev.signet.message;

import dev.signet.dkim.HeaderField;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** The fields a submission server adds: Date and Message-ID (RFC 6409 §8) and Received (RFC 5321 §4.4). */
final class AddedFields {
  /** RFC 5322 §3.3 date-time, numeric zone (the "GMT" of RFC 1123 is obs-zone). */
  private static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** RFC 5321 §4.1.3 Domain (relaxed: underscores appear in real EHLO names) or address-literal. */
  private static final Pattern HELO = Pattern.compile(
      "[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*\\.?"
          + "|\\[[A-Za-z0-9.:]+\\]");

  private static final Pattern ATOM = Pattern.compile("[A-Za-z0-9._-]+");

  private final String hostname;
  private final SecureRandom random = new SecureRandom();

  AddedFields(String hostname) {
    this.hostname = hostname;
  }

  static String date(Instant when) {
    return DATE.format(when);
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
    String helo = trace.helo().length() <= 255 && HELO.matcher(trace.helo()).matches() ? trace.helo() : "unknown";
    String protocol = (trace.smtpUtf8() ? "UTF8SMTP" : "ESMTP") + (trace.tls() ? "S" : "") + (trace.authUser().isPresent() ? "A" : "");
    String id = ATOM.matcher(trace.queueId()).matches() ? trace.queueId() : "unknown";
    return HeaderField.of("Received: from " + helo + " (" + literal + ")\r\n"
        + "\tby " + hostname + " (Signet) with " + protocol + " id " + id + ";\r\n"
        + "\t" + date(trace.received()) + "\r\n");
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
