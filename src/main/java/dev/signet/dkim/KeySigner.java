package dev.signet.dkim;

/**
 * One signature algorithm: signs the canonical header data (RFC 6376 §3.7) with a key. Pluggable
 * per algorithm so each can use the fastest provider available (docs/ARCHITECTURE.md,
 * "Signing providers").
 * Implementations are thread-safe.
 */
interface KeySigner {

  /** The b= bytes for {@code data}, the canonical signed header fields. */
  byte[] sign(SigningKey key, byte[] data) throws DkimException;

  /** For the start-up log line: which implementation signs. */
  String provider();
}
