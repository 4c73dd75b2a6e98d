package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.TestCa;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.ECPrivateKey;
import java.util.Base64;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tls.key in the forms openssl writes: PKCS#8, and SEC1 "EC PRIVATE KEY" with or without its public part. */
class TlsKeyFileTest {
  @TempDir Path dir;

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  /** The leaf's key as SEC1 (RFC 5915), the curve named, the public key left out if {@code withPublic} is false. */
  private static byte[] sec1(TestCa.Leaf leaf, boolean withPublic) throws IOException {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(leaf.key().getEncoded());
    org.bouncycastle.asn1.sec.ECPrivateKey inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
    ASN1Primitive curve = info.getPrivateKeyAlgorithm().getParameters().toASN1Primitive();
    int bits = ((ECPrivateKey) leaf.key()).getParams().getOrder().bitLength();
    return (withPublic && inner.getPublicKey() != null
        ? new org.bouncycastle.asn1.sec.ECPrivateKey(bits, inner.getKey(), inner.getPublicKey(), curve)
        : new org.bouncycastle.asn1.sec.ECPrivateKey(bits, inner.getKey(), curve)).getEncoded();
  }

  @Test
  void anEcPrivateKeyLoadsWithOrWithoutItsPublicPart() throws Exception {
    TestCa.Leaf leaf = TestCa.create("Test CA").issue("mail.example.com");
    Path chain = dir.resolve("chain.pem");
    leaf.writePem(chain, dir.resolve("pkcs8.pem"));
    assertEquals("CN=mail.example.com", Tls.load(chain, dir.resolve("pkcs8.pem")).subject());
    for (boolean withPublic : new boolean[] {true, false}) {
      Path key = Files.writeString(dir.resolve("sec1-" + withPublic + ".pem"), pem("EC PRIVATE KEY", sec1(leaf, withPublic)));
      assertEquals("CN=mail.example.com", Tls.load(chain, key).subject(), "public part included: " + withPublic);
    }
  }

  @Test
  void anRsaPrivateKeyInPkcs1FormLoads() throws Exception {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    java.security.KeyPair pair = g.generateKeyPair();
    org.bouncycastle.asn1.x500.X500Name name = new org.bouncycastle.asn1.x500.X500Name("CN=rsa.example.com");
    java.time.Instant now = java.time.Instant.now();
    java.security.cert.X509Certificate cert = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
        .getCertificate(new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, java.math.BigInteger.ONE,
            java.util.Date.from(now.minusSeconds(3600)), java.util.Date.from(now.plusSeconds(86400)), name,
            pair.getPublic()).build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withRSA")
            .build(pair.getPrivate())));
    Path chain = Files.writeString(dir.resolve("rsa-chain.pem"), TestCa.pem(cert));
    byte[] pkcs1 = PrivateKeyInfo.getInstance(pair.getPrivate().getEncoded()).parsePrivateKey().toASN1Primitive()
        .getEncoded();
    Path key = Files.writeString(dir.resolve("rsa-key.pem"), pem("RSA PRIVATE KEY", pkcs1));
    assertEquals("CN=rsa.example.com", Tls.load(chain, key).subject());
  }

  @Test
  void aDamagedKeyFileIsNamedInTheError() throws Exception {
    TestCa.Leaf leaf = TestCa.create("Test CA").issue("mail.example.com");
    Path chain = dir.resolve("chain.pem");
    leaf.writePem(chain, dir.resolve("good.pem"));
    Path key = Files.writeString(dir.resolve("damaged.pem"), pem("EC PRIVATE KEY", new byte[] {0x30, 0x03, 0x02, 0x01}));
    IOException e = assertThrows(IOException.class, () -> Tls.load(chain, key));
    assertTrue(e.getMessage().startsWith(key + ": "), e.getMessage());
  }
}
