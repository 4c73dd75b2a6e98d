package dev.signet.dkim;

import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Verifies each signature right after it was made, with the key's public half, over the very bytes
 * that were signed (RFC 6376 §3.7 data). A signing bug (a provider fault, a key pair that does not
 * match, a corrupted key in memory) then refuses the message instead of sending mail that fails
 * DKIM at every receiver. Ed25519 is verified by BouncyCastle (RFC 8463 §3: over the SHA-256 hash
 * of the data).
 *
 * <p>RSA is verified twice over, at two rates:
 *
 * <ul>
 *   <li>every signature by the signing provider's own verifier: the public-exponent computation,
 *       separate from the private-key one that made the signature, so a fault in signing or a
 *       mismatched key pair shows. With ACCP it costs about half of what the JDK's does;
 *   <li>the first signature of each pooled verifier (so the first of every key) and every {@value
 *       #INDEPENDENT_EVERY}th after it also by the JDK's SunRsaSign, which shares no code with
 *       ACCP. RSASSA-PKCS1-v1_5 is deterministic, so agreement there shows the two agree on the
 *       encoding (DigestInfo, padding) that every receiver checks;
 *   <li>and every signature's length is checked against the modulus (RFC 8017 §8.2.1: exactly k
 *       octets), the one encoding detail that varies per signature: a provider that dropped a
 *       leading zero octet could still accept its own output.
 * </ul>
 *
 * With the JDK signing, its own verifier is the only one. Verifiers are kept initialised per key
 * and reused (a {@code Signature} returns to its state after {@code initVerify} once {@code verify}
 * ran), so a message pays for the public-key operation only.
 */
final class SelfCheck {
  /** One in this many RSA signatures per verifier is also checked by the JDK. */
  static final int INDEPENDENT_EVERY = 64;

  /** The signing provider when it is not the JDK's (its verifier runs on every signature), else null. */
  private final Provider own;
  private final Map<PublicKey, Ed25519PublicKeyParameters> ed25519 = new ConcurrentHashMap<>();
  /** Per public key (equal keys share a pool): initialised verifiers not in use. */
  private final KeyedPools<PublicKey, RsaVerifier> rsaVerifiers = new KeyedPools<>();

  /** A check for signatures made by {@code rsaProvider} (and by BouncyCastle for Ed25519). */
  SelfCheck(Provider rsaProvider) {
    this.own = rsaProvider.getName().equals(RsaKeySigner.jdk().getName()) ? null : rsaProvider;
  }

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

  /** How RSA signatures are checked, for the start-up log. */
  String describe() {
    return own != null ? own.getName() + " verify, SunRsaSign on 1 in " + INDEPENDENT_EVERY : "SunRsaSign verify";
  }

  private boolean rsa(PublicKey publicKey, byte[] data, byte[] signature) throws GeneralSecurityException {
    if (signature.length != (((RSAPublicKey) publicKey).getModulus().bitLength() + 7) / 8) {
      return false;
    }
    Queue<RsaVerifier> pool = rsaVerifiers.of(publicKey);
    RsaVerifier verifier = pool.poll();
    if (verifier == null) {
      verifier = new RsaVerifier(publicKey, own);
    }
    boolean valid = verifier.verifies(data, signature);
    pool.offer(verifier); // an exception above drops it instead
    return valid;
  }

  /** Used by one thread at a time: the JDK's verifier, and the signing provider's if it is another. */
  private static final class RsaVerifier {
    private final Signature jdk;
    private final Signature own;
    private long uses;

    RsaVerifier(PublicKey key, Provider own) throws GeneralSecurityException {
      this.jdk = verifier(key, RsaKeySigner.jdk());
      this.own = own == null ? null : verifier(key, own);
    }

    private static Signature verifier(PublicKey key, Provider provider) throws GeneralSecurityException {
      Signature s = Signature.getInstance("SHA256withRSA", provider);
      s.initVerify(key);
      return s;
    }

    boolean verifies(byte[] data, byte[] signature) throws GeneralSecurityException {
      boolean jdkToo = own == null || uses++ % INDEPENDENT_EVERY == 0;
      if (own != null && !check(own, data, signature)) {
        return false;
      }
      return !jdkToo || check(jdk, data, signature);
    }

    private static boolean check(Signature verifier, byte[] data, byte[] signature) throws GeneralSecurityException {
      verifier.update(data);
      return verifier.verify(signature); // resets it to the state after initVerify
    }
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
