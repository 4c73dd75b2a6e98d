package dev.signet.smtp;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.message.Submission;
import dev.signet.metrics.Metrics;
import dev.signet.queue.Envelope;
import dev.signet.queue.Spool;
import dev.signet.testkit.TestCa;
import dev.signet.testkit.TestKeys;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocketFactory;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.SignatureRecord;

/**
 * A relay on an ephemeral loopback port with a real spool, real keys and the real pipeline.
 * Only 127.0.0.1 counts as local here, so a client bound to 127.0.0.2 plays a remote client.
 */
final class TestRelay implements AutoCloseable {
  /** The test CA, made once per test JVM; clients trust it through {@link #clientFactory}. */
  static final TestCa CA = TestCa.create("Relay Test Root");
  /** The relay's certificate: clients check the name they connected to, 127.0.0.1 (Jakarta Mail) or relay.test. */
  static final TestCa.Leaf CERTIFICATE = CA.issue("127.0.0.1", "relay.test");

  /** A client socket factory that trusts the test CA only. */
  static SSLSocketFactory clientFactory() {
    return CA.trustingContext().getSocketFactory();
  }

  static final String PASSWORD = "correct horse";
  private static final InetAddress LOCAL = InetAddress.getLoopbackAddress(); // 127.0.0.1

  final Path dir;
  final SignetConfig config;
  final Spool spool;
  final SubmissionServer server;
  /** The relay's meters, as a scrape of /metrics would show them. */
  final Metrics metrics;

  private TestRelay(Path dir, SignetConfig config, Spool spool, SubmissionServer server, Metrics metrics) {
    this.dir = dir;
    this.config = config;
    this.spool = spool;
    this.server = server;
    this.metrics = metrics;
  }

  /** {@code settings}: extra config lines, flat dotted keys ({@code limits.recipients: 2}). */
  static TestRelay start(Path dir, String... settings) throws Exception {
    TestKeys.installRsa(dir.resolve("keys"));
    StringBuilder yaml = new StringBuilder()
        .append("hostname: relay.test\n")
        .append("listen.submission: 127.0.0.1:0\n")
        .append("dkim.keys: ").append(dir.resolve("keys")).append('\n')
        .append("spool.dir: ").append(dir.resolve("spool")).append('\n');
    for (String s : settings) {
      yaml.append(s).append('\n');
    }
    Path file = dir.resolve("signet.yaml");
    Files.writeString(file, yaml);
    SignetConfig config = SignetConfig.load(Optional.of(file), Map.of());
    Submission submission = new Submission(config, KeyRing.load(config.dkim().keys()),
        new Signer(config.dkim().signer(), Clock.systemUTC()));
    Spool spool = Spool.open(config.spool().dir());
    AuthThrottle throttle = new AuthThrottle(Duration.ofMillis(20), 3, 10, Duration.ofMinutes(15), Clock.systemUTC());
    Metrics metrics = new Metrics();
    SubmissionServer server;
    try {
      server = new SubmissionServer(config, submission, spool, metrics, throttle,
          a -> a.equals(LOCAL), Clock.systemUTC());
      server.start();
    } catch (Exception e) {
      spool.close();
      throw e;
    }
    return new TestRelay(dir, config, spool, server, metrics);
  }

  /** Config lines for STARTTLS (+ implicit TLS on an ephemeral port) with {@link #CERTIFICATE}. */
  static String[] tls(Path dir) throws IOException {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    CERTIFICATE.writePem(cert, key);
    return new String[] {"tls.certificate: " + cert, "tls.key: " + key, "listen.smtps: 127.0.0.1:0"};
  }

  /** A users file: alice may send as example.com. */
  static String users(Path dir) throws IOException {
    Path file = dir.resolve("users");
    Files.writeString(file, "# test users\n"
        + Users.line("alice", PASSWORD.toCharArray(), List.of("example.com"), 4) + "\n");
    return "clients.users: " + file;
  }

  int port() {
    return server.addresses().get(0).getPort();
  }

  int smtpsPort() {
    return server.addresses().get(1).getPort();
  }

  /** A meter's current value as a scrape would show it (counter count or gauge value). */
  double meter(String name) {
    var meter = metrics.registry().find(name).meter();
    if (meter == null) {
      throw new AssertionError("no meter " + name);
    }
    double sum = 0;
    for (var m : meter.measure()) {
      sum += m.getValue();
    }
    return sum;
  }

  List<Envelope> queued() throws IOException {
    return spool.list();
  }

  byte[] message(String id) throws IOException {
    try (InputStream in = spool.open(id)) {
      return in.readAllBytes();
    }
  }

  List<String> files(String sub) throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("spool").resolve(sub))) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }

  /** The signatures Apache jDKIM accepts with the test key; empty if none verifies. */
  static List<SignatureRecord> verify(byte[] message) {
    DKIMVerifier verifier = new DKIMVerifier((method, selector, domain) ->
        selector.toString().equals("rsa2026") && domain.toString().equals("example.com")
            ? List.of(TestKeys.rsaRecord()) : List.of());
    try {
      List<SignatureRecord> valid = verifier.verify(new ByteArrayInputStream(message));
      return valid == null ? List.of() : valid;
    } catch (Exception e) {
      return List.of();
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    spool.close();
  }
}
