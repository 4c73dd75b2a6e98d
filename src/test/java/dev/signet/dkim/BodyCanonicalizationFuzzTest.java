package dev.signet.dkim;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.signet.dkim.Canonicalization.Canon;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Fuzz target for body canonicalization (RFC 6376 §3.4.3, §3.4.4): simple and relaxed are
 * idempotent (c(c(x)) == c(x), as "canonical form" implies), the body hash does not depend on how
 * the body is cut into writes, and relaxed gives the same bytes with each scan (eight-byte, SIMD
 * with and without its block path). Any exception is a finding: it takes any bytes. One fuzz target per
 * class: Jazzer fuzzes one per JVM, and .ci/fuzz.sh forks a JVM per class.
 */
class BodyCanonicalizationFuzzTest {

  private static byte[] body(Canon canon, byte[] in) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BodyCanonicalizer c = BodyCanonicalizer.of(canon, out::write);
    c.write(in, 0, in.length);
    c.finish();
    return out.toByteArray();
  }

  /**
   * The relaxed scans besides the eight-byte one: the SIMD scan with its block path forced on and
   * off, when this JVM has the Vector API module (the build adds it).
   */
  private static final java.util.List<RelaxedScan> SIMD_SCANS = simdScans();

  private static java.util.List<RelaxedScan> simdScans() {
    if (RelaxedScan.simd().isEmpty()) {
      return java.util.List.of();
    }
    try {
      var constructor = Class.forName("dev.signet.dkim.VectorScan").getDeclaredConstructor(boolean.class);
      return java.util.List.of((RelaxedScan) constructor.newInstance(true), (RelaxedScan) constructor.newInstance(false));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] relaxed(RelaxedScan scan, byte[] in) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RelaxedBody c = new RelaxedBody(out::write, scan);
    c.write(in, 0, in.length);
    c.finish();
    return out.toByteArray();
  }

  @FuzzTest(maxDuration = "10s")
  void bodyCanonicalizationIsIdempotentAndTheHashIgnoresChunking(FuzzedDataProvider data) {
    int[] cuts = new int[data.consumeInt(0, 8)];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = data.consumeInt(0, 4096);
    }
    byte[] in = data.consumeRemainingAsBytes();
    byte[] scalar = relaxed(RelaxedScan.SCALAR, in);
    for (RelaxedScan scan : SIMD_SCANS) {
      if (!Arrays.equals(scalar, relaxed(scan, in))) {
        throw new AssertionError("relaxed body canonicalization with the SIMD scan (" + scan + ") differs from the eight-byte scan");
      }
    }
    for (Canon canon : Canon.values()) {
      byte[] once = body(canon, in);
      byte[] twice = body(canon, once);
      if (!Arrays.equals(once, twice)) {
        throw new AssertionError(canon + " body canonicalization is not idempotent");
      }
      BodyHash whole = new BodyHash(canon);
      whole.write(in, 0, in.length);
      whole.close();
      BodyHash pieces = new BodyHash(canon);
      int at = 0;
      for (int cut : cuts) {
        int len = Math.min(cut, in.length - at);
        pieces.write(in, at, len);
        at += len;
      }
      for (; at < in.length; at++) {
        pieces.write(in[at]); // the rest one byte at a time
      }
      pieces.close();
      if (!whole.base64().equals(pieces.base64())) {
        throw new AssertionError(canon + " body hash depends on chunking");
      }
    }
  }
}
