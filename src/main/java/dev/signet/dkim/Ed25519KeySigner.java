package dev.signet.dkim;

import java.io.IOException;
import java.security.PrivateKey;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;

/**
 * ed25519-sha256 (RFC 8463 §3): PureEdDSA (Ed25519, RFC 8032) over the SHA-256 hash of the
 * canonical header data, i.e. Ed25519 signs 32 bytes. BouncyCastle's lightweight signer: about
 * 20 times the JDK's rate (docs/ARCHITECTURE.md, "Signing providers").
 */
final class Ed25519KeySigner implements KeySigner {
  /** Parsed once per key: the parameters cache the public point that every signature needs. */
  private final Map<PrivateKey, Ed25519PrivateKeyParameters> keys = new ConcurrentHashMap<>();

  @Override
  public byte[] sign(SigningKey key, byte[] data) throws DkimException {
    Ed25519PrivateKeyParameters params = keys.get(key.privateKey());
    if (params == null) {
      params = parameters(key);
      keys.put(key.privateKey(), params);
    }
    byte[] hash = BodyHash.sha256().digest(data); // RFC 8463 §3: sign the SHA-256 hash
    Ed25519Signer signer = new Ed25519Signer();
    signer.init(true, params);
    signer.update(hash, 0, hash.length);
    return signer.generateSignature();
  }

  static Ed25519PrivateKeyParameters parameters(SigningKey key) throws DkimException {
    try {
      AsymmetricKeyParameter p = PrivateKeyFactory.createKey(key.privateKey().getEncoded());
      if (p instanceof Ed25519PrivateKeyParameters ed) {
        return ed;
      }
      throw new DkimException(451, "4.3.5", key.file() + ": not an Ed25519 private key");
    } catch (IOException | RuntimeException e) {
      throw new DkimException(451, "4.3.5", key.file() + ": unreadable Ed25519 private key: " + e, e);
    }
  }

  @Override
  public String provider() {
    return "BouncyCastle lightweight Ed25519";
  }
}
