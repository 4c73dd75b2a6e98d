package dev.signet.testkit;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A private certificate authority for tests: a root (P-256) that issues server certificates for
 * chosen DNS names and validity windows. Clients trust it through its PEM file (as an operator adds
 * roots with a CA file) or through {@link #trustingContext}.
 *
 * <pre>
 * TestCa ca = TestCa.create("Test Root");
 * TestCa.Leaf good = ca.issue("mx1.dest.test");
 * TestCa.Leaf expired = ca.issue(Instant.now().minus(Duration.ofDays(10)), Instant.now().minus(Duration.ofDays(1)), "mx1.dest.test");
 * </pre>
 */
public final class TestCa {

  /** A certificate issued by the CA, with its key: what a server presents. */
  public record Leaf(X509Certificate certificate, PrivateKey key, X509Certificate root) {

    /**
     * Writes the chain (this certificate, then the root) and the key as PEM, the key in PKCS#8 as
     * {@code openssl genpkey} writes it: a server's tls.certificate and tls.key.
     */
    public void writePem(Path chain, Path keyFile) throws IOException {
      Files.writeString(chain, pem(certificate) + pem(root));
      Files.writeString(keyFile, "-----BEGIN PRIVATE KEY-----\n"
          + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded())
          + "\n-----END PRIVATE KEY-----\n");
    }

    /** A server-side TLS context presenting this certificate (and the root after it). */
    public SSLContext serverContext() {
      try {
        char[] password = "test".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", key, password, new X509Certificate[] {certificate, root});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        return context;
      } catch (GeneralSecurityException | IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  private final KeyPair key;
  private final X509Certificate root;
  private final X500Name name;

  private TestCa(KeyPair key, X509Certificate root, X500Name name) {
    this.key = key;
    this.root = root;
    this.name = name;
  }

  /** A new root named {@code CN=commonName}, valid from an hour ago for ten years. */
  public static TestCa create(String commonName) {
    try {
      KeyPair key = generate();
      X500Name name = new X500Name("CN=" + commonName);
      Instant now = Instant.now();
      var builder = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minus(Duration.ofHours(1))),
          Date.from(now.plus(Duration.ofDays(3650))), name, key.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate root = new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
      return new TestCa(key, root, name);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public X509Certificate root() {
    return root;
  }

  /** A server certificate for {@code dnsNames} (IP literals allowed), valid from an hour ago for a day. */
  public Leaf issue(String... dnsNames) {
    Instant now = Instant.now();
    return issue(now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)), dnsNames);
  }

  /** A server certificate for {@code dnsNames} valid in [notBefore, notAfter] (in the past = expired). */
  public Leaf issue(Instant notBefore, Instant notAfter, String... dnsNames) {
    try {
      KeyPair leafKey = generate();
      GeneralName[] names = new GeneralName[dnsNames.length];
      for (int i = 0; i < dnsNames.length; i++) {
        // An IP literal (a client that connects to 127.0.0.1 checks for it) goes in as an iPAddress name.
        boolean ip = dnsNames[i].matches("[0-9.]+") || dnsNames[i].contains(":");
        names[i] = new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, dnsNames[i]);
      }
      var builder = new JcaX509v3CertificateBuilder(name, serial(), Date.from(notBefore), Date.from(notAfter),
          new X500Name("CN=" + dnsNames[0]), leafKey.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
      return new Leaf(certificate, leafKey.getPrivate(), root);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the root as PEM to {@code file} (what an operator puts in a CA file). */
  public Path writeRootPem(Path file) throws IOException {
    Files.writeString(file, pem(root));
    return file;
  }

  /** A client context that trusts this root only. */
  public SSLContext trustingContext() {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("root", root);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** PEM text of a certificate or key. */
  public static String pem(Object o) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIAL.incrementAndGet());
  }

  private static KeyPair generate() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }
}
