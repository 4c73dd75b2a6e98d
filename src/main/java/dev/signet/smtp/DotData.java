package dev.signet.smtp;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * The content of DATA (RFC 5321 §4.1.1.4, §4.5.2): ends at CRLF "." CRLF (a bare LF "." LF or
 * CR "." CR stays data, for the pipeline to refuse), and a line that starts with a period had one
 * added by the client, which is taken away, on the first line too. (SubEthaSMTP's
 * DotTerminatedInputStream and DotUnstuffingInputStream do the same a byte per call, through three
 * streams, and the latter misses the first line.)
 *
 * <p>Reads the session's buffered input a block at a time: marks it, reads a block, decodes up to
 * the terminator and resets to just after it, so a command the client pipelined after the data is
 * left for the session to read.
 */
final class DotData extends InputStream {
  private static final int LINE_START = 0;
  private static final int MIDDLE = 1;
  private static final int AFTER_CR = 2;
  private static final int DOT = 3;
  private static final int DOT_CR = 4;

  private final InputStream in;
  private final byte[] raw = new byte[8192];
  /** Decoded bytes not yet read: at most one more than the block (a held-back CR). */
  private final byte[] decoded = new byte[raw.length + 1];
  private int pos;
  private int limit;
  private int state = LINE_START; // the data begins a line
  private boolean ended;

  /** {@code in} must support mark and reset (the session's is a BufferedInputStream). */
  DotData(InputStream in) {
    if (!in.markSupported()) {
      throw new IllegalArgumentException("the session input must support mark/reset");
    }
    this.in = in;
  }

  @Override
  public int read() throws IOException {
    return ready() ? decoded[pos++] & 0xff : -1;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (!ready()) {
      return -1;
    }
    int n = Math.min(len, limit - pos);
    System.arraycopy(decoded, pos, b, off, n);
    pos += n;
    return n;
  }

  /** Decodes blocks until something is there to read; false at the end of the data. */
  private boolean ready() throws IOException {
    while (pos == limit) {
      if (ended) {
        return false;
      }
      decodeBlock();
    }
    return true;
  }

  private void decodeBlock() throws IOException {
    in.mark(2 * raw.length); // more than is read below, so the mark survives a refill of the buffer
    int n = in.read(raw, 0, raw.length); // what has arrived, up to a block; blocks only if nothing has
    if (n < 0) {
      throw new EOFException("connection closed before the end of the data (CRLF . CRLF)");
    }
    int o = 0;
    int i = 0;
    while (i < n && !ended) {
      byte c = raw[i++];
      switch (state) {
        case LINE_START -> {
          if (c == '.') {
            state = DOT; // stuffed, or the terminator
          } else {
            decoded[o++] = c;
            state = c == '\r' ? AFTER_CR : MIDDLE;
          }
        }
        case DOT -> {
          if (c == '\r') {
            state = DOT_CR;
          } else {
            decoded[o++] = c; // the added period is gone
            state = MIDDLE;
          }
        }
        case DOT_CR -> {
          if (c == '\n') {
            ended = true; // CRLF "." CRLF
          } else {
            decoded[o++] = '\r'; // a line "." CR x: the period goes, the CR is data
            decoded[o++] = c;
            state = c == '\r' ? AFTER_CR : MIDDLE;
          }
        }
        case AFTER_CR -> {
          decoded[o++] = c;
          state = c == '\n' ? LINE_START : c == '\r' ? AFTER_CR : MIDDLE;
        }
        default -> {
          decoded[o++] = c;
          if (c == '\r') {
            state = AFTER_CR;
          }
        }
      }
    }
    in.reset();
    for (long left = i; left > 0; ) { // what was decoded; anything after the terminator stays for the session
      long skipped = in.skip(left); // within the buffer read above
      if (skipped <= 0) {
        throw new IOException("session input could not skip the data it had decoded");
      }
      left -= skipped;
    }
    pos = 0;
    limit = o;
  }
}
