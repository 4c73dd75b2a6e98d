package dev.signet.dkim;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

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
      int j = runEnd(b, i + 1, end);
      content(b, i, j - i);
      i = j;
    }
  }

  /**
   * The end of the already canonical run that continues at j (b[j - 1] is plain): no HTAB, no CR,
   * a SP only when a plain byte follows it, a CRLF only between two non-empty lines whose first
   * byte is plain.
   */
  private static int runEnd(byte[] b, int j, int end) {
    while (j < end) {
      if (j + 8 < end && cleanWord(b, j, end)) {
        j += 8;
        continue;
      }
      // A byte at a time through this word: it holds a SP, HTAB or CR that needs a look.
      for (int stop = Math.min(j + 8, end); j < stop; ) {
        byte x = b[j];
        if (plain(x)) {
          j++;
        } else if (x == SP && j + 1 < end && plain(b[j + 1])) {
          j += 2;
        } else if (x == CR && j + 2 < end && b[j + 1] == LF && plain(b[j + 2])) {
          j += 3;
        } else {
          return j;
        }
      }
    }
    return j;
  }

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;

  /**
   * Eight bytes at once (SWAR): true if b[j..j+8) is already canonical and may join the run: no
   * HTAB; every SP followed by a plain byte (the one after the word included); at most one CR, and
   * it starts a CRLF followed by a plain byte. Text is mostly such words, so the common path costs
   * a few operations per eight bytes instead of a branch per byte.
   */
  private static boolean cleanWord(byte[] b, int j, int end) {
    long w = (long) LONGS.get(b, j);
    long sp = zeroBytes(w ^ (SP * ONES));
    if ((sp & (sp >>> 8)) != 0 || (sp >>> 56 != 0 && !plain(b[j + 8]))) {
      return false; // a SP before a SP, or the last byte is a SP and the next byte is not plain
    }
    // Bytes below 0x20 (HTAB, CR, LF, other controls): exact checks only for such words.
    long controls = ~(((w & LOW7) + (0x60 * ONES)) | w) & ~LOW7;
    if (controls == 0) {
      return true;
    }
    long cr = zeroBytes(w ^ (CR * ONES));
    if (zeroBytes(w ^ (HTAB * ONES)) != 0 || (sp & (cr >>> 8)) != 0) {
      return false; // a HTAB, or a SP before a CR
    }
    if (cr == 0) {
      return true;
    }
    int at = j + (Long.numberOfTrailingZeros(cr) >>> 3);
    return Long.bitCount(cr) == 1 && at + 2 < end && b[at + 1] == LF && plain(b[at + 2]);
  }

  /** The high bit of each byte of x that is zero, exactly (no false positives across bytes). */
  private static long zeroBytes(long x) {
    return ~(((x & LOW7) + LOW7) | x | LOW7);
  }

  /** SP, HTAB and CR: the bytes that may need work; one table look-up keeps the common path short. */
  private static final boolean[] SPECIAL = new boolean[256];

  static {
    SPECIAL[SP] = true;
    SPECIAL[HTAB] = true;
    SPECIAL[CR] = true;
  }

  private static boolean plain(byte x) {
    return !SPECIAL[x & 0xff];
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
