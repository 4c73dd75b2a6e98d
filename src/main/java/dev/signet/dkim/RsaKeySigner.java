package dev.signet.dkim;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.util.Queue;
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
  /**
   * Per key (by identity: a PrivateKey's equals and hashCode go through its encoding; a reloaded
   * key is a new object): initialised Signature objects not in use. A message borrows one and
   * returns it, so neither the provider look-up nor initSign is paid per message, whichever
   * thread signs (the relay runs one virtual thread per SMTP session). The pool per key grows to
   * the number of concurrent signings at most.
   */
  private final KeyedPools<IdentityKey, Signature> idle = new KeyedPools<>();

  private record IdentityKey(PrivateKey key) {
    @Override
    public boolean equals(Object o) {
      return o instanceof IdentityKey other && other.key == key;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(key);
    }
  }

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
    Queue<Signature> pool = pool(key.privateKey());
    try {
      Signature signature = pool.poll();
      if (signature == null) {
        signature = Signature.getInstance("SHA256withRSA", provider);
        signature.initSign(translate(key.privateKey()));
      }
      signature.update(data);
      byte[] b = signature.sign();
      pool.offer(signature); // sign() reset it to the state after initSign; after a failure it is dropped
      return b;
    } catch (GeneralSecurityException e) {
      throw new DkimException(451, "4.3.0", "RSA signing with " + key.describe() + " failed: " + e, e);
    }
  }

  private Queue<Signature> pool(PrivateKey key) {
    return idle.of(new IdentityKey(key));
  }

  /** The key in the provider's own form (ACCP otherwise converts it on every signature). */
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
