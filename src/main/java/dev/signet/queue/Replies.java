package dev.signet.queue;

import dev.signet.delivery.Reply;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a recipient's last reply is kept in its envelope (one line of text) and read back for the
 * bounce: a server's reply as {@code "mx.example.net said: 550 5.1.1 no such user"}, a decision taken
 * here as {@code "451 4.4.1 reason"}; an expiry prefixes {@code "expired after N attempts: "}.
 */
final class Replies {
  private static final String SAID = " said: ";
  private static final String EXPIRED = "expired after ";
  private static final Pattern CODE = Pattern.compile("^([245])\\d\\d(?:[ -]([245]\\.\\d{1,3}\\.\\d{1,3})\\b)?");
  private static final Pattern REMOTE = Pattern.compile("^(\\S+) said: (\\d{3}\\b.*)$", Pattern.DOTALL);

  private Replies() {}

  static String keep(Reply reply) {
    if (reply.remoteMta().isPresent() && reply.text().startsWith(Integer.toString(reply.code()))) {
      return reply.remoteMta().get() + SAID + reply.text();
    }
    return reply.code() + " " + reply.status() + " " + reply.text();
  }

  static String expired(int attempts, String kept) {
    return EXPIRED + attempts + (attempts == 1 ? " attempt: " : " attempts: ") + kept;
  }

  static boolean isExpiry(String kept) {
    return kept.startsWith(EXPIRED);
  }

  /**
   * The reply a failed recipient's kept text stands for. RFC 3463: the status from the reply's
   * enhanced code when its class matches the reply code, else X.0.0; an expiry is 4.4.7 (delivery
   * time expired), keeping the last server as Remote-MTA.
   */
  static Reply parse(String kept) {
    boolean expired = isExpiry(kept);
    String text = expired ? kept.substring(kept.indexOf(": ") + 2) : kept;
    Optional<String> host = Optional.empty();
    Matcher remote = REMOTE.matcher(text);
    if (remote.matches()) {
      host = Optional.of(remote.group(1));
      text = remote.group(2);
    }
    Matcher m = CODE.matcher(text);
    int code = 550;
    String status = "5.0.0";
    if (m.find()) {
      code = Integer.parseInt(text.substring(0, 3));
      boolean matching = m.group(2) != null && m.group(2).charAt(0) == m.group(1).charAt(0);
      status = matching ? m.group(2) : (code / 100) + ".0.0";
    }
    if (expired) {
      return new Reply(code, "4.4.7", kept, host);
    }
    return new Reply(code, status, text, host);
  }
}
