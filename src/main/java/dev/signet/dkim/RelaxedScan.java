package dev.signet.dkim;

/**
 * How far a run of bytes that relaxed body canonicalization leaves unchanged goes ({@link RelaxedBody}):
 * the hot loop of relaxed body hashing. Two implementations with the same answer: eight bytes at a
 * time in plain Java ({@link RelaxedBody#scalarRunEnd}), and a SIMD scan ({@code VectorScan}) with
 * the JDK's Vector API, used when the JVM was started with {@code --add-modules jdk.incubator.vector}
 * on x86-64 or AArch64. {@code ./signet} and the container image do not add the module: on Java 25 a
 * JVM with a module added keeps its start-up cache without AOT-linked classes, and the relay as a
 * whole ran slower (docs/ARCHITECTURE.md "Start-up"). {@code -Dsignet.simd=false} turns the SIMD scan
 * off where the module is there.
 */
interface RelaxedScan {
  /**
   * The end of the canonical run that continues at {@code j} ({@code b[j - 1]} is a plain byte): no
   * HTAB, no CR, a SP only when a plain byte follows it, a CRLF only when a plain byte follows it.
   * Stops early when the bytes needed to decide are past {@code end}.
   */
  int runEnd(byte[] b, int j, int end);

  /** The most bytes one step of {@link #blocks} reads or writes: the room it needs in {@code out}. */
  int BLOCK = 64;

  /**
   * Canonicalizes whole blocks of bytes from {@code j} at once, as long as the block path applies,
   * and returns the bytes consumed in the high 32 bits and the bytes written in the low 32 bits (0
   * when it did not apply at {@code j}). A block is the {@link #BLOCK} bytes (at most) from where
   * the last one ended, cut after its last plain byte that is not a LF, so that every decision in
   * it is known: each WSP run ends inside it, and content follows each of its line ends. The path
   * applies when {@code b[j - 1]} is content (not WSP, not the CR of a CRLF), the block is whole before {@code end}, it has
   * such a plain byte, and every CR and LF in it is part of a CRLF. Writes the canonical bytes from
   * {@code out[at]}; each block needs {@link #BLOCK} bytes of room before {@code outEnd}.
   */
  default long blocks(byte[] b, int j, int end, byte[] out, int at, int outEnd) {
    return 0;
  }

  RelaxedScan SCALAR = RelaxedBody::scalarRunEnd;

  /** For logs. */
  static String describe(RelaxedScan scan) {
    return scan == SCALAR ? "eight bytes at a time"
        : "SIMD, " + scan;
  }

  /** The scan this JVM uses: chosen once. */
  static RelaxedScan best() {
    return Chosen.SCAN;
  }

  /** The SIMD scan, or empty when this JVM cannot run it (module not added, or no vector hardware). */
  static java.util.Optional<RelaxedScan> simd() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return java.util.Optional.empty();
    }
    String arch = System.getProperty("os.arch", "");
    if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
      return java.util.Optional.empty(); // the Vector API runs, but without SIMD instructions: slower than SCALAR
    }
    try {
      // By name: this interface must load on a JVM without the module. The constructor refuses
      // vectors too narrow to pay off (an InvocationTargetException here).
      return java.util.Optional.of(
          (RelaxedScan) Class.forName("dev.signet.dkim.VectorScan").getDeclaredConstructor().newInstance());
    } catch (ReflectiveOperationException | LinkageError e) {
      return java.util.Optional.empty();
    }
  }

  /** Holder: chosen on first use (Signer.providers() names the choice in the relay's start-up log). */
  final class Chosen {
    static final RelaxedScan SCAN = choose();

    private Chosen() {}

    private static RelaxedScan choose() {
      if (!Boolean.parseBoolean(System.getProperty("signet.simd", "true"))) {
        return SCALAR;
      }
      return simd().orElse(SCALAR);
    }
  }
}
