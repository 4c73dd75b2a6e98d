package dev.signet.dkim;

import dev.signet.dkim.Canonicalization.Canon;

/**
 * Body canonicalization, RFC 6376 §3.4.3 (simple) and §3.4.4 (relaxed), as a stream: bytes go in
 * through {@link #write} in chunks of any size, canonical bytes come out to the {@link Sink}. Only a
 * bounded state is held back (a pending CR, a pending WSP run, a count of trailing empty lines), so
 * the body is never buffered whole. Line ends are CRLF; a lone CR or LF is an ordinary byte.
 */
interface BodyCanonicalizer {

  /** Where canonical bytes go; {@code MessageDigest::update} fits. */
  @FunctionalInterface
  interface Sink {
    void write(byte[] b, int off, int len);
  }

  void write(byte[] b, int off, int len);

  /** Ends the body: emits what the trailing-line rules require. Call once, after the last write. */
  void finish();

  static BodyCanonicalizer of(Canon canon, Sink sink) {
    return canon == Canon.SIMPLE ? new SimpleBody(sink) : new RelaxedBody(sink);
  }

  byte CR = '\r';
  byte LF = '\n';
  byte SP = ' ';
  byte HTAB = '\t';
  byte[] CRLF = {CR, LF};
}
