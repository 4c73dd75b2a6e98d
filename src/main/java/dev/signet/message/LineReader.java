package dev.signet.message;

import java.io.IOException;
import java.io.InputStream;

/**
 * Splits DATA into lines and refuses what cannot be relayed safely, reading the input in chunks so a
 * message of any size passes through a fixed amount of memory (one chunk plus one line).
 *
 * <p>RFC 5321 §2.3.8 and RFC 5322 §2.1: lines end with CRLF only, CR and LF appear only together.
 * A bare CR or bare LF is the raw material of SMTP smuggling (a receiver that takes {@code \n.\n} as
 * the end of data sees a second message), so it is refused, or turned into CRLF when the relay is
 * configured to normalize. NUL is refused outright (RFC 5322 §4.1 obsolete, not signable reliably).
 */
final class LineReader {
  /** RFC 5322 §2.1.1: a line is at most 998 characters, excluding the CRLF. */
  static final int MAX_LINE = 998;

  private static final byte CR = '\r';
  private static final byte LF = '\n';

  private final InputStream in;
  private final boolean normalize;
  private final long maxSize;
  private final byte[] chunk = new byte[16 * 1024];
  private int pos;
  private int limit;
  private boolean eof;
  private long bytesRead;
  private long lineNumber;

  private final byte[] line = new byte[MAX_LINE];
  private int length;
  private boolean terminated;

  /**
   * @param normalize true: bare CR / bare LF become CRLF; false: they are refused with 550 5.6.0
   * @param maxSize the most bytes of input accepted; more is refused with 552 5.3.4
   */
  LineReader(InputStream in, boolean normalize, long maxSize) {
    this.in = in;
    this.normalize = normalize;
    this.maxSize = maxSize;
  }

  /**
   * Reads the next line into {@link #bytes()} / {@link #length()}.
   *
   * @return false at the end of the data (no byte left)
   */
  boolean next() throws IOException, MessageException {
    length = 0;
    terminated = false;
    boolean any = false;
    while (true) {
      if (pos == limit && !fill()) {
        if (any) {
          lineNumber++;
        }
        return any; // the last line had no line ending
      }
      any = true;
      // Fast path: copy the run of ordinary bytes up to the next CR, LF or NUL in one go.
      byte[] c = chunk;
      int p = pos;
      int end = limit;
      while (p < end) {
        byte b = c[p];
        if (b < 14 && (b == CR || b == LF || b == 0)) {
          break;
        }
        p++;
      }
      int run = p - pos;
      if (run > 0) {
        if (length + run > MAX_LINE) {
          throw MessageException.badContent("line " + (lineNumber + 1)
              + " is longer than 998 octets (RFC 5322 section 2.1.1)");
        }
        System.arraycopy(c, pos, line, length, run);
        length += run;
        pos = p;
        if (p == end) {
          continue;
        }
      }
      byte b = c[pos++];
      if (b == CR) {
        if ((pos < limit || fill()) && chunk[pos] == LF) {
          pos++;
          return ended();
        }
        bareEnding("CR");
        return ended();
      } else if (b == LF) {
        bareEnding("LF");
        return ended();
      } else {
        throw MessageException.badContent("NUL byte in message data (line " + (lineNumber + 1) + ")");
      }
    }
  }

  private boolean ended() {
    terminated = true;
    lineNumber++;
    return true;
  }

  private void bareEnding(String which) throws MessageException {
    if (!normalize) {
      throw MessageException.badContent("bare " + which + " in message data (line " + (lineNumber + 1)
          + "); lines must end with CRLF (RFC 5321 section 2.3.8)");
    }
  }

  private boolean fill() throws IOException, MessageException {
    if (eof) {
      return false;
    }
    int n = in.read(chunk, 0, chunk.length);
    if (n < 0) {
      eof = true;
      pos = limit = 0;
      return false;
    }
    bytesRead += n;
    if (bytesRead > maxSize) {
      // RFC 1870 §6 / RFC 3463: 552 5.3.4 message too big for system.
      throw new MessageException(552, "5.3.4", "message exceeds the size limit of " + maxSize + " bytes");
    }
    pos = 0;
    limit = n;
    return true;
  }

  /** The current line's bytes, without its line ending; valid up to {@link #length()}. */
  byte[] bytes() {
    return line;
  }

  int length() {
    return length;
  }

  /** Whether the current line ended with a line ending (false only for the last line of the data). */
  boolean terminated() {
    return terminated;
  }

  /** 1-based number of the current line. */
  long lineNumber() {
    return lineNumber;
  }

  boolean startsWithWsp() {
    return length > 0 && (line[0] == ' ' || line[0] == '\t');
  }
}
