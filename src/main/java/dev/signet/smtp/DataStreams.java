package dev.signet.smtp;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import org.subethamail.smtp.server.Session;

/** The streams between the client's socket and the message pipeline. */
final class DataStreams {
  private DataStreams() {}

  /** More than {@code limits.message-size} bytes arrived (RFC 1870 §6: 552 5.3.4, nothing kept). */
  static final class TooBig extends IOException {
    TooBig(long limit) {
      super("message exceeds limits.message-size of " + limit + " bytes", null);
    }
  }

  /**
   * The client broke the BDAT sequence (RFC 3030 §2) with another command; the transaction ends
   * and this reply answers that command.
   */
  static final class SequenceBroken extends IOException {
    SequenceBroken(String reply) {
      super(reply);
    }
  }

  /**
   * What the pipeline reads: the message data, capped at the size limit while it streams, and
   * remembering whether a read failed (then the connection is gone and nobody gets a reply).
   */
  static final class MessageInput extends InputStream {
    private final InputStream in;
    private final long limit;
    private final Runnable drainRest;
    private long count;
    private boolean clientFailed;

    MessageInput(InputStream in, long limit, Runnable drainRest) {
      this.in = in;
      this.limit = limit;
      this.drainRest = drainRest;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n;
      try {
        n = in.read(b, off, len);
      } catch (SequenceBroken e) {
        throw e;
      } catch (IOException e) {
        clientFailed = true;
        throw e;
      }
      if (n > 0) {
        count += n;
        if (count > limit) {
          throw new TooBig(limit);
        }
      }
      return n;
    }

    boolean clientFailed() {
      return clientFailed;
    }

    /** Reads and discards what the client still sends for this message, so it is not taken for commands. */
    void drain() throws IOException {
      try {
        drainRest.run();
      } catch (UncheckedIO e) {
        clientFailed = true;
        throw e.getCause();
      }
    }
  }

  /** Lets a drain strategy be a lambda. */
  static final class UncheckedIO extends RuntimeException {
    UncheckedIO(IOException cause) {
      super(cause);
    }

    @Override
    public synchronized IOException getCause() {
      return (IOException) super.getCause();
    }
  }

  static void readToEnd(InputStream in) {
    byte[] buffer = new byte[8192];
    try {
      while (in.read(buffer, 0, buffer.length) >= 0) {
        // discard
      }
    } catch (IOException e) {
      throw new UncheckedIO(e);
    }
  }

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
  static final class DotData extends InputStream {
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
      java.util.Objects.checkFromIndexSize(off, len, b.length);
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

  /**
   * The data of a BDAT sequence (RFC 3030): exactly {@code size} octets per chunk, no dot-stuffing,
   * the next BDAT command read here when a chunk is used up (after its 250). Unlike SubEthaSMTP's
   * BdatInputStream, a connection closed inside a chunk is an error, not a quietly shorter message.
   */
  static final class ChunkStream extends InputStream {
    private final Session session;
    private final InputStream raw;
    private long remaining;
    private long chunkSize;
    private boolean last;

    ChunkStream(Session session, long size, boolean last) {
      this.session = session;
      this.raw = session.getRawInput();
      this.remaining = size;
      this.chunkSize = size;
      this.last = last;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (remaining == 0) {
        if (last) {
          return -1;
        }
        nextChunk();
      }
      int n = raw.read(b, off, (int) Math.min(len, remaining));
      if (n < 0) {
        throw new EOFException("connection closed inside a BDAT chunk");
      }
      remaining -= n;
      return n;
    }

    private void nextChunk() throws IOException {
      session.sendResponse("250 2.0.0 " + chunkSize + " octets received");
      String line = session.getReader().readLine();
      if (line == null) {
        throw new EOFException("connection closed between BDAT chunks");
      }
      Bdat next = Bdat.parse(line);
      if (next == null) {
        throw new SequenceBroken("503 5.5.1 Expected BDAT, transaction aborted");
      }
      remaining = next.size();
      chunkSize = next.size();
      last = next.last();
    }

    /** Skips the rest of the current chunk only: the client may still send further BDAT commands. */
    void discardChunk() {
      try {
        skipFully(raw, remaining);
        remaining = 0;
      } catch (IOException e) {
        throw new UncheckedIO(e);
      }
    }
  }

  /** A parsed {@code BDAT size [LAST]} line; {@code null} from {@link #parse} if the line is not BDAT. */
  record Bdat(long size, boolean last) {
    static Bdat parse(String line) throws IOException {
      String[] args = line.trim().split(" +");
      if (!args[0].equalsIgnoreCase("BDAT")) {
        return null;
      }
      if (args.length < 2 || args.length > 3 || !args[1].matches("[0-9]{1,18}")
          || args.length == 3 && !args[2].equalsIgnoreCase("LAST")) {
        // Without a size the chunk boundary is lost: nothing after this can be parsed safely.
        throw new SyntaxLost();
      }
      return new Bdat(Long.parseLong(args[1]), args.length == 3);
    }
  }

  /** A BDAT line whose size cannot be read: the connection has to be closed (RFC 3030 §2). */
  static final class SyntaxLost extends IOException {
    SyntaxLost() {
      super("501 5.5.4 Syntax: BDAT size [LAST]; closing connection");
    }
  }

  static void skipFully(InputStream in, long n) throws IOException {
    byte[] buffer = new byte[8192];
    while (n > 0) {
      int read = in.read(buffer, 0, (int) Math.min(buffer.length, n));
      if (read < 0) {
        throw new EOFException("connection closed inside a BDAT chunk");
      }
      n -= read;
    }
  }
}
