package dev.signet.smtp;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Keys made once per test JVM: the DKIM key of example.com and a self-signed TLS certificate. */
final class TestPki {
  static final KeyPair DKIM = generate();
  static final KeyPair TLS_KEY = generate();
  static final X509Certificate CERTIFICATE = selfSigned(TLS_KEY);

  private TestPki() {}

  private static KeyPair generate() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static X509Certificate selfSigned(KeyPair key) {
    try {
      X500Name name = new X500Name("CN=relay.test");
      long now = System.currentTimeMillis();
      var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now), new Date(now - 60_000),
          new Date(now + 86_400_000L), name, key.getPublic());
      // Clients check the name they connected to: 127.0.0.1 (Jakarta Mail) or relay.test.
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "relay.test")}));
      return new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(key.getPrivate())));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** keys/example.com/rsa2026.pem, PKCS#8, mode 0600 (KeyRing refuses keys others can read). */
  static Path writeDkimKey(Path keys) throws IOException {
    Path dir = Files.createDirectories(keys.resolve("example.com"));
    Path file = dir.resolve("rsa2026.pem");
    String pem = "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(DKIM.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
    Files.writeString(file, pem);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return keys;
  }

  /** The TXT record a verifier finds at rsa2026._domainkey.example.com. */
  static String dkimRecord() {
    return "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(DKIM.getPublic().getEncoded());
  }

  static void writeTls(Path certificate, Path key) throws IOException {
    Files.writeString(certificate, pem(CERTIFICATE));
    Files.writeString(key, pem(TLS_KEY.getPrivate()));
  }

  private static String pem(Object o) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** A client socket factory that trusts exactly the test certificate. */
  static SSLSocketFactory clientFactory() {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("relay", CERTIFICATE);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context.getSocketFactory();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
