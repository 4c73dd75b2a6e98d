package dev.signet.dkim;

import dev.signet.dkim.SigningKey.Algorithm;

/**
 * Which signature a message carries: the d=, s= and a= of one DKIM-Signature. What logs, metrics
 * and the spooled envelope record about signing, as a value instead of text to parse back.
 */
public record SignatureTags(String domain, String selector, Algorithm algorithm) {

  /** The tags of the signature {@code key} makes. */
  public static SignatureTags of(SigningKey key) {
    return new SignatureTags(key.domain(), key.selector(), key.algorithm());
  }

  /** {@code d=example.com s=rsa2026 a=rsa-sha256}: the form logs and the envelope file use. */
  @Override
  public String toString() {
    return "d=" + domain + " s=" + selector + " a=" + algorithm.tag();
  }
}
