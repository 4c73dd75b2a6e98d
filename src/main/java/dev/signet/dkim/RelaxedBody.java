package dev.signet.dkim;

/**
 * RFC 6376 §3.4.4: WSP at the end of each line is ignored, every other WSP run becomes one SP,
 * empty lines at the end of the body are ignored, a non-empty body without a final CRLF gets one,
 * and (erratum 1384) an empty body stays empty. The last line is treated like any other line even
 * without its CRLF: that is how it looks to a verifier once SMTP has transmitted it.
 */
final class RelaxedBody implements BodyCanonicalizer {
  private final Sink out;
  private boolean pendingCr;
  private boolean pendingWsp;
  private boolean lineStart = true;
  /** Empty lines (after WSP removal) seen but not emitted: dropped if only empty lines follow. */
  private long emptyLines;

  RelaxedBody(Sink out) {
    this.out = out;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    int end = off + len;
    int i = off;
    while (i < end) {
      byte c = b[i];
      if (pendingCr) {
        pendingCr = false;
        if (c == LF) {
          i++;
          pendingWsp = false; // §3.4.4 a: WSP at the end of a line is ignored
          endLine();
          continue;
        }
        content(CRLF, 0, 1); // a CR that does not end a line is content
        continue;
      }
      if (c == CR) {
        pendingCr = true;
        i++;
        continue;
      }
      if (c == SP || c == HTAB) {
        pendingWsp = true;
        i++;
        continue;
      }
      // A run that is already canonical: no TAB, no CR, a SP only when a plain byte follows it, a
      // CRLF only between two non-empty lines whose first byte is plain.
      int j = i + 1;
      while (j < end) {
        byte x = b[j];
        if (x == SP) {
          if (j + 1 < end && plain(b[j + 1])) {
            j += 2;
            continue;
          }
          break;
        }
        if (x == CR) {
          if (j + 2 < end && b[j + 1] == LF && plain(b[j + 2])) {
            j += 3;
            continue;
          }
          break;
        }
        if (x == HTAB) {
          break;
        }
        j++;
      }
      content(b, i, j - i);
      i = j;
    }
  }

  private static boolean plain(byte x) {
    return x != SP && x != HTAB && x != CR;
  }

  private void endLine() {
    if (lineStart) {
      emptyLines++;
    } else {
      out.write(CRLF, 0, 2);
      lineStart = true;
    }
  }

  private void content(byte[] b, int off, int len) {
    for (; emptyLines > 0; emptyLines--) {
      out.write(CRLF, 0, 2);
    }
    if (pendingWsp) {
      out.write(SP_BYTES, 0, 1); // §3.4.4 a: a WSP run inside a line becomes one SP
      pendingWsp = false;
    }
    out.write(b, off, len);
    lineStart = false;
  }

  @Override
  public void finish() {
    if (pendingCr) {
      pendingCr = false;
      content(CRLF, 0, 1);
    }
    pendingWsp = false;
    if (!lineStart) {
      out.write(CRLF, 0, 2); // a non-empty last line without CRLF gets one
    }
  }
}
