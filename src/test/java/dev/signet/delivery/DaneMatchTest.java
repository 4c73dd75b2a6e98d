package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.signet.testkit.TestCa;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 6698 §2.1 selectors and matching types, RFC 7672 §3.1 usages, against certificates from a test CA. */
class DaneMatchTest {

  private static final TestCa CA = TestCa.create("Match Root");
  private static final TestCa.Leaf LEAF = CA.issue("mx.example.test");
  private static final X509Certificate[] CHAIN = {LEAF.certificate(), CA.root()};

  private static String hex(String algorithm, byte[] data) throws Exception {
    return HexFormat.of().formatHex(algorithm == null ? data : MessageDigest.getInstance(algorithm).digest(data));
  }

  @Test
  void daneEeMatchesEverySelectorAndMatchingType() throws Exception {
    byte[] cert = LEAF.certificate().getEncoded();
    byte[] spki = LEAF.certificate().getPublicKey().getEncoded();
    for (var t : List.of(new Dane.Tlsa(3, 0, 0, hex(null, cert)), new Dane.Tlsa(3, 0, 1, hex("SHA-256", cert)),
        new Dane.Tlsa(3, 0, 2, hex("SHA-512", cert)), new Dane.Tlsa(3, 1, 0, hex(null, spki)),
        new Dane.Tlsa(3, 1, 1, hex("SHA-256", spki)), new Dane.Tlsa(3, 1, 2, hex("SHA-512", spki)))) {
      assertDoesNotThrow(() -> Dane.check(CHAIN, "any.name.test", List.of(t)), t.toString());
    }
  }

  @Test
  void daneEeIgnoresExpiry() throws Exception {
    Instant now = Instant.now();
    TestCa.Leaf expired = CA.issue(now.minus(Duration.ofDays(9)), now.minus(Duration.ofDays(2)), "mx.example.test");
    var t = new Dane.Tlsa(3, 1, 1, hex("SHA-256", expired.certificate().getPublicKey().getEncoded()));
    assertDoesNotThrow(() -> Dane.check(new X509Certificate[] {expired.certificate()}, "mx.example.test", List.of(t)));
  }

  @Test
  void daneTaNeedsTheNameAndAValidLeaf() throws Exception {
    var ta = new Dane.Tlsa(2, 1, 1, hex("SHA-256", CA.root().getPublicKey().getEncoded()));
    assertDoesNotThrow(() -> Dane.check(CHAIN, "mx.example.test", List.of(ta)));
    assertThrows(CertificateException.class, () -> Dane.check(CHAIN, "other.example.test", List.of(ta)));
    Instant now = Instant.now();
    TestCa.Leaf expired = CA.issue(now.minus(Duration.ofDays(9)), now.minus(Duration.ofDays(2)), "mx.example.test");
    assertThrows(CertificateException.class,
        () -> Dane.check(new X509Certificate[] {expired.certificate(), CA.root()}, "mx.example.test", List.of(ta)));
  }

  @Test
  void daneTaRefusesALeafTheAnchorDidNotSign() throws Exception {
    TestCa other = TestCa.create("Other Root");
    var ta = new Dane.Tlsa(2, 0, 1, hex("SHA-256", CA.root().getEncoded()));
    // The other CA's leaf presented with our root appended: the root matches, but did not sign the leaf.
    X509Certificate[] forged = {other.issue("mx.example.test").certificate(), CA.root()};
    assertThrows(CertificateException.class, () -> Dane.check(forged, "mx.example.test", List.of(ta)));
  }

  @Test
  void aMismatchIsRefused() throws Exception {
    var t = new Dane.Tlsa(3, 1, 1, hex("SHA-256", new byte[] {1}));
    assertThrows(CertificateException.class, () -> Dane.check(CHAIN, "mx.example.test", List.of(t)));
  }
}
