package dev.signet.delivery;

import java.util.Optional;

/**
 * Why a recipient ended where it did: a server's reply, or a decision taken here (DNS, policy,
 * a dead connection).
 *
 * @param code the SMTP reply code (RFC 5321 §4.2); for local decisions the code a server would have used
 * @param status the RFC 3463 enhanced status code, e.g. "5.1.1"
 * @param text the reply as the server sent it (lines joined with a space), or the local reason
 * @param remoteMta the host that replied; empty when the decision was taken here
 */
public record Reply(int code, String status, String text, Optional<String> remoteMta) {

  /** A reply from {@code host}: {@code response} is the full response line(s), starting with the code. */
  static Reply remote(int code, String response, String host) {
    String text = response == null ? String.valueOf(code) : SmtpConnection.flat(response);
    return new Reply(code, statusOf(code, text), text, Optional.of(host));
  }

  /** A decision taken here; {@code status} as RFC 3463 defines it. */
  static Reply local(int code, String status, String reason) {
    return new Reply(code, status, reason, Optional.empty());
  }

  /** A decision taken here about a session with {@code host} (TLS missing, size too large, ...). */
  static Reply about(String host, int code, String status, String reason) {
    return new Reply(code, status, reason, Optional.of(host));
  }

  /**
   * The reply as one line for people: {@code "mx.example.net said: 550 5.1.1 no such user"} for a
   * server's reply, {@code "451 4.4.5 reason"} for a decision taken here (or about a host).
   */
  public String line() {
    if (remoteMta.isPresent() && text.startsWith(Integer.toString(code))) {
      return remoteMta.get() + " said: " + text;
    }
    return code + " " + status + " " + text;
  }

  public boolean transientFailure() {
    return code >= 400 && code < 500;
  }

  public boolean permanentFailure() {
    return code >= 500;
  }

  /** The enhanced code in the text if its class matches the reply code (RFC 3463 §3), else x.0.0. */
  static String statusOf(int code, String text) {
    // RFC 3463 §2: class "." subject "." detail; RFC 2034 §4: it follows the reply code and its space or
    // hyphen, and white space or the end follows it.
    // Read by hand rather than with a regular expression: every delivery reads one or more replies.
    if (text.length() > 5 && digit(text, 0) && digit(text, 1) && digit(text, 2)
        && (text.charAt(3) == ' ' || text.charAt(3) == '-') && "245".indexOf(text.charAt(4)) >= 0
        && text.charAt(4) - '0' == code / 100 && text.charAt(5) == '.') {
      int dot = digitsEnd(text, 6);
      if (dot > 6 && dot < text.length() && text.charAt(dot) == '.') {
        int end = digitsEnd(text, dot + 1);
        if (end > dot + 1 && (end == text.length() || " \t\n\u000b\f\r".indexOf(text.charAt(end)) >= 0)) {
          return text.substring(4, end);
        }
      }
    }
    return (code / 100) + ".0.0";
  }

  private static boolean digit(String text, int at) {
    char c = text.charAt(at);
    return c >= '0' && c <= '9';
  }

  /** The index after the one to three digits at {@code at} (RFC 3463: subject and detail have 1-3). */
  private static int digitsEnd(String text, int at) {
    int end = at;
    while (end < text.length() && end < at + 3 && digit(text, end)) {
      end++;
    }
    return end;
  }
}
