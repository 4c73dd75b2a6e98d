package dev.signet.smtp;

import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The server side of TLS for STARTTLS (RFC 3207) and implicit TLS (RFC 8314): a certificate chain
 * and private key from PEM files, TLS 1.2 and 1.3 only (RFC 8996 retired 1.0 and 1.1), the JDK's
 * default cipher suites (never "all supported", which would include anonymous and NULL suites).
 */
final class Tls {
  private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  private final SSLContext context;
  private final String[] protocols;
  private final String subject;

  private Tls(SSLContext context, String subject) {
    this.context = context;
    this.subject = subject;
    List<String> supported = Arrays.asList(context.getSupportedSSLParameters().getProtocols());
    this.protocols = PROTOCOLS.stream().filter(supported::contains).toArray(String[]::new);
  }

  /** Loads the chain (leaf first, then intermediates) and its key; the message names the file at fault. */
  static Tls load(Path certificateFile, Path keyFile) throws IOException {
    List<X509Certificate> chain = new ArrayList<>();
    JcaX509CertificateConverter certs = new JcaX509CertificateConverter();
    try (Reader in = Files.newBufferedReader(certificateFile); PEMParser pem = new PEMParser(in)) {
      Object o;
      while ((o = pem.readObject()) != null) {
        if (!(o instanceof X509CertificateHolder holder)) {
          throw new IOException(certificateFile + ": expected CERTIFICATE blocks, found " + o.getClass().getSimpleName());
        }
        chain.add(certs.getCertificate(holder));
      }
    } catch (GeneralSecurityException e) {
      throw new IOException(certificateFile + ": " + e.getMessage(), e);
    }
    if (chain.isEmpty()) {
      throw new IOException(certificateFile + ": no PEM certificate in it");
    }
    PrivateKey key;
    try (Reader in = Files.newBufferedReader(keyFile); PEMParser pem = new PEMParser(in)) {
      Object o = pem.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (o instanceof PrivateKeyInfo info) { // BEGIN PRIVATE KEY (PKCS#8)
        key = converter.getPrivateKey(info);
      } else if (o instanceof PEMKeyPair pair) {
        // BEGIN RSA/EC PRIVATE KEY. Only the private part is needed: an EC key written without its
        // public part (openssl ec -no_public; RFC 5915 makes it optional) has none to convert.
        key = converter.getPrivateKey(pair.getPrivateKeyInfo());
      } else {
        throw new IOException(keyFile + ": expected an unencrypted PEM private key, found "
            + (o == null ? "nothing" : o.getClass().getSimpleName()));
      }
    } catch (PEMException e) {
      // BouncyCastle's own message names neither the file nor the cause in plain words
      throw new IOException(keyFile + ": not a readable PEM private key (" + e.getMessage() + ")", e);
    }
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      char[] password = new char[0];
      store.setKeyEntry("signet", key, password, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(store, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), null, null);
      return new Tls(context, chain.get(0).getSubjectX500Principal().getName());
    } catch (GeneralSecurityException e) {
      // e.g. the key does not belong to the certificate's algorithm
      throw new IOException(keyFile + " with " + certificateFile + ": " + e.getMessage(), e);
    }
  }

  String subject() {
    return subject;
  }

  List<String> protocols() {
    return List.of(protocols);
  }

  /** STARTTLS: wraps the accepted plain socket, server mode. */
  SSLSocket wrap(Socket plain) throws IOException {
    InetSocketAddress remote = (InetSocketAddress) plain.getRemoteSocketAddress();
    // getHostString, not getHostName: no reverse DNS lookup on the session thread.
    SSLSocket socket = (SSLSocket) context.getSocketFactory()
        .createSocket(plain, remote.getHostString(), remote.getPort(), true);
    socket.setUseClientMode(false);
    socket.setEnabledProtocols(protocols);
    return socket;
  }
}
