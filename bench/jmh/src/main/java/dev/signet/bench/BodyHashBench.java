package dev.signet.bench;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.BodyHash;
import dev.signet.dkim.Signer;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Body hashing alone (canonicalization + SHA-256) of a 1 MiB text body, streamed in 8 KiB chunks: compared
 * with RawSha256Bench (the body-hash target: >= 70% of raw SHA-256). ops/s x 1 MiB = MiB/s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
public class BodyHashBench {
  @Param({"relaxed", "simple"})
  public String canonicalization;

  /** mixed: WSP runs, trailing WSP, tabs and empty lines in most lines; plain: none of those. */
  @Param({"mixed", "plain"})
  public String text;

  /**
   * The relaxed canonicalizer's scan: simd (the default where the JVM has the Vector API module, which
   * run.sh adds; whole blocks where the CPU packs bytes in one instruction), simd-runs (the same without
   * the block path: -Dsignet.simd.blocks=false) or scalar (-Dsignet.simd=false, the eight-byte scan).
   * No effect on simple.
   */
  @Param({"simd", "simd-runs", "scalar"})
  public String scan;

  Signer signer;
  byte[] body;

  @Setup(Level.Trial)
  public void setUp() {
    // Read once per JVM when the canonicalizer is first used; each JMH fork runs one parameter set.
    System.setProperty("signet.simd", String.valueOf(!scan.equals("scalar")));
    System.setProperty("signet.simd.blocks", String.valueOf(scan.equals("simd")));
    SignetConfig.Dkim d = SignetConfig.defaults().dkim();
    SignetConfig.Dkim settings = d.toBuilder()
        .canonicalization(dev.signet.dkim.Canonicalization.parse("relaxed/" + canonicalization)).build();
    signer = new Signer(settings.signer(), Clock.systemUTC());
    body = Messages.body(RawSha256Bench.SIZE, text.equals("plain"));
  }

  @Benchmark
  public String bodyHashOneMiB(CpuMeter cpu) throws Exception {
    cpu.ops++;
    BodyHash hash = signer.bodyHash();
    Messages.writeChunked(hash, body);
    hash.close();
    return hash.base64();
  }
}
