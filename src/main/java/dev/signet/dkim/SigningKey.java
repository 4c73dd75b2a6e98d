package dev.signet.dkim;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAKey;
import java.util.Locale;

/**
 * One selector's key: {@code keys/<domain>/<selector>.pem}. The signing domain (d=) and selector
 * (s=) come from the path, the algorithm from the key in the PEM.
 */
public record SigningKey(
    String domain, String selector, Algorithm algorithm, PrivateKey privateKey, PublicKey publicKey, Path file) {

  /** The signing algorithms Signet uses. No rsa-sha1: RFC 8301 §3.1 forbids signing with it. */
  public enum Algorithm {
    RSA_SHA256("rsa-sha256", "rsa"),
    /** RFC 8463. */
    ED25519_SHA256("ed25519-sha256", "ed25519");

    private final String tag;
    private final String keyType;

    Algorithm(String tag, String keyType) {
      this.tag = tag;
      this.keyType = keyType;
    }

    /** The a= value of the DKIM-Signature. */
    public String tag() {
      return tag;
    }

    /** The k= value of the DNS key record (RFC 6376 §3.6.1, RFC 8463 §5). */
    public String keyType() {
      return keyType;
    }
  }

  public SigningKey {
    domain = domain.toLowerCase(Locale.ROOT);
  }

  /** The RSA modulus length in bits, or 256 for Ed25519. */
  public int bits() {
    return privateKey instanceof RSAKey rsa ? rsa.getModulus().bitLength() : 256;
  }

  /** For logs and metrics: {@code d=example.com s=rsa2026 a=rsa-sha256}. */
  public String describe() {
    return SignatureTags.of(this).toString();
  }

  @Override
  public String toString() {
    return "SigningKey[" + describe() + " file=" + file + "]";
  }
}
