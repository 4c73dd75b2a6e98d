package dev.signet.dkim;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * RFC 6376 §3.4.4: WSP at the end of each line is ignored, every other WSP run becomes one SP,
 * empty lines at the end of the body are ignored, a non-empty body without a final CRLF gets one,
 * and (erratum 1384) an empty body stays empty. The last line is treated like any other line even
 * without its CRLF: that is how it looks to a verifier once SMTP has transmitted it.
 *
 * <p>Speed: canonical output is collected in a local buffer and handed to the sink once per
 * {@value #BUFFER} bytes (a digest update per short run costs more than hashing the run), and runs
 * that are already canonical are found by a {@link RelaxedScan} (SIMD where available, else eight
 * bytes at a time) and handed on in bulk. Where the CPU packs bytes in one instruction, the SIMD
 * scan canonicalizes whole 64-byte blocks at once ({@link RelaxedScan#blocks}) whenever nothing is
 * pending, and this byte-at-a-time state machine only takes the rest (block ends that need a look
 * ahead, lone CRs and LFs, the end of the body).
 */
final class RelaxedBody implements BodyCanonicalizer {
  static final int BUFFER = 8192;
  /** Canonical runs at least this long bypass the buffer (one update instead of a copy). */
  private static final int DIRECT = 1024;

  private final Sink out;
  private final RelaxedScan scan;
  private final byte[] buf = new byte[BUFFER + RelaxedScan.BLOCK]; // room for a whole block
  private int buffered;
  private boolean pendingCr;
  private boolean pendingWsp;
  private boolean lineStart = true;
  /** Empty lines (after WSP removal) seen but not emitted: dropped if only empty lines follow. */
  private long emptyLines;

  RelaxedBody(Sink out) {
    this(out, RelaxedScan.best());
  }

  RelaxedBody(Sink out, RelaxedScan scan) {
    this.out = out;
    this.scan = scan;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    int end = off + len;
    int i = off;
    int blockAgain = off; // after a block the block path refused, the bytes of that block go byte by byte
    while (i < end) {
      if (i >= blockAgain && !lineStart && !pendingWsp && !pendingCr) { // nothing pending: b[i - 1] was content
        if (buffered > BUFFER) {
          flush();
        }
        long done = scan.blocks(b, i, end, buf, buffered, buf.length);
        if (done != 0) {
          i += (int) (done >>> 32);
          buffered += (int) done;
          continue;
        }
        blockAgain = i + RelaxedScan.BLOCK;
      }
      byte c = b[i];
      if (pendingCr) {
        pendingCr = false;
        if (c == LF) {
          i++;
          pendingWsp = false; // §3.4.4 a: WSP at the end of a line is ignored
          endLine();
          continue;
        }
        startContent();
        put(CR); // a CR that does not end a line is content
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
      int j = scan.runEnd(b, i + 1, end);
      startContent();
      put(b, i, j - i);
      i = j;
    }
  }

  /**
   * The end of the already canonical run that continues at j (b[j - 1] is plain): no HTAB, no CR,
   * a SP only when a plain byte follows it, a CRLF only between two non-empty lines whose first
   * byte is plain.
   */
  static int scalarRunEnd(byte[] b, int j, int end) {
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

  /** A plain byte other than LF: a byte after which no decision is pending, also at a line's end. */
  static boolean plainNotLf(byte x) {
    return !SPECIAL[x & 0xff] && x != LF;
  }

  private void endLine() {
    if (lineStart) {
      emptyLines++;
    } else {
      put(CR);
      put(LF);
      lineStart = true;
    }
  }

  /** Before content: the empty lines and the WSP run that turned out not to be trailing. */
  private void startContent() {
    for (; emptyLines > 0; emptyLines--) {
      put(CR);
      put(LF);
    }
    if (pendingWsp) {
      put(SP); // §3.4.4 a: a WSP run inside a line becomes one SP
      pendingWsp = false;
    }
    lineStart = false;
  }

  private void put(byte c) {
    if (buffered == buf.length) {
      flush();
    }
    buf[buffered++] = c;
  }

  private void put(byte[] b, int off, int len) {
    if (len >= DIRECT) {
      flush();
      out.write(b, off, len);
      return;
    }
    if (len > buf.length - buffered) {
      flush();
    }
    System.arraycopy(b, off, buf, buffered, len);
    buffered += len;
  }

  private void flush() {
    if (buffered > 0) {
      out.write(buf, 0, buffered);
      buffered = 0;
    }
  }

  @Override
  public void finish() {
    if (pendingCr) {
      pendingCr = false;
      startContent();
      put(CR);
    }
    pendingWsp = false;
    if (!lineStart) {
      put(CR); // a non-empty last line without CRLF gets one
      put(LF);
    }
    flush();
  }
}
