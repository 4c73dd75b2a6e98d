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

  /** Whether {@link #blocks} runs: only where packing bytes is one instruction (see {@link #packsFast}). */
  private final boolean blocks;

  VectorScan() {
    this(packsFast() && Boolean.parseBoolean(System.getProperty("signet.simd.blocks", "true")));
  }

  /** With {@code blocks} forced: tests run the block path on any hardware (slowly where it is emulated). */
  VectorScan(boolean blocks) {
    if (SPECIES.vectorBitSize() < 128) {
      throw new UnsupportedOperationException(SPECIES.vectorBitSize() + "-bit vectors are too narrow to pay off");
    }
    this.blocks = blocks;
  }

  /**
   * True where {@code ByteVector.compress} compiles to one instruction: 512-bit vectors on x86-64
   * with AVX512_VBMI2 (VPCOMPRESSB; Ice Lake and Zen 4 on). Elsewhere the JDK emulates it lane by
   * lane, seven times slower than the run scan (1.8 against 0.25 ns/byte with -XX:UseAVX=2), so the block
   * path stays off there.
   * The JDK does not expose its CPU features; Linux lists them in /proc/cpuinfo.
   */
  static boolean packsFast() {
    if (SPECIES.vectorBitSize() != 512 || !System.getProperty("os.arch", "").equals("amd64")) {
      return false;
    }
    try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
      return lines.filter(line -> line.startsWith("flags")).findFirst()
          .map(flags -> java.util.Arrays.asList(flags.split("\\s+")).contains("avx512_vbmi2"))
          .orElse(false);
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return false;
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

  /** The block path works on bit masks of one vector: at most 64 lanes. */
  private static final VectorSpecies<Byte> BLOCK_SPECIES =
      SPECIES.length() <= Long.SIZE ? SPECIES : ByteVector.SPECIES_512;
  private static final int LANES = BLOCK_SPECIES.length();

  /**
   * Vector after vector as bit masks (bit i = byte j + i), decided by bit arithmetic: a WSP byte is
   * dropped when the byte before it is WSP (it is not the first of its run) or when its run reaches
   * a CR (trailing WSP, §3.4.4 a); a HTAB that stays becomes SP (§3.4.4 b); all else stays. The
   * kept bytes are packed together by one compress of the vector.
   */
  @Override
  public long blocks(byte[] b, int j, int end, byte[] out, int at, int outEnd) {
    if (!blocks) {
      return 0;
    }
    int from = j;
    int to = at;
    while (from + LANES <= end && to + LANES <= outEnd) {
      ByteVector v = ByteVector.fromArray(BLOCK_SPECIES, b, from);
      VectorMask<Byte> tabs = v.eq(HTAB);
      long wsp = v.eq(SP).toLong() | tabs.toLong();
      long cr = v.eq(CR).toLong();
      long lf = v.eq(LF).toLong();
      int cut = LANES;
      long valid = -1L >>> (Long.SIZE - LANES);
      // The block ends with its last plain byte. Mostly that is its last byte: looked at on its own,
      // so the next block's load need not wait for this block's masks.
      if (!RelaxedBody.plainNotLf(b[from + LANES - 1])) {
        long plain = ~(wsp | cr | lf) & valid;
        if (plain == 0) {
          break;
        }
        cut = Long.SIZE - Long.numberOfLeadingZeros(plain);
        valid = -1L >>> (Long.SIZE - cut);
        wsp &= valid;
        cr &= valid;
        lf &= valid;
      }
      if ((lf ^ (cr << 1)) != 0) {
        break; // a CR without its LF or a LF without its CR: the byte-at-a-time path knows those
      }
      long drop = wsp & ((wsp << 1) | trailing(wsp, cr, cut)); // b[from - 1] is no WSP: no run comes in
      if (drop == 0) {
        v.blend((byte) SP, tabs).intoArray(out, to);
        to += cut;
      } else {
        long kept = ~drop & valid;
        v.blend((byte) SP, tabs).compress(VectorMask.fromLong(BLOCK_SPECIES, kept)).intoArray(out, to);
        to += Long.bitCount(kept);
      }
      from += cut;
    }
    return (long) (from - j) << 32 | (to - at);
  }

  /**
   * The WSP bytes whose run reaches a CR: from each WSP just before a CR, spread down through its
   * run; the spans double each step (runs of up to 64 bytes in six steps).
   */
  private static long trailing(long wsp, long cr, int cut) {
    long trailing = wsp & (cr >>> 1);
    if (trailing != 0) {
      long span = wsp;
      for (int k = 1; k < cut; k <<= 1) {
        trailing |= span & (trailing >>> k);
        span &= span >>> k;
      }
    }
    return trailing;
  }

  @Override
  public String toString() {
    return SPECIES.vectorBitSize() + "-bit vectors" + (blocks ? ", whole blocks packed by compress" : "");
  }
}
