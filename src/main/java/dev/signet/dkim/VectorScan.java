package dev.signet.dkim;

import static dev.signet.dkim.BodyCanonicalizer.CR;
import static dev.signet.dkim.BodyCanonicalizer.HTAB;
import static dev.signet.dkim.BodyCanonicalizer.LF;
import static dev.signet.dkim.BodyCanonicalizer.SP;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RelaxedScan} with SIMD (the JDK's incubating Vector API): a whole vector of bytes (32 with
 * AVX2) per step, each byte checked with the two after it, loaded as the same vector one and two
 * bytes further on. Only loaded through {@link RelaxedScan#simd}, when the module is present.
 */
final class VectorScan implements RelaxedScan {
  private static final VectorSpecies<Byte> SPECIES = ByteVector.SPECIES_PREFERRED;

  VectorScan() {
    if (SPECIES.vectorBitSize() < 128) {
      throw new UnsupportedOperationException(SPECIES.vectorBitSize() + "-bit vectors are too narrow to pay off");
    }
  }

  @Override
  public int runEnd(byte[] b, int j, int end) {
    int step = SPECIES.length();
    // The look-ahead reads up to two bytes past the vector: stay two short of end.
    for (; j + step + 2 <= end; j += step) {
      ByteVector v0 = ByteVector.fromArray(SPECIES, b, j);
      ByteVector v1 = ByteVector.fromArray(SPECIES, b, j + 1);
      ByteVector v2 = ByteVector.fromArray(SPECIES, b, j + 2);
      VectorMask<Byte> special1 = v1.eq(SP).or(v1.eq(HTAB)).or(v1.eq(CR));
      VectorMask<Byte> special2 = v2.eq(SP).or(v2.eq(HTAB)).or(v2.eq(CR));
      // Not canonical as it stands: a HTAB; a SP before SP, HTAB or CR; a CR not starting CRLF + plain byte.
      VectorMask<Byte> dirty = v0.eq(HTAB)
          .or(v0.eq(SP).and(special1))
          .or(v0.eq(CR).and(v1.eq(LF).not().or(special2)));
      if (dirty.anyTrue()) {
        return j + dirty.firstTrue();
      }
    }
    return RelaxedBody.scalarRunEnd(b, j, end);
  }

  @Override
  public String toString() {
    return SPECIES.vectorBitSize() + "-bit vectors";
  }
}
