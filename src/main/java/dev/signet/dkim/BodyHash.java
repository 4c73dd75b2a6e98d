package dev.signet.dkim;

import dev.signet.dkim.Canonicalization.Canon;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The body hash (bh=, RFC 6376 §3.7) as a stream: write the CRLF-normalized body into it in chunks
 * of any size, then {@link #close()} it. The body is canonicalized and hashed as it passes; only a
 * bounded state is held, so bodies of any size hash in constant memory. Not thread-safe: one per
 * message. Obtain one from {@link Signer#bodyHash()}.
 */
public final class BodyHash extends OutputStream {
  private final Canon canon;
  private final MessageDigest sha256;
  private final BodyCanonicalizer canonicalizer;
  private final byte[] one = new byte[1];
  private long length;
  private byte[] digest;

  BodyHash(Canon canon) {
    this.canon = canon;
    this.sha256 = sha256();
    this.canonicalizer = BodyCanonicalizer.of(canon, sha256::update);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  @Override
  public void write(int b) {
    one[0] = (byte) b;
    write(one, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) {
    if (digest != null) {
      throw new IllegalStateException("body hash already closed");
    }
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    canonicalizer.write(b, off, len);
    length += len;
  }

  /** Ends the body; the hash is final. Closing twice is harmless. */
  @Override
  public void close() {
    if (digest == null) {
      canonicalizer.finish();
      digest = sha256.digest();
    }
  }

  /** The body canonicalization this hash applies (the body half of c=). */
  public Canon canonicalization() {
    return canon;
  }

  /** Bytes written so far (before canonicalization). */
  public long length() {
    return length;
  }

  /** The bh= value: base64 of the SHA-256 of the canonical body. Only after {@link #close()}. */
  public String base64() {
    return Base64.getEncoder().encodeToString(digest());
  }

  byte[] digest() {
    if (digest == null) {
      throw new IllegalStateException("close() the body hash before signing");
    }
    return digest.clone();
  }
}
