package dev.signet.queue;

import dev.signet.delivery.Reply;
import dev.signet.events.Rfc3339;
import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code <id>.env} file: UTF-8 lines of space-separated tokens, parsed strictly (a file that is
 * not exactly what {@link #format} writes is corrupt, never half-understood).
 *
 * <pre>
 * signet-envelope 2
 * id 0PZ3F2K8QW0000A1B2
 * received 2026-11-25T18:10:21.123Z
 * sender app@example.com                      ("-" = null sender)
 * client 127.0.0.1
 * helo app.example.com                        ("-" = none)
 * auth alice                                  ("-" = none)
 * size 4711
 * signature d=example.com%20s=rsa2026%20a=rsa-sha256     (0..n)
 * rcpt PENDING 0 - bob@example.org - - - -    (1..n)
 * rcpt FAILED 1 - eve@example.org 550 5.1.1 mx.example.org 550%205.1.1%20no%20such%20user
 * end
 * </pre>
 * A rcpt line is: state (PENDING, DELIVERED, FAILED, or EXPIRED for a recipient failed at the max-age
 * deadline), attempts, next attempt, address, then the last reply as its own fields: the reply code,
 * the enhanced status code, the host that replied and the text ("-" each before the first attempt;
 * the host "-" for a decision taken here). Each token escapes '%', space and control characters as
 * %XX; the empty string is "-" (and a literal "-" is %2D). So a line is never "end" but the last one,
 * and an envelope in front of other bytes (the spool's .msg file) ends at the first "\nend\n".
 *
 * <p>Version 1 (before the reply had fields) is still read: its rcpt line ends in one token, the
 * reply as one line ({@link Reply#line}, after "expired after N attempts: " for an expiry), which
 * {@link #legacyReply} turns back into fields once, here. It is written as version 2 at the next change.
 */
final class EnvelopeFormat {
  private static final String MAGIC = "signet-envelope 2";
  private static final String MAGIC_V1 = "signet-envelope 1";
  private static final String EXPIRED = "EXPIRED";
  /** No envelope is this long (100 000 recipients with long replies would be); beyond it, the file is bad. */
  private static final int MAX_BYTES = 64 << 20;

  private EnvelopeFormat() {}

  static byte[] format(Envelope e) {
    StringBuilder out = new StringBuilder(256);
    out.append(MAGIC).append('\n');
    line(out, "id", e.id());
    line(out, "received", Rfc3339.format(e.received()));
    line(out, "sender", e.sender());
    line(out, "client", e.client());
    line(out, "helo", e.helo().orElse(""));
    line(out, "auth", e.authUser().orElse(""));
    line(out, "size", Long.toString(e.size()));
    for (String signature : e.signatures()) {
      line(out, "signature", signature);
    }
    for (Recipient r : e.recipients()) {
      Optional<Reply> reply = r.reply();
      line(out, "rcpt", r.expired() ? EXPIRED : r.state().name(), Integer.toString(r.attempts()),
          r.nextAttempt().map(Rfc3339::format).orElse(""), r.address(),
          reply.map(x -> Integer.toString(x.code())).orElse(""), reply.map(Reply::status).orElse(""),
          reply.flatMap(Reply::remoteMta).orElse(""), reply.map(Reply::text).orElse(""));
    }
    out.append("end\n");
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void line(StringBuilder out, String key, String... tokens) {
    out.append(key);
    for (String token : tokens) {
      out.append(' ').append(escape(token));
    }
    out.append('\n');
  }

  static String escape(String s) {
    if (s.isEmpty()) {
      return "-";
    }
    if (s.equals("-")) {
      return "%2D";
    }
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c == '%' || c == 0x7f) {
        out.append('%').append(HexFormat.of().withUpperCase().toHexDigits((byte) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  static String unescape(String token) throws IOException {
    if (token.equals("-")) {
      return "";
    }
    StringBuilder out = new StringBuilder(token.length());
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c != '%') {
        out.append(c);
        continue;
      }
      if (i + 2 >= token.length()) {
        throw new IOException("truncated %-escape in '" + token + "'");
      }
      try {
        out.append((char) HexFormat.fromHexDigits(token, i + 1, i + 3));
      } catch (IllegalArgumentException e) {
        throw new IOException("bad %-escape in '" + token + "'");
      }
      i += 2;
    }
    return out.toString();
  }

  /** The stream ended before the envelope's 'end' line. */
  static final class CutShort extends IOException {
    CutShort() {
      super("incomplete: no 'end' line");
    }
  }

  /**
   * The envelope at the start of {@code in}: the bytes up to and including the first "\nend\n"
   * (what {@link #parse} takes). Reads a little past it.
   *
   * @throws CutShort if {@code in} ends first
   * @throws IOException if no envelope could be that long
   */
  static byte[] readPrefix(InputStream in) throws IOException {
    byte[] buffer = new byte[8192];
    int length = 0;
    int searched = 0; // the terminator does not start before this index
    while (true) {
      int n = in.read(buffer, length, buffer.length - length);
      if (n < 0) {
        throw new CutShort();
      }
      length += n;
      for (int i = searched; i + 5 <= length; i++) {
        if (buffer[i] == '\n' && buffer[i + 1] == 'e' && buffer[i + 2] == 'n' && buffer[i + 3] == 'd'
            && buffer[i + 4] == '\n') {
          return java.util.Arrays.copyOf(buffer, i + 5);
        }
      }
      searched = Math.max(0, length - 4);
      if (length == buffer.length) {
        if (length >= MAX_BYTES) {
          throw new IOException("no 'end' line in the first " + MAX_BYTES + " bytes");
        }
        buffer = java.util.Arrays.copyOf(buffer, Math.min(MAX_BYTES, length * 2));
      }
    }
  }

  /** @throws IOException naming the line at fault when the bytes are not a complete envelope */
  static Envelope parse(byte[] bytes, String expectedId) throws IOException {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IOException("not UTF-8");
    }
    if (!text.endsWith("\nend\n")) {
      throw new IOException("incomplete: no 'end' line");
    }
    String[] lines = text.substring(0, text.length() - "end\n".length()).split("\n", -1);
    // split leaves one empty string after the last newline
    if (lines.length < 2 || !(lines[0].equals(MAGIC) || lines[0].equals(MAGIC_V1))) {
      throw new IOException("line 1: expected '" + MAGIC + "'");
    }
    Parser p = new Parser(lines[0].equals(MAGIC_V1));
    for (int n = 1; n < lines.length - 1; n++) {
      try {
        p.line(lines[n]);
      } catch (IOException | RuntimeException e) {
        throw new IOException("line " + (n + 1) + ": " + e.getMessage());
      }
    }
    return p.build(expectedId);
  }

  private static final String LEGACY_EXPIRED = "expired after ";
  private static final Pattern LEGACY_REMOTE = Pattern.compile("^(\\S+) said: (\\d{3}\\b.*)$", Pattern.DOTALL);
  private static final Pattern LEGACY_LOCAL =
      Pattern.compile("^(\\d{3}) (\\d\\.\\d{1,3}\\.\\d{1,3}) (.*)$", Pattern.DOTALL);
  private static final Pattern LEGACY_CODE =
      Pattern.compile("^([245])\\d\\d(?:[ -]([245]\\.\\d{1,3}\\.\\d{1,3})\\b)?");

  /**
   * The reply a version 1 envelope kept as one line ({@link Reply#line}): {@code "HOST said: TEXT"}
   * for a server's reply (the status from the text's enhanced code when its class matches the reply
   * code, else X.0.0, RFC 3463), {@code "CODE STATUS TEXT"} for a decision taken here; any other
   * line (none was written so) is a 550 5.0.0 with the line as its text, as the old reader took it.
   */
  static Reply legacyReply(String line) {
    Matcher remote = LEGACY_REMOTE.matcher(line);
    if (remote.matches()) {
      String text = remote.group(2);
      int code = Integer.parseInt(text.substring(0, 3));
      return new Reply(code, legacyStatus(code, text), text, Optional.of(remote.group(1)));
    }
    Matcher local = LEGACY_LOCAL.matcher(line);
    if (local.matches()) {
      return new Reply(Integer.parseInt(local.group(1)), local.group(2), local.group(3), Optional.empty());
    }
    if (LEGACY_CODE.matcher(line).find()) {
      int code = Integer.parseInt(line.substring(0, 3));
      return new Reply(code, legacyStatus(code, line), line, Optional.empty());
    }
    return new Reply(550, "5.0.0", line, Optional.empty());
  }

  private static String legacyStatus(int code, String text) {
    Matcher m = LEGACY_CODE.matcher(text);
    boolean matching = m.find() && m.group(2) != null && m.group(2).charAt(0) == m.group(1).charAt(0);
    return matching ? m.group(2) : (code / 100) + ".0.0";
  }

  private static final class Parser {
    final boolean v1;
    String id;
    Instant received;
    String sender;
    String client;
    String helo;
    String auth;
    Long size;
    final List<String> signatures = new ArrayList<>();
    final List<Recipient> recipients = new ArrayList<>();

    Parser(boolean v1) {
      this.v1 = v1;
    }

    void line(String line) throws IOException {
      String[] t = line.split(" ", -1);
      String key = t[0];
      switch (key) {
        case "id" -> id = single(t, id);
        case "received" -> received = instant(single(t, received));
        case "sender" -> sender = single(t, sender);
        case "client" -> client = single(t, client);
        case "helo" -> helo = single(t, helo);
        case "auth" -> auth = single(t, auth);
        case "size" -> size = number(single(t, size));
        case "signature" -> signatures.add(single(t, null));
        case "rcpt" -> recipients.add(v1 ? legacyRecipient(t) : recipient(t));
        default -> throw new IOException("unknown key '" + key + "'");
      }
    }

    private static String single(String[] t, Object previous) throws IOException {
      if (previous != null) {
        throw new IOException("'" + t[0] + "' given twice");
      }
      if (t.length != 2) {
        throw new IOException("expected '" + t[0] + " VALUE'");
      }
      return unescape(t[1]);
    }

    private static Recipient recipient(String[] t) throws IOException {
      if (t.length != 9) {
        throw new IOException("expected 'rcpt STATE ATTEMPTS NEXT ADDRESS CODE STATUS HOST TEXT'");
      }
      boolean expired = t[1].equals(EXPIRED);
      Optional<Reply> reply = Optional.empty();
      String code = unescape(t[5]);
      if (!code.isEmpty()) {
        if (code.length() != 3) {
          throw new IOException("not a reply code: '" + code + "'");
        }
        String host = unescape(t[7]);
        reply = Optional.of(new Reply(Math.toIntExact(number(code)), unescape(t[6]), unescape(t[8]),
            host.isEmpty() ? Optional.empty() : Optional.of(host)));
      } else if (!(t[6].equals("-") && t[7].equals("-") && t[8].equals("-"))) {
        throw new IOException("a reply without a code");
      }
      return recipient(expired ? "FAILED" : t[1], t[2], t[3], t[4], reply, expired);
    }

    /** A version 1 rcpt line: state, attempts, next attempt, address, the reply as one line. */
    private static Recipient legacyRecipient(String[] t) throws IOException {
      if (t.length != 6) {
        throw new IOException("expected 'rcpt STATE ATTEMPTS NEXT ADDRESS REPLY'");
      }
      String line = unescape(t[5]);
      boolean expired = t[1].equals("FAILED") && line.startsWith(LEGACY_EXPIRED);
      if (expired) {
        line = line.substring(line.indexOf(": ") + 2);
      }
      return recipient(t[1], t[2], t[3], t[4], line.isEmpty() ? Optional.empty() : Optional.of(legacyReply(line)),
          expired);
    }

    private static Recipient recipient(String stateName, String attemptsText, String nextText, String addressText,
        Optional<Reply> reply, boolean expired) throws IOException {
      State state;
      try {
        state = State.valueOf(stateName);
      } catch (IllegalArgumentException e) {
        throw new IOException("unknown recipient state '" + stateName + "'");
      }
      long attempts = number(attemptsText);
      String next = unescape(nextText);
      String address = unescape(addressText);
      if (address.isEmpty()) {
        throw new IOException("empty recipient address");
      }
      return new Recipient(address, state, Math.toIntExact(attempts),
          next.isEmpty() ? Optional.empty() : Optional.of(instant(next)), reply, expired);
    }

    private static Instant instant(String text) throws IOException {
      try {
        return Rfc3339.parse(text);
      } catch (DateTimeParseException e) {
        throw new IOException("not a timestamp: '" + text + "'");
      }
    }

    private static long number(String text) throws IOException {
      boolean digits = !text.isEmpty() && text.length() <= 18;
      for (int i = 0; digits && i < text.length(); i++) {
        digits = text.charAt(i) >= '0' && text.charAt(i) <= '9';
      }
      if (!digits) {
        throw new IOException("not a number: '" + text + "'");
      }
      return Long.parseLong(text);
    }

    Envelope build(String expectedId) throws IOException {
      for (Object[] field : new Object[][] {
          {"id", id}, {"received", received}, {"sender", sender}, {"client", client},
          {"helo", helo}, {"auth", auth}, {"size", size}}) {
        if (field[1] == null) {
          throw new IOException("missing '" + field[0] + "'");
        }
      }
      if (expectedId != null && !id.equals(expectedId)) {
        throw new IOException("id " + id + " does not match the file name " + expectedId);
      }
      if (recipients.isEmpty()) {
        throw new IOException("no 'rcpt' line");
      }
      return new Envelope(id, sender, recipients, client,
          helo.isEmpty() ? Optional.empty() : Optional.of(helo),
          auth.isEmpty() ? Optional.empty() : Optional.of(auth),
          received, size, signatures);
    }
  }
}
