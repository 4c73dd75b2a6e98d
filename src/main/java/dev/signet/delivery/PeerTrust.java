package dev.signet.delivery;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The roots that authenticate TLS peers by name (WebPKI): the JDK's, plus the PEM roots of
 * {@code delivery.ca-file}. Used for MX hosts under a {@code verify} level or an MTA-STS policy in
 * enforce mode (RFC 8461 §4.2), and for the HTTPS fetch of MTA-STS policies (§3.3).
 *
 * <p>Verified sessions are TLS 1.2 or later, send the host name as SNI (RFC 6066 §3) and check the
 * certificate against that name (RFC 6125 DNS-ID, a wildcard only as the whole leftmost label) in the
 * handshake, so no byte of SMTP passes over a connection that fails.
 */
final class PeerTrust {


  /** Why a peer's certificate was not accepted, in RFC 8460 §4.3.2.1 result-type terms. */
  record Failure(String resultType, String detail) {}

  private final X509TrustManager trust;
  private final SSLContext context;

  private PeerTrust(X509TrustManager trust, SSLContext context) {
    this.trust = trust;
    this.context = context;
  }

  /** The JDK's roots only. */
  /** For HTTPS clients (TLS reports): the JDK's roots plus delivery.ca-file; host names checked by the client. */
  SSLContext context() {
    return context;
  }

  static PeerTrust jdk() {
    try {
      return of(List.of());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no TLS trust in this JVM", e);
    }
  }

  /** The JDK's roots plus every certificate in {@code caFile} (PEM). */
  static PeerTrust load(Optional<Path> caFile) throws IOException {
    if (caFile.isEmpty()) {
      return jdk();
    }
    Collection<? extends Certificate> extra;
    try (InputStream in = Files.newInputStream(caFile.get())) {
      extra = CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException(caFile.get() + ": no such file", e);
    } catch (CertificateException e) {
      throw new IOException(caFile.get() + ": not PEM certificates: " + e.getMessage(), e);
    }
    if (extra.isEmpty()) {
      throw new IOException(caFile.get() + ": no certificate in the file");
    }
    try {
      return of(extra);
    } catch (GeneralSecurityException e) {
      throw new IOException(caFile.get() + ": " + e.getMessage(), e);
    }
  }

  private static PeerTrust of(Collection<? extends Certificate> extra) throws GeneralSecurityException {
    TrustManagerFactory jdk = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    jdk.init((KeyStore) null);
    KeyStore anchors = KeyStore.getInstance("PKCS12");
    try {
      anchors.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    int n = 0;
    for (TrustManager m : jdk.getTrustManagers()) {
      if (m instanceof X509TrustManager x) {
        for (X509Certificate c : x.getAcceptedIssuers()) {
          anchors.setCertificateEntry("jdk-" + n++, c);
        }
      }
    }
    for (Certificate c : extra) {
      anchors.setCertificateEntry("extra-" + n++, c);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(anchors);
    X509TrustManager trust = Arrays.stream(tmf.getTrustManagers()).filter(m -> m instanceof X509TrustManager)
        .map(m -> (X509TrustManager) m).findFirst().orElseThrow();
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {trust}, null);
    return new PeerTrust(trust, context);
  }

  /**
   * Layers TLS over a connected socket and authenticates the peer as {@code name} in the handshake:
   * chain to a trusted root, valid now, DNS-ID matching {@code name}.
   */
  SSLSocketFactory verifying(String name) {
    SSLSocketFactory base = context.getSocketFactory();
    return new LayeredTls(base, name, true, "verified");
  }

  /**
   * Checks after the fact what {@link #verifying} checks in the handshake, for sessions that were not
   * verified (an MTA-STS policy in testing mode: deliver anyway, report what would have failed).
   */
  Optional<Failure> check(SSLSession session, String name) {
    if (!session.getProtocol().equals("TLSv1.3") && !session.getProtocol().equals("TLSv1.2")) {
      return Optional.of(new Failure("validation-failure", "TLS version " + session.getProtocol() + " is below 1.2"));
    }
    X509Certificate[] chain;
    try {
      chain = Arrays.stream(session.getPeerCertificates()).map(c -> (X509Certificate) c)
          .toArray(X509Certificate[]::new);
    } catch (SSLPeerUnverifiedException e) {
      return Optional.of(new Failure("validation-failure", "no peer certificate"));
    }
    try {
      trust.checkServerTrusted(chain, "UNKNOWN");
    } catch (CertificateException e) {
      return Optional.of(classify(e));
    }
    if (!matches(chain[0], name)) {
      return Optional.of(new Failure("certificate-host-mismatch", "certificate does not name " + name));
    }
    return Optional.empty();
  }

  /** The RFC 8460 result type of a failed handshake or check, from its cause chain. */
  static Failure classify(Throwable e) {
    String detail = SmtpConnection.cause(e);
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException) {
        return new Failure("certificate-expired", detail);
      }
      String m = String.valueOf(t.getMessage());
      if (m.startsWith("No subject alternative") || m.startsWith("No name matching")) {
        return new Failure("certificate-host-mismatch", detail);
      }
      if (t instanceof java.security.cert.CertPathBuilderException) {
        return new Failure("certificate-not-trusted", detail); // no path to a trusted root
      }
    }
    return new Failure("validation-failure", detail);
  }

  /** RFC 6125 §6.4: DNS-IDs of the certificate against {@code name}; "*" only as the whole leftmost label. */
  static boolean matches(X509Certificate certificate, String name) {
    String host = name.toLowerCase(Locale.ROOT);
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names == null) {
        return false;
      }
      for (List<?> entry : names) {
        if (((Integer) entry.get(0)) == 2 && matchesPattern(String.valueOf(entry.get(1)), host)) {
          return true;
        }
      }
    } catch (CertificateParsingException e) {
      return false;
    }
    return false;
  }

  /** {@code pattern} is a host name or "*." + a host name (the star = exactly one label). */
  static boolean matchesPattern(String pattern, String host) {
    String p = pattern.toLowerCase(Locale.ROOT);
    if (p.endsWith(".")) {
      p = p.substring(0, p.length() - 1);
    }
    if (p.startsWith("*.")) {
      int dot = host.indexOf('.');
      return dot > 0 && host.substring(dot + 1).equals(p.substring(2));
    }
    return p.equals(host);
  }
}
