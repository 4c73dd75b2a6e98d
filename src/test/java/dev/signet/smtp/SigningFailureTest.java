package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import dev.signet.message.Submission;
import dev.signet.metrics.Metrics;
import dev.signet.queue.Spool;
import dev.signet.testkit.TestKeys;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A signature that fails its self-check refuses the message with 451 4.7.5 and leaves nothing in the
 * spool, whether the message was written alone (signed while its fsync ran) or beside others (signed
 * first).
 */
class SigningFailureTest {
  @TempDir Path dir;

  /** One transaction; the reply to the data. */
  private static String send(SmtpClient client) throws Exception {
    for (String command : List.of("MAIL FROM:<app@example.com>", "RCPT TO:<bob@example.org>", "DATA")) {
      String reply = client.command(command);
      assertTrue(reply.startsWith(command.equals("DATA") ? "354" : "250"), command + ": " + reply);
    }
    client.write("From: app@example.com\r\nSubject: s\r\n\r\nbody\r\n.\r\n");
    return client.read();
  }

  /** The files in the spool's {@code sub}, but the empty slots (or spares) it keeps in queue/ for lone messages. */
  private List<String> files(String sub) throws Exception {
    try (Stream<Path> s = Files.list(dir.resolve("spool").resolve(sub))) {
      return s.filter(p -> !(isSlot(p.getFileName().toString()) && p.toFile().length() == 0))
          .map(p -> p.getFileName().toString()).toList();
    }
  }

  private static boolean isSlot(String name) {
    return name.startsWith(".slot-") || name.startsWith(".spare-");
  }

  @Test
  void aSignatureThatFailsItsSelfCheckIsA451AndNothingIsQueuedInEitherOrder() throws Exception {
    TestKeys.installRsa(dir.resolve("keys"));
    Path file = dir.resolve("signet.yaml");
    Files.writeString(file, "hostname: relay.test\nlisten.submission: 127.0.0.1:0\ndkim.keys: " + dir.resolve("keys")
        + "\nspool.dir: " + dir.resolve("spool") + "\n");
    SignetConfig config = SignetConfig.load(Optional.of(file), Map.of());
    SigningKey good = KeyRing.load(config.dkim().keys()).all().get(0);
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    // The private key with another public key: what a signing fault looks like to the self-check.
    SigningKey broken = new SigningKey(good.domain(), good.selector(), good.algorithm(), good.privateKey(),
        g.generateKeyPair().getPublic(), good.file());
    Submission submission = new Submission(config, new Signer(config.dkim().signer(), Clock.systemUTC()),
        domain -> List.of(broken));
    InetAddress local = InetAddress.getLoopbackAddress();
    try (Spool spool = Spool.open(config.spool().dir())) {
      SubmissionServer server = new SubmissionServer(config, submission, spool, new Metrics(),
          new AuthThrottle(Duration.ofMillis(20), 3, 10, Duration.ofMinutes(15), Clock.systemUTC()),
          a -> a.equals(local), Clock.systemUTC());
      server.start();
      try {
        int port = server.addresses().get(0).getPort();
        try (SmtpClient alone = new SmtpClient(port)) {
          alone.hello();
          for (int i = 0; i < 2; i++) {
            String reply = send(alone);
            assertTrue(reply.startsWith("451 4.7.5 "), reply);
          }
          try (SmtpClient other = new SmtpClient(port)) {
            other.hello(); // a second session open: the message is signed before it is written
            String reply = send(alone);
            assertTrue(reply.startsWith("451 4.7.5 "), reply);
          }
        }
        assertEquals(List.of(), spool.list());
        assertEquals(List.of(), files("queue"));
        assertEquals(List.of(), files("tmp"));
      } finally {
        server.close();
      }
    }
  }
}
