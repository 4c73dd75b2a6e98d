package dev.signet.smtp;

import java.io.IOException;
import java.io.InputStream;

/**
 * What the pipeline reads: the message data, capped at the size limit while it streams, and
 * remembering whether a read failed (then the connection is gone and nobody gets a reply).
 */
final class MessageInput extends InputStream {
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
    } catch (BdatChunks.SequenceBroken e) {
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

  /** More than {@code limits.message-size} bytes arrived (RFC 1870 §6: 552 5.3.4, nothing kept). */
  static final class TooBig extends IOException {
    TooBig(long limit) {
      super("message exceeds limits.message-size of " + limit + " bytes", null);
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

  /** A drain strategy for data that ends by itself (DATA): read it to its end. */
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
}
