package dev.signet.queue;

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

/**
 * The {@code <id>.env} file: UTF-8 lines of space-separated tokens, parsed strictly (a file that is
 * not exactly what {@link #format} writes is corrupt, never half-understood).
 *
 * <pre>
 * signet-envelope 1
 * id 0PZ3F2K8QW0000A1B2
 * received 2026-11-25T18:10:21.123Z
 * sender app@example.com                      ("-" = null sender)
 * client 127.0.0.1
 * helo app.example.com                        ("-" = none)
 * auth alice                                  ("-" = none)
 * size 4711
 * signature d=example.com%20s=rsa2026%20a=rsa-sha256     (0..n)
 * rcpt PENDING 0 - bob@example.org -          (state attempts next-attempt address last-reply; 1..n)
 * end
 * </pre>
 * Each token escapes '%', space and control characters as %XX; the empty string is "-" (and a
 * literal "-" is %2D). So a line is never "end" but the last one, and an envelope in front of other
 * bytes (the spool's .msg file) ends at the first "\nend\n".
 */
final class EnvelopeFormat {
  private static final String MAGIC = "signet-envelope 1";
  /** No envelope is this long (100 000 recipients with long replies would be); beyond it, the file is bad. */
  private static final int MAX_BYTES = 64 << 20;

  private EnvelopeFormat() {}

  static byte[] format(Envelope e) {
    StringBuilder out = new StringBuilder(256);
    out.append(MAGIC).append('\n');
    line(out, "id", e.id());
    line(out, "received", e.received().toString());
    line(out, "sender", e.sender());
    line(out, "client", e.client());
    line(out, "helo", e.helo().orElse(""));
    line(out, "auth", e.authUser().orElse(""));
    line(out, "size", Long.toString(e.size()));
    for (String signature : e.signatures()) {
      line(out, "signature", signature);
    }
    for (Recipient r : e.recipients()) {
      line(out, "rcpt", r.state().name(), Integer.toString(r.attempts()),
          r.nextAttempt().map(Instant::toString).orElse(""), r.address(), r.lastReply());
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

  /**
   * The envelope at the start of {@code in}: the bytes up to and including the first "\nend\n"
   * (what {@link #parse} takes). Reads a little past it.
   *
   * @throws IOException if {@code in} ends first, or no envelope could be that long
   */
  static byte[] readPrefix(InputStream in) throws IOException {
    byte[] buffer = new byte[8192];
    int length = 0;
    int searched = 0; // the terminator does not start before this index
    while (true) {
      int n = in.read(buffer, length, buffer.length - length);
      if (n < 0) {
        throw new IOException("incomplete: no 'end' line");
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
    if (lines.length < 2 || !lines[0].equals(MAGIC)) {
      throw new IOException("line 1: expected '" + MAGIC + "'");
    }
    Parser p = new Parser();
    for (int n = 1; n < lines.length - 1; n++) {
      try {
        p.line(lines[n]);
      } catch (IOException | RuntimeException e) {
        throw new IOException("line " + (n + 1) + ": " + e.getMessage());
      }
    }
    return p.build(expectedId);
  }

  private static final class Parser {
    String id;
    Instant received;
    String sender;
    String client;
    String helo;
    String auth;
    Long size;
    final List<String> signatures = new ArrayList<>();
    final List<Recipient> recipients = new ArrayList<>();

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
        case "rcpt" -> recipients.add(recipient(t));
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
      if (t.length != 6) {
        throw new IOException("expected 'rcpt STATE ATTEMPTS NEXT ADDRESS REPLY'");
      }
      State state;
      try {
        state = State.valueOf(t[1]);
      } catch (IllegalArgumentException e) {
        throw new IOException("unknown recipient state '" + t[1] + "'");
      }
      long attempts = number(t[2]);
      String next = unescape(t[3]);
      String address = unescape(t[4]);
      if (address.isEmpty()) {
        throw new IOException("empty recipient address");
      }
      return new Recipient(address, state, Math.toIntExact(attempts),
          next.isEmpty() ? Optional.empty() : Optional.of(instant(next)), unescape(t[5]));
    }

    private static Instant instant(String text) throws IOException {
      try {
        return Instant.parse(text);
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
      if (!id.equals(expectedId)) {
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
