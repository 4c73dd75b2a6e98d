package dev.signet.delivery;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.eclipse.angus.mail.smtp.SMTPMessage;

/**
 * The signed message as Angus's SMTPTransport sees it: a MimeMessage whose bytes are the file's bytes.
 * The DKIM signature covers the header fields and body exactly as signed, so nothing here may parse,
 * re-encode, re-fold or add a header: writeTo copies the file, updateHeaders and saveChanges do nothing,
 * and the transport's 8BITMIME conversion stays off (mail.smtp.allow8bitmime=false). The transport's
 * SMTPOutputStream applies only dot-stuffing (RFC 5321 §4.5.2).
 */
final class RawMessage extends SMTPMessage {

  /** Thrown when the message file cannot be read: a local problem, not the server's. */
  static final class LocalReadException extends IOException {
    LocalReadException(IOException cause) {
      super("cannot read message file: " + cause.getMessage(), cause);
    }
  }

  private final MessageFile file;
  private final Runnable afterBody;

  /** @param afterBody runs once all bytes are written, before the final "." (to switch timeouts) */
  RawMessage(Session session, MessageFile file, Runnable afterBody) {
    super(session);
    this.file = file;
    this.afterBody = afterBody;
  }

  @Override
  public void writeTo(OutputStream out) throws IOException {
    InputStream in;
    try {
      in = file.source().open();
    } catch (IOException e) {
      throw new LocalReadException(e);
    }
    try (in) {
      byte[] buffer = new byte[MessageSource.bufferFor(file.size())];
      for (int n = read(in, buffer); n >= 0; n = read(in, buffer)) {
        out.write(buffer, 0, n); // an IOException here is the connection's
      }
    }
    afterBody.run();
  }

  private static int read(InputStream in, byte[] buffer) throws LocalReadException {
    try {
      return in.read(buffer);
    } catch (IOException e) {
      throw new LocalReadException(e);
    }
  }

  @Override
  public void writeTo(OutputStream out, String[] ignoreList) throws IOException {
    writeTo(out);
  }

  @Override
  public int getSize() {
    return (int) Math.min(Integer.MAX_VALUE, file.size());
  }

  /** Never invent a Message-ID, Date or MIME-Version: they are signed already (or deliberately absent). */
  @Override
  protected void updateHeaders() {}

  @Override
  public void saveChanges() throws MessagingException {}
}
