package dev.signet.dkim;

/**
 * RFC 6376 §3.4.3: the body as is, except that empty lines at its end are ignored, and a body that
 * is empty or lacks a final CRLF gets one (so the empty body canonicalizes to CRLF).
 */
final class SimpleBody implements BodyCanonicalizer {
  private final Sink out;
  private boolean pendingCr;
  private boolean lineStart = true;
  /** Empty lines seen but not emitted: they are dropped if nothing but empty lines follows. */
  private long emptyLines;
  private boolean emitted;

  SimpleBody(Sink out) {
    this.out = out;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    int end = off + len;
    int i = off;
    while (i < end) {
      if (pendingCr) {
        pendingCr = false;
        if (b[i] == LF) {
          i++;
          endLine();
          continue;
        }
        content(CRLF, 0, 1); // the CR was not a line end: it is content
        continue;
      }
      if (b[i] == CR) {
        pendingCr = true;
        i++;
        continue;
      }
      // A run of content up to the next CR. A CRLF inside it is passed through when the line before
      // it is not empty (we are in content) and the next line is not empty either.
      int j = i + 1;
      while (j < end) {
        if (b[j] == CR) {
          if (j + 2 < end && b[j + 1] == LF && b[j + 2] != CR) {
            j += 3;
            continue;
          }
          break;
        }
        j++;
      }
      content(b, i, j - i);
      i = j;
    }
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
    out.write(b, off, len);
    lineStart = false;
    emitted = true;
  }

  @Override
  public void finish() {
    if (pendingCr) {
      pendingCr = false;
      content(CRLF, 0, 1);
    }
    // "If there is no body or no trailing CRLF on the message body, a CRLF is added."
    if (!lineStart || !emitted) {
      out.write(CRLF, 0, 2);
    }
  }
}
