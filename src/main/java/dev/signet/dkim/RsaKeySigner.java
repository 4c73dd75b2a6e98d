package dev.signet.dkim;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * rsa-sha256 (RFC 6376 §3.3.1): RSASSA-PKCS1-v1_5 with SHA-256. Keys of 1024 to 4096 bits
 * (RFC 8301 §3.2: signers MUST use at least 1024 bits; verifiers need not handle more than 4096).
 */
final class RsaKeySigner implements KeySigner {
  static final int MIN_BITS = 1024;
  static final int MAX_BITS = 4096;

  private final Provider provider;
  /** Keys translated once into the provider's own form (ACCP otherwise converts on every sign). */
  private final Map<PrivateKey, PrivateKey> translated = new ConcurrentHashMap<>();
  /** Per thread: an initialised Signature per key (Signature objects are not thread-safe). */
  private final ThreadLocal<Map<PrivateKey, Signature>> signatures =
      ThreadLocal.withInitial(IdentityHashMap::new);
  private static final int MAX_CACHED_KEYS = 16;

  RsaKeySigner(Provider provider) {
    this.provider = provider;
  }

  /** The provider to sign with: ACCP when its native library loads, else the JDK's SunRsaSign. */
  static Provider preferredProvider() {
    return Preferred.PROVIDER;
  }

  @Override
  public byte[] sign(SigningKey key, byte[] data) throws DkimException {
    int bits = key.bits();
    if (bits < MIN_BITS || bits > MAX_BITS) {
      checkSize(bits, String.valueOf(key.file()));
    }
    try {
      Signature signature = initialized(key.privateKey());
      signature.update(data);
      return signature.sign(); // resets it to the state after initSign, ready for the next message
    } catch (GeneralSecurityException e) {
      signatures.remove(); // a Signature in an unknown state is not reused
      throw new DkimException(451, "4.3.0", "RSA signing with " + key.describe() + " failed: " + e, e);
    }
  }

  /**
   * This thread's Signature for the key, created and initialised once: the provider look-up and
   * initSign are then not paid per message. Keyed by identity (a reloaded key is a new object; a
   * PrivateKey's equals and hashCode go through its encoding); bounded, since keys can be reloaded.
   */
  private Signature initialized(PrivateKey key) throws GeneralSecurityException {
    Map<PrivateKey, Signature> mine = signatures.get();
    Signature signature = mine.get(key);
    if (signature == null) {
      if (mine.size() >= MAX_CACHED_KEYS) {
        mine.clear();
      }
      signature = Signature.getInstance("SHA256withRSA", provider);
      signature.initSign(translated.computeIfAbsent(key, this::translate));
      mine.put(key, signature);
    }
    return signature;
  }

  private PrivateKey translate(PrivateKey key) {
    try {
      return (PrivateKey) KeyFactory.getInstance("RSA", provider).translateKey(key);
    } catch (GeneralSecurityException e) {
      return key; // the provider may still accept it as is; initSign reports it if not
    }
  }

  static void checkSize(int bits, String what) throws DkimException {
    if (bits < MIN_BITS || bits > MAX_BITS) {
      throw new DkimException(451, "4.3.5", what + ": RSA key of " + bits + " bits; DKIM needs "
          + MIN_BITS + " to " + MAX_BITS + " bits (RFC 8301 §3.2), 2048 recommended");
    }
  }

  @Override
  public String provider() {
    return provider.getName();
  }

  /** Chosen and logged once per JVM: the choice depends only on the platform. */
  private static final class Preferred {
    private static final Logger LOG = LoggerFactory.getLogger(RsaKeySigner.class);
    static final Provider PROVIDER = choose();

    private static Provider choose() {
      LOG.info("ed25519-sha256 signing via BouncyCastle (lightweight Ed25519Signer)");
      try {
        AmazonCorrettoCryptoProvider accp = AmazonCorrettoCryptoProvider.INSTANCE;
        Throwable error = accp.getLoadingError();
        if (error == null) {
          accp.assertHealthy();
          LOG.info("rsa-sha256 signing via {} {}", accp.getName(), accp.getVersionStr());
          return accp;
        }
        LOG.info("rsa-sha256 signing via the JDK (SunRsaSign): ACCP did not load: {}", error.toString());
      } catch (Throwable e) { // LinkageError included: no native library for this platform
        LOG.info("rsa-sha256 signing via the JDK (SunRsaSign): ACCP unavailable: {}", e.toString());
      }
      return jdk();
    }
  }

  static Provider jdk() {
    Provider p = Security.getProvider("SunRsaSign");
    if (p == null) {
      throw new IllegalStateException("the JDK has no SunRsaSign provider");
    }
    return p;
  }
}
