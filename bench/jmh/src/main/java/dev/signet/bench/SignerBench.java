package dev.signet.bench;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.BodyHash;
import dev.signet.dkim.HeaderField;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * Whole-message signing as the relay does it: hash the body through Signer.bodyHash() (streamed in 8 KiB
 * chunks), then Signer.sign() over the header fields with one key. Default settings (relaxed/relaxed, the
 * default header list with oversigning). Keys are loaded through KeyRing from PEM files, as in production.
 * ops/s = messages signed per second on one core.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
public class SignerBench {
  @Param({"rsa", "ed25519"})
  public String algorithm;

  @Param({"4096", "1048576"})
  public int size;

  Signer signer;
  List<HeaderField> headers;
  byte[] body;
  List<SigningKey> keys;
  Path keysDir;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    keysDir = Messages.keysDir();
    KeyRing ring = KeyRing.load(keysDir);
    SigningKey.Algorithm wanted = algorithm.equals("rsa") ? SigningKey.Algorithm.RSA_SHA256 : SigningKey.Algorithm.ED25519_SHA256;
    keys = ring.keysFor(Messages.DOMAIN, false).stream().filter(k -> k.algorithm() == wanted).toList();
    if (keys.size() != 1) {
      throw new IllegalStateException("expected one " + wanted + " key, found " + keys);
    }
    signer = new Signer(SignetConfig.defaults().dkim().signer(), Clock.systemUTC());
    headers = Messages.headers();
    body = Messages.body(size);
    recordProviders(signer.providers());
    List<String> fields = signMessage();
    if (fields.size() != 1 || !fields.get(0).startsWith("DKIM-Signature:")) {
      throw new IllegalStateException("unexpected signer output " + fields);
    }
  }

  /**
   * Tells report.py which raw rate to compare with (the provider the Signer actually uses), through the file
   * run.sh names in -Dsignet.bench.providers.
   */
  private static void recordProviders(String providers) throws Exception {
    String path = System.getProperty("signet.bench.providers");
    if (path == null) {
      return;
    }
    String rsa = providers.contains("Corretto") ? "ACCP" : "SunRsaSign";
    String ed = providers.contains("BouncyCastle") ? "BC" : "SunEC";
    Files.writeString(Path.of(path), "rsa=" + rsa + "\ned=" + ed + "\nsigner=" + providers + "\n", StandardCharsets.UTF_8);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    Messages.deleteTree(keysDir);
  }

  @Benchmark
  public List<String> sign(CpuMeter cpu) throws Exception {
    cpu.ops++;
    return signMessage();
  }

  private List<String> signMessage() throws Exception {
    BodyHash hash = signer.bodyHash();
    Messages.writeChunked(hash, body);
    hash.close();
    return signer.sign(headers, hash, keys);
  }
}
