package dev.signet.dkim;

import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Verifies each signature right after it was made, with the key's public half, over the very bytes
 * that were signed (RFC 6376 §3.7 data). A signing bug (a provider fault, a key pair that does not
 * match, a corrupted key in memory) then refuses the message instead of sending mail that fails
 * DKIM at every receiver. RSA is verified by the JDK's SunRsaSign, independently of the provider
 * that signed; Ed25519 by BouncyCastle (RFC 8463 §3: over the SHA-256 hash of the data). Both
 * verifies are cheap next to signing (public exponent 65537; one Ed25519 verify). RSA verifiers are
 * kept initialised per key and reused (a {@code Signature} returns to its state after
 * {@code initVerify} once {@code verify} ran), so a message pays for the public-key operation only.
 */
final class SelfCheck {
  private final Map<PublicKey, Ed25519PublicKeyParameters> ed25519 = new ConcurrentHashMap<>();
  /** Per public key (equal keys share a pool): initialised SunRsaSign verifiers not in use. */
  private final KeyedPools<PublicKey, Signature> rsaVerifiers = new KeyedPools<>();

  /** True if {@code signature} is {@code key}'s valid signature of {@code data}. */
  boolean verifies(SigningKey key, byte[] data, byte[] signature) {
    try {
      return switch (key.algorithm()) {
        case RSA_SHA256 -> rsa(key.publicKey(), data, signature);
        case ED25519_SHA256 -> ed25519(key.publicKey(), data, signature);
      };
    } catch (GeneralSecurityException | RuntimeException e) {
      return false; // an unusable public key cannot vouch for the signature
    }
  }

  private boolean rsa(PublicKey publicKey, byte[] data, byte[] signature) throws GeneralSecurityException {
    Queue<Signature> pool = rsaVerifiers.of(publicKey);
    Signature verifier = pool.poll();
    if (verifier == null) {
      verifier = Signature.getInstance("SHA256withRSA", RsaKeySigner.jdk());
      verifier.initVerify(publicKey);
    }
    verifier.update(data);
    boolean valid = verifier.verify(signature); // resets it to the state after initVerify
    pool.offer(verifier); // an exception above drops it instead
    return valid;
  }

  private boolean ed25519(PublicKey publicKey, byte[] data, byte[] signature) {
    Ed25519PublicKeyParameters params = ed25519.get(publicKey);
    if (params == null) {
      params = new Ed25519PublicKeyParameters(PemKeys.rawEd25519(publicKey), 0);
      ed25519.put(publicKey, params);
    }
    byte[] hash = BodyHash.sha256().digest(data);
    Ed25519Signer verifier = new Ed25519Signer();
    verifier.init(false, params);
    verifier.update(hash, 0, hash.length);
    return verifier.verifySignature(signature);
  }
}
