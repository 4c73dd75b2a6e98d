package dev.signet.delivery;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A message as the content of SMTP's DATA (RFC 5321 §4.5.2): a "." at the start of a line is doubled,
 * and the data ends with CRLF "." CRLF. The spool holds messages with CRLF line endings (they are signed
 * so); a bare CR or LF, which SMTP may not carry (§2.3.8), would still go out as CRLF. Nothing else is
 * changed. Writes through to {@code out}, which should buffer.
 */
final class DataStuffing {
  private final OutputStream out;
  /** The last byte written to {@code out}: LF at the start, so a "." opening the message is doubled. */
  private int last = '\n';

  DataStuffing(OutputStream out) {
    this.out = out;
  }

  void write(byte[] b, int off, int len) throws IOException {
    int from = off;
    int end = off + len;
    for (int i = off; i < end; i++) {
      byte c = b[i];
      if (last == '\r' && c != '\n') { // a bare CR: its LF first
        out.write(b, from, i - from);
        out.write('\n');
        from = i;
        last = '\n';
      }
      if (c == '\n' && last != '\r') { // a bare LF: a CR before it
        out.write(b, from, i - from);
        out.write('\r');
        from = i;
      } else if (c == '.' && last == '\n') { // a line opening with ".": one more
        out.write(b, from, i - from);
        out.write('.');
        from = i;
      }
      last = c;
    }
    out.write(b, from, end - from);
  }

  /** Ends the last line if it is open, then the data. */
  void end() throws IOException {
    if (last == '\r') {
      out.write('\n');
    } else if (last != '\n') {
      out.write('\r');
      out.write('\n');
    }
    out.write('.');
    out.write('\r');
    out.write('\n');
    last = '\n';
  }
}
