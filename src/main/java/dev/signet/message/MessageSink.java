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

  /**
   * For a signed message, instead of {@link #headers(byte[])}: the header block with its
   * DKIM-Signature fields (at its start, {@link Signatures#length} bytes) laid out but their b= values
   * not yet computed, and {@code signatures}, whose {@link Signatures#fill} computes them and writes
   * them over the placeholders. The sink must have them filled before the message counts as
   * accepted, and may first write the rest (the spool fsyncs the message meanwhile). This default
   * fills them now and passes the block to {@link #headers(byte[])}.
   */
  default void headers(byte[] headerBlock, Signatures signatures) throws IOException, MessageException {
    signatures.fill(headerBlock);
    headers(headerBlock);
  }
}
