package dev.signet.dkim;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.RSAPublicKeySpec;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/** Private keys in PEM: PKCS#8 ("PRIVATE KEY"), as written by keygen and by openssl genpkey. */
final class PemKeys {
  private PemKeys() {}

  /** A key pair read from a PEM file. Failures are IOExceptions whose message says what is wrong. */
  record Loaded(SigningKey.Algorithm algorithm, PrivateKey privateKey, PublicKey publicKey) {}

  static Loaded read(Path file) throws IOException {
    Object object;
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      object = parser.readObject();
    } catch (IOException | RuntimeException e) {
      throw new IOException("not a PEM private key (" + e.getMessage() + ")", e);
    }
    PrivateKeyInfo info;
    if (object instanceof PrivateKeyInfo pki) {
      info = pki;
    } else if (object instanceof PEMKeyPair pair) { // "RSA PRIVATE KEY" (PKCS#1), accepted as well
      info = pair.getPrivateKeyInfo();
    } else if (object == null) {
      throw new IOException("no PEM private key in the file (expected -----BEGIN PRIVATE KEY-----)");
    } else {
      throw new IOException("expected an unencrypted PKCS#8 private key (-----BEGIN PRIVATE KEY-----), found "
          + object.getClass().getSimpleName());
    }
    try {
      var oid = info.getPrivateKeyAlgorithm().getAlgorithm();
      PrivateKey privateKey = new JcaPEMKeyConverter().getPrivateKey(info);
      if (oid.equals(PKCSObjectIdentifiers.rsaEncryption) && privateKey instanceof RSAPrivateCrtKey rsa) {
        PublicKey publicKey = KeyFactory.getInstance("RSA")
            .generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
        return new Loaded(SigningKey.Algorithm.RSA_SHA256, privateKey, publicKey);
      }
      if (oid.equals(EdECObjectIdentifiers.id_Ed25519)) {
        byte[] seed = org.bouncycastle.asn1.ASN1OctetString.getInstance(info.parsePrivateKey()).getOctets();
        byte[] raw = new Ed25519PrivateKeyParameters(seed, 0).generatePublicKey().getEncoded();
        return new Loaded(SigningKey.Algorithm.ED25519_SHA256, privateKey, ed25519PublicKey(raw));
      }
      throw new IOException("unsupported key type " + oid + "; DKIM keys are RSA or Ed25519");
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IOException("unusable private key (" + e.getMessage() + ")", e);
    }
  }

  static PublicKey ed25519PublicKey(byte[] raw) throws IOException {
    SubjectPublicKeyInfo spki = new SubjectPublicKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), raw);
    return new JcaPEMKeyConverter().getPublicKey(spki);
  }

  /**
   * The raw 32-byte Ed25519 public key (RFC 8032 §5.1.5) inside an X.509 SubjectPublicKeyInfo:
   * what RFC 8463 §4 publishes in p=.
   */
  static byte[] rawEd25519(PublicKey key) {
    return SubjectPublicKeyInfo.getInstance(key.getEncoded()).getPublicKeyData().getBytes();
  }

  /** PKCS#8 PEM text of a private key (RFC 5958; for Ed25519 the RFC 8410 form openssl writes). */
  static String pem(PrivateKeyInfo info) throws IOException {
    StringWriter text = new StringWriter();
    try (PemWriter writer = new PemWriter(text)) {
      writer.writeObject(new PemObject("PRIVATE KEY", info.getEncoded()));
    }
    return text.toString();
  }
}
