package dev.signet.dkim;

/**
 * RFC 6376 §3.4.3: the body as is, except that empty lines at its end are ignored, and a body that
 * is empty or lacks a final CRLF gets one (so the empty body canonicalizes to CRLF). Equivalently:
 * strip every CRLF at the end of the body, then add one CRLF.
 *
 * <p>Streaming: each chunk passes to the sink in one piece, except its trailing CRLFs (counted, not
 * kept) and a final CR (which may be the first half of a CRLF split across chunks). They are
 * emitted when content follows them and dropped at the end.
 */
final class SimpleBody implements BodyCanonicalizer {
  private final Sink out;
  /** CRLFs at the current end of the body, not yet emitted. */
  private long heldCrlfs;
  /** The body so far ends with a CR not yet known to start a CRLF. */
  private boolean heldCr;

  SimpleBody(Sink out) {
    this.out = out;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    int end = off + len;
    if (len == 0) {
      return;
    }
    if (heldCr) {
      heldCr = false;
      if (b[off] == LF) {
        heldCrlfs++;
        off++;
      } else {
        releaseHeld();
        out.write(CRLF, 0, 1); // the CR was content
      }
    }
    // Find the chunk's tail: an optional final CR, before it any number of CRLFs.
    int k = end;
    boolean endsWithCr = k > off && b[k - 1] == CR;
    if (endsWithCr) {
      k--;
    }
    long tailCrlfs = 0;
    while (k - 2 >= off && b[k - 2] == CR && b[k - 1] == LF) {
      k -= 2;
      tailCrlfs++;
    }
    if (k > off) {
      releaseHeld();
      out.write(b, off, k - off);
    }
    heldCrlfs += tailCrlfs;
    heldCr = endsWithCr;
  }

  private void releaseHeld() {
    for (; heldCrlfs > 0; heldCrlfs--) {
      out.write(CRLF, 0, 2);
    }
  }

  @Override
  public void finish() {
    if (heldCr) {
      heldCr = false;
      releaseHeld();
      out.write(CRLF, 0, 1); // a CR at the very end is content
    }
    heldCrlfs = 0; // "ignores all empty lines at the end of the message body"
    out.write(CRLF, 0, 2); // the last line's CRLF, or the CRLF of an empty body
  }
}
