package dev.signet.message;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Where {@link Submission#prepare} puts the signed message. The body is streamed first (it is hashed
 * while it passes, so the signature is only known at its end); then the complete header block is
 * handed over once. The signed message is the header block followed by the body bytes.
 */
public interface MessageSink {

  /** The stream for the normalized body (CRLF line endings); called once, before {@link #headers}. */
  OutputStream body() throws IOException;

  /**
   * The complete header block: DKIM-Signature fields, Received (relay only), the message's fields
   * (plus Date / Message-ID if they were added) and the empty line (CRLF) that ends the block.
   * Called exactly once, after the body stream has been written and closed.
   */
  void headers(byte[] headerBlock) throws IOException;
}
