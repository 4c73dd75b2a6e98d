package dev.signet.smtp;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.message.Submission;
import dev.signet.metrics.Metrics;
import dev.signet.queue.Envelope;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Like {@link TestRelay} (same keys, same config lines, 127.0.0.1 is the only local address) but
 * keeps the relay's {@link Metrics}, so hostile-input tests can read the counters and gauges a
 * scrape would show, and takes the AUTH throttle as a parameter.
 */
final class MeteredRelay implements AutoCloseable {
  final Path dir;
  final Metrics metrics = new Metrics();
  final Spool spool;
  final SubmissionServer server;

  MeteredRelay(Path dir, AuthThrottle throttle, String... settings) throws Exception {
    this.dir = dir;
    TestPki.writeDkimKey(dir.resolve("keys"));
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
        new Signer(config.dkim(), Clock.systemUTC()));
    spool = Spool.open(config.spool().dir());
    InetAddress local = InetAddress.getLoopbackAddress();
    try {
      server = new SubmissionServer(config, submission, spool, metrics, throttle, a -> a.equals(local),
          Clock.systemUTC());
      server.start();
    } catch (Exception e) {
      spool.close();
      throw e;
    }
  }

  MeteredRelay(Path dir, String... settings) throws Exception {
    this(dir, new AuthThrottle(Duration.ofMillis(20), 3, 10, Duration.ofMinutes(15), Clock.systemUTC()), settings);
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

  List<String> files(String sub) throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("spool").resolve(sub))) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    spool.close();
  }
}
