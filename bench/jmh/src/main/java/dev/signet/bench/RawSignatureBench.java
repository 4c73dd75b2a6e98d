package dev.signet.bench;

import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
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
 * The raw signature rates the signer is held against (the signing target: a 4 KB message signs at >= 90% of the raw
 * RSA-2048 rate). Input is 32 bytes, about the size of a digest, so the figure is the private-key operation
 * plus one SHA-256 block: the ceiling for one DKIM signature per core.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RawSignatureBench {

  @State(Scope.Thread)
  public static class Rsa {
    @Param({"SunRsaSign", "ACCP"})
    public String provider;

    Signature signature;
    Provider jca;
    PrivateKey privateKey;
    final byte[] input = new byte[32];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      KeyPair pair = generator.generateKeyPair();
      jca = Providers.byName(provider);
      // The key in the provider's own form, as the signer keeps it (translated once per key).
      privateKey = (PrivateKey) KeyFactory.getInstance("RSA", jca).translateKey(pair.getPrivate());
      signature = Signature.getInstance("SHA256withRSA", jca);
      signature.initSign(privateKey);
      new java.util.Random(1).nextBytes(input);
    }
  }

  @State(Scope.Thread)
  public static class Ed25519 {
    @Param({"SunEC", "BC"})
    public String provider;

    Signature signature;
    final byte[] input = new byte[32];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
      KeyPair pair = KeyPairGenerator.getInstance("Ed25519", Providers.byName(provider)).generateKeyPair();
      signature = Signature.getInstance("Ed25519", Providers.byName(provider));
      signature.initSign(pair.getPrivate());
      new java.util.Random(1).nextBytes(input);
    }
  }

  @Benchmark
  public byte[] rsa2048Sha256(Rsa state, CpuMeter cpu) throws Exception {
    cpu.ops++;
    state.signature.update(state.input);
    return state.signature.sign();
  }

  /**
   * Diagnostic: the same signature with a fresh Signature object and initSign for every message, the way a
   * thread-safe signer that keeps no per-thread Signature works. The difference to rsa2048Sha256 is the
   * per-message setup cost.
   */
  @Benchmark
  public byte[] rsa2048Sha256FreshInit(Rsa state, CpuMeter cpu) throws Exception {
    cpu.ops++;
    Signature signature = Signature.getInstance("SHA256withRSA", state.jca);
    signature.initSign(state.privateKey);
    signature.update(state.input);
    return signature.sign();
  }

  @Benchmark
  public byte[] ed25519(Ed25519 state, CpuMeter cpu) throws Exception {
    cpu.ops++;
    state.signature.update(state.input);
    return state.signature.sign();
  }
}
