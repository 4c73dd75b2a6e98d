package dev.signet.smtp;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import org.subethamail.smtp.server.Session;

/**
 * The data of a BDAT sequence (RFC 3030): exactly {@code size} octets per chunk, no dot-stuffing,
 * the next BDAT command read here when a chunk is used up (after its 250). Unlike SubEthaSMTP's
 * BdatInputStream, a connection closed inside a chunk is an error, not a quietly shorter message.
 */
final class BdatChunks extends InputStream {
  private final Session session;
  private final InputStream raw;
  private long remaining;
  private long chunkSize;
  private boolean last;

  BdatChunks(Session session, long size, boolean last) {
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
    Command next = Command.parse(line);
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
      skip(raw, remaining);
      remaining = 0;
    } catch (IOException e) {
      throw new MessageInput.UncheckedIO(e);
    }
  }

  /** A parsed {@code BDAT size [LAST]} line; {@code null} from {@link #parse} if the line is not BDAT. */
  record Command(long size, boolean last) {
    static Command parse(String line) throws IOException {
      String[] args = line.trim().split(" +");
      if (!args[0].equalsIgnoreCase("BDAT")) {
        return null;
      }
      if (args.length < 2 || args.length > 3 || !args[1].matches("[0-9]{1,18}")
          || args.length == 3 && !args[2].equalsIgnoreCase("LAST")) {
        // Without a size the chunk boundary is lost: nothing after this can be parsed safely.
        throw new SyntaxLost();
      }
      return new Command(Long.parseLong(args[1]), args.length == 3);
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

  /** A BDAT line whose size cannot be read: the connection has to be closed (RFC 3030 §2). */
  static final class SyntaxLost extends IOException {
    SyntaxLost() {
      super("501 5.5.4 Syntax: BDAT size [LAST]; closing connection");
    }
  }

  /** Reads and discards {@code n} octets: a chunk refused or left unread. */
  static void skip(InputStream in, long n) throws IOException {
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
