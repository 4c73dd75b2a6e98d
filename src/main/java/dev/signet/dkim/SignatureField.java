package dev.signet.dkim;

import java.util.ArrayList;
import java.util.List;

/**
 * Lays out the DKIM-Signature field text (RFC 6376 §3.5), folded at tag boundaries, between h=
 * names and inside b= so that no line exceeds {@value #MAX_LINE} octets (RFC 5322 §2.1.1).
 * {@link #unsigned} is the field up to and including {@code b=}: what the signature covers
 * (RFC 6376 §3.7, the b= value is empty); {@link #complete} appends the value, folded with FWS,
 * which §3.5 allows anywhere inside b= ("Whitespace is ignored in this value").
 */
final class SignatureField {
  static final String NAME = "DKIM-Signature";
  static final int MAX_LINE = 78;
  private static final String FOLD = "\r\n\t";

  private SignatureField() {}

  /** The field from its name to {@code b=}, no CRLF at the end. */
  static String unsigned(
      SigningKey key, String canonicalization, long t, Long x, List<String> h, String bh) {
    Layout out = new Layout(NAME + ":");
    out.token("v=1;");
    out.token("a=" + key.algorithm().tag() + ";");
    out.token("c=" + canonicalization + ";");
    out.token("d=" + key.domain() + ";");
    out.token("s=" + key.selector() + ";");
    out.token("t=" + t + ";");
    if (x != null) {
      out.token("x=" + x + ";");
    }
    List<String> pieces = new ArrayList<>();
    for (int i = 0; i < h.size(); i++) {
      pieces.add((i == 0 ? "h=" : "") + h.get(i) + (i == h.size() - 1 ? ";" : ":"));
    }
    out.pieces(pieces); // FWS is allowed around the colons of h= (RFC 6376 §3.5)
    out.token("bh=" + bh + ";");
    out.newLine();
    out.append("b=");
    return out.toString();
  }

  /** The complete field: {@code unsigned} followed by the base64 signature, ending in CRLF. */
  static String complete(String unsigned, String b) {
    StringBuilder sb = new StringBuilder(unsigned.length() + b.length() + 16).append(unsigned);
    int lineLength = unsigned.length() - unsigned.lastIndexOf('\n') - 1;
    int i = 0;
    while (i < b.length()) {
      int room = MAX_LINE - lineLength;
      if (room <= 0) {
        sb.append(FOLD);
        lineLength = 1;
        continue;
      }
      int n = Math.min(room, b.length() - i);
      sb.append(b, i, i + n);
      lineLength += n;
      i += n;
    }
    return sb.append("\r\n").toString();
  }

  /** Greedy line filling: a token goes on the current line if it fits, else on a new one. */
  private static final class Layout {
    private final StringBuilder sb = new StringBuilder(512);
    private int lineLength;

    Layout(String start) {
      append(start);
    }

    void token(String token) {
      if (lineLength + 1 + token.length() > MAX_LINE) {
        newLine();
        append(token);
      } else {
        append(" " + token);
      }
    }

    /** Pieces of one tag: the first placed like a token, the rest joined without space. */
    void pieces(List<String> pieces) {
      for (int i = 0; i < pieces.size(); i++) {
        String p = pieces.get(i);
        if (i == 0) {
          token(p);
        } else if (lineLength + p.length() > MAX_LINE) {
          newLine();
          append(p);
        } else {
          append(p);
        }
      }
    }

    void newLine() {
      sb.append(FOLD);
      lineLength = 1;
    }

    void append(String s) {
      sb.append(s);
      lineLength += s.length();
    }

    @Override
    public String toString() {
      return sb.toString();
    }
  }
}
