package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.TestCa;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** RFC 6125 name matching and the RFC 8460 result type of a failed certificate check. */
class PeerTrustTest {

  @Test
  void dnsIdsMatchExactlyOrByOneLeftmostWildcardLabel() {
    TestCa ca = TestCa.create("Names Root");
    var cert = ca.issue("mx1.example.test", "*.pool.example.test").certificate();
    assertTrue(PeerTrust.matches(cert, "MX1.example.test"));
    assertTrue(PeerTrust.matches(cert, "a.pool.example.test"));
    assertFalse(PeerTrust.matches(cert, "pool.example.test"));
    assertFalse(PeerTrust.matches(cert, "a.b.pool.example.test"));
    assertFalse(PeerTrust.matches(cert, "mx2.example.test"));
  }

  @Test
  void handshakeFailuresMapToRfc8460ResultTypes() {
    assertEquals("certificate-expired", PeerTrust.classify(wrapped(new CertificateExpiredException("expired"))).resultType());
    assertEquals("certificate-host-mismatch", PeerTrust.classify(
        wrapped(new CertificateException("No subject alternative DNS name matching mx found."))).resultType());
    assertEquals("certificate-not-trusted", PeerTrust.classify(
        wrapped(new CertPathBuilderException("unable to find valid certification path"))).resultType());
    assertEquals("validation-failure", PeerTrust.classify(wrapped(new CertificateException("other"))).resultType());
  }

  private static SSLHandshakeException wrapped(Exception cause) {
    SSLHandshakeException e = new SSLHandshakeException("handshake failed");
    e.initCause(cause);
    return e;
  }
}
