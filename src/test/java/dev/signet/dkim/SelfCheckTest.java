package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.metrics.Metrics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every signature is verified with the public key right after signing; a bad one never leaves. */
class SelfCheckTest {
  @TempDir static Path keysDir;
  static SigningKey rsa;
  static SigningKey ed25519;
  static Fixtures.Message message;

  @BeforeAll
  static void setUp() throws Exception {
    KeyRing ring = Fixtures.exampleKeys(keysDir);
    rsa = Fixtures.key(ring, "rsa2048");
    ed25519 = Fixtures.key(ring, "ed25519");
    message = Fixtures.Message.parse(Fixtures.crlf(new String(Fixtures.resource("dkim/message.eml"), StandardCharsets.UTF_8)));
  }

  /** The same private key with somebody else's public key: what a signing bug looks like from outside. */
  private static SigningKey withPublicKey(SigningKey key, PublicKey other) {
    return new SigningKey(key.domain(), key.selector(), key.algorithm(), key.privateKey(), other, key.file());
  }

  private static double selfCheckFailures(Metrics metrics) {
    return metrics.registry().get("signet.signature.selfcheck.failures").counter().count();
  }

  @Test
  void rsaSignatureThatDoesNotVerifyRefusesTheMessageWith451AndIsCounted() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    Metrics metrics = new Metrics();
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed"), Clock.systemUTC(), metrics.signing());
    SigningKey broken = withPublicKey(rsa, g.generateKeyPair().getPublic());
    DkimException e = assertThrows(DkimException.class, () -> SignerTest.sign(signer, message, List.of(broken)));
    assertEquals(451, e.replyCode());
    assertEquals("4.7.5", e.enhancedCode());
    assertTrue(e.getMessage().contains("s=rsa2048"), e.getMessage());
    assertEquals(1.0, selfCheckFailures(metrics));
  }

  @Test
  void ed25519SignatureThatDoesNotVerifyRefusesTheWholeMessage() throws Exception {
    PublicKey other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic();
    Metrics metrics = new Metrics();
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed"), Clock.systemUTC(), metrics.signing());
    // The RSA signature is good, the Ed25519 one is not: no partial set of signatures goes out.
    DkimException e = assertThrows(DkimException.class,
        () -> SignerTest.sign(signer, message, List.of(rsa, withPublicKey(ed25519, other))));
    assertEquals("451 4.7.5", e.replyCode() + " " + e.enhancedCode());
    assertEquals(1.0, selfCheckFailures(metrics));
  }

  @Test
  void goodSignaturesPassTheCheckAndSigningTimeIsRecordedOncePerMessage() throws Exception {
    Metrics metrics = new Metrics();
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed"), Clock.systemUTC(), metrics.signing());
    assertEquals(2, SignerTest.sign(signer, message, List.of(rsa, ed25519)).size());
    assertEquals(2, SignerTest.sign(signer, message, List.of(rsa)).size() + 1);
    assertEquals(0.0, selfCheckFailures(metrics));
    assertEquals(2, metrics.signingTime().count());
  }

  @Test
  void aFlippedBitFailsVerificationForBothAlgorithms() throws Exception {
    SelfCheck check = new SelfCheck(RsaKeySigner.preferredProvider());
    byte[] data = "from:a@example.com\r\n".getBytes(StandardCharsets.US_ASCII);
    for (SigningKey key : List.of(rsa, ed25519)) {
      KeySigner signer = key.algorithm() == SigningKey.Algorithm.RSA_SHA256
          ? new RsaKeySigner(RsaKeySigner.preferredProvider()) : new Ed25519KeySigner();
      byte[] signature = signer.sign(key, data);
      assertTrue(check.verifies(key, data, signature), key.describe());
      signature[signature.length / 2] ^= 1;
      assertFalse(check.verifies(key, data, signature), key.describe());
      signature[signature.length / 2] ^= 1;
      data[0] ^= 1;
      assertFalse(check.verifies(key, data, signature), "changed data, " + key.describe());
      data[0] ^= 1;
    }
  }

  /**
   * RSA verifiers are pooled and reused: a failed check (a bad signature, or one of the wrong length,
   * which the provider rejects with an exception) must not leave state behind for the next message,
   * also with several threads checking at once.
   */
  @Test
  void pooledRsaVerifiersGiveTheRightAnswerAfterFailuresAndAcrossThreads() throws Exception {
    SelfCheck check = new SelfCheck(RsaKeySigner.preferredProvider());
    KeySigner signer = new RsaKeySigner(RsaKeySigner.preferredProvider());
    byte[] data = "from:a@example.com\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] good = signer.sign(rsa, data);
    byte[] bad = good.clone();
    bad[7] ^= 1;
    byte[] shortened = java.util.Arrays.copyOf(good, good.length - 1);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<String>> results = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(pool.submit(() -> {
          for (int i = 0; i < 200; i++) {
            byte[][] order = {good, bad, good, shortened, good};
            boolean[] expected = {true, false, true, false, true};
            for (int k = 0; k < order.length; k++) {
              if (check.verifies(rsa, data, order[k]) != expected[k]) {
                return "round " + i + ", check " + k + ": expected " + expected[k];
              }
            }
          }
          return "ok";
        }));
      }
      for (java.util.concurrent.Future<String> r : results) {
        assertEquals("ok", r.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A signing provider whose own verifier accepts what it should not (here: everything) is caught by
   * the JDK's independent check on a key's first signature and on every INDEPENDENT_EVERY-th after.
   */
  @Test
  void theJdkCatchesAProviderThatAcceptsItsOwnBadSignatures() throws Exception {
    SelfCheck check = new SelfCheck(new AcceptsEverything());
    byte[] data = "from:a@example.com\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] good = new RsaKeySigner(RsaKeySigner.jdk()).sign(rsa, data);
    byte[] bad = good.clone();
    bad[7] ^= 1;
    assertFalse(check.verifies(rsa, data, bad), "first signature of the key: checked by the JDK");
    int refused = 0;
    for (int i = 1; i <= SelfCheck.INDEPENDENT_EVERY; i++) {
      refused += check.verifies(rsa, data, bad) ? 0 : 1;
    }
    assertEquals(1, refused, "one in " + SelfCheck.INDEPENDENT_EVERY + " goes to the JDK too");
    assertTrue(check.verifies(rsa, data, good));
    assertTrue(check.describe().contains("AcceptsEverything verify, SunRsaSign on 1 in"), check.describe());
  }

  /** RFC 8017 §8.2.1: a signature is exactly as long as the modulus, whatever the provider says. */
  @Test
  void aSignatureOfTheWrongLengthIsRefusedBeforeAnyProviderSeesIt() throws Exception {
    byte[] data = "from:a@example.com\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] good = new RsaKeySigner(RsaKeySigner.jdk()).sign(rsa, data);
    SelfCheck lenient = new SelfCheck(new AcceptsEverything());
    assertTrue(lenient.verifies(rsa, data, good)); // the key's first signature, good: both agree
    assertFalse(lenient.verifies(rsa, data, java.util.Arrays.copyOf(good, good.length - 1)));
    assertFalse(lenient.verifies(rsa, data, java.util.Arrays.copyOf(good, good.length + 1)));
    SelfCheck jdkOnly = new SelfCheck(RsaKeySigner.jdk());
    assertEquals("SunRsaSign verify", jdkOnly.describe());
    assertTrue(jdkOnly.verifies(rsa, data, good));
    assertFalse(jdkOnly.verifies(rsa, data, java.util.Arrays.copyOf(good, good.length - 1)));
  }

  /** A deliberately faulty provider: its SHA256withRSA verifier accepts every signature. */
  private static final class AcceptsEverything extends java.security.Provider {
    AcceptsEverything() {
      super("AcceptsEverything", "1", "test: a verifier that accepts every signature");
      putService(new Service(this, "Signature", "SHA256withRSA", "AcceptsEverything", null, null) {
        @Override
        public Object newInstance(Object parameter) {
          return new java.security.SignatureSpi() {
            @Override
            protected void engineInitVerify(PublicKey key) {}

            @Override
            protected void engineInitSign(java.security.PrivateKey key) {
              throw new UnsupportedOperationException();
            }

            @Override
            protected void engineUpdate(byte b) {}

            @Override
            protected void engineUpdate(byte[] b, int off, int len) {}

            @Override
            protected byte[] engineSign() {
              throw new UnsupportedOperationException();
            }

            @Override
            protected boolean engineVerify(byte[] signature) {
              return true;
            }

            @Override
            @Deprecated
            protected void engineSetParameter(String param, Object value) {}

            @Override
            @Deprecated
            protected Object engineGetParameter(String param) {
              return null;
            }
          };
        }
      });
    }
  }

  /**
   * The cost of the check, printed for the record (not a benchmark: no warm-up control, shared
   * cores). Asserts only that every one of the N verifies passed.
   */
  @Test
  void verifyCostIsSmallNextToSigning() throws Exception {
    byte[] data = new byte[600];
    java.util.Arrays.fill(data, (byte) 'a');
    SelfCheck check = new SelfCheck(RsaKeySigner.preferredProvider());
    for (SigningKey key : List.of(rsa, ed25519)) {
      KeySigner signer = key.algorithm() == SigningKey.Algorithm.RSA_SHA256
          ? new RsaKeySigner(RsaKeySigner.preferredProvider()) : new Ed25519KeySigner();
      byte[] signature = signer.sign(key, data);
      int n = 500;
      for (int i = 0; i < n / 4; i++) { // warm-up
        signer.sign(key, data);
        assertTrue(check.verifies(key, data, signature));
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        signer.sign(key, data);
      }
      long t1 = System.nanoTime();
      int ok = 0;
      for (int i = 0; i < n; i++) {
        ok += check.verifies(key, data, signature) ? 1 : 0;
      }
      long t2 = System.nanoTime();
      assertEquals(n, ok);
      System.out.printf("self-check cost %s: sign %.1f us, verify %.1f us per signature (%d each)%n",
          key.algorithm().tag(), (t1 - t0) / 1e3 / n, (t2 - t1) / 1e3 / n, n);
    }
  }
}
