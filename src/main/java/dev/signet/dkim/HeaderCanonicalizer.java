package dev.signet.dkim;

import dev.signet.dkim.Canonicalization.Canon;
import java.io.ByteArrayOutputStream;

/** Header field canonicalization, RFC 6376 §3.4.1 (simple) and §3.4.2 (relaxed). */
interface HeaderCanonicalizer {

  /** The canonical form of one field, ending with CRLF. */
  byte[] canonicalize(HeaderField field);

  static HeaderCanonicalizer of(Canon canon) {
    return canon == Canon.SIMPLE ? new Simple() : new Relaxed();
  }

  /** RFC 6376 §3.4.1: the field exactly as transmitted, folding and case unchanged. */
  final class Simple implements HeaderCanonicalizer {
    @Override
    public byte[] canonicalize(HeaderField field) {
      return field.raw();
    }
  }

  /**
   * RFC 6376 §3.4.2: name lowercased; continuation lines unfolded; WSP runs to one SP; WSP at the
   * end of the value and around the colon deleted; the field ends with CRLF.
   */
  final class Relaxed implements HeaderCanonicalizer {
    @Override
    public byte[] canonicalize(HeaderField field) {
      byte[] raw = field.raw();
      int end = raw.length;
      if (end >= 2 && raw[end - 2] == '\r' && raw[end - 1] == '\n') {
        end -= 2;
      }
      int colon = 0;
      while (colon < end && raw[colon] != ':') {
        colon++;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream(end + 2);
      // Field name: lowercase (ASCII only; names are printable ASCII, RFC 5322 §2.2), no WSP before
      // the colon.
      int nameEnd = colon;
      while (nameEnd > 0 && isWsp(raw[nameEnd - 1])) {
        nameEnd--;
      }
      for (int i = 0; i < nameEnd; i++) {
        byte c = raw[i];
        out.write(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
      }
      out.write(':');
      // Value: CRLFs dropped (unfolding), WSP runs to one SP, none at the start or the end.
      boolean wsp = false;
      boolean started = false;
      for (int i = colon + 1; i < end; i++) {
        byte c = raw[i];
        if (c == '\r' && i + 1 < end && raw[i + 1] == '\n') {
          i++;
          continue;
        }
        if (isWsp(c)) {
          wsp = true;
          continue;
        }
        if (wsp && started) {
          out.write(' ');
        }
        wsp = false;
        started = true;
        out.write(c);
      }
      out.write('\r');
      out.write('\n');
      return out.toByteArray();
    }

    private static boolean isWsp(byte c) {
      return c == ' ' || c == '\t';
    }
  }
}
