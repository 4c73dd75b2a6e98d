package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.TestDnsServer;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SigningKey;
import dev.signet.queue.Envelope;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.SignatureRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A message accepted alone is fsynced while its signatures are computed, which are then written over
 * their placeholders without a fsync of their own. A crash can keep them off the disk: the next start
 * signs again, byte for byte, before anything delivers, and the MX gets a message that verifies.
 */
class UnfinishedSignaturesTest {
  @TempDir Path dir;
  private TestDnsServer dns;
  private int port;
  private SigningKey rsa;

  @BeforeEach
  void start() throws Exception {
    dns = TestDnsServer.start();
    port = OpsRig.freePort();
    dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.2");
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2026");
    rsa = KeyRing.load(dir.resolve("keys")).all().get(0);
  }

  @AfterEach
  void stop() {
    dns.close();
  }

  /** A relay, its MX down, takes one message over one session, tries it once and stops; the .msg. */
  private Path acceptedAlone() throws Exception {
    Path config = OpsRig.config(dir, dns, port, "delivery.retry: [1s]");
    Relay relay = OpsRig.start(config);
    try {
      String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
          OpsRig.message("app@example.com", "signed while fsynced"), "rcpt@dest.test");
      assertTrue(reply.startsWith("250 "), reply);
      Await.await("tried once", Duration.ofSeconds(30), () -> {
        try {
          List<Envelope> queued = relay.spool.list();
          return queued.size() == 1 && queued.get(0).recipients().get(0).attempts() == 1;
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      return dir.resolve("spool/queue").resolve(relay.spool.list().get(0).id() + ".msg");
    } finally {
      relay.stop(Duration.ofSeconds(2), Duration.ofSeconds(2));
    }
  }

  /** What the disk holds when the signatures' write-back never reached it: NUL over every b= value. */
  private static byte[] crashBeforeWriteBack(Path msg) throws Exception {
    byte[] before = Files.readAllBytes(msg);
    String text = new String(before, StandardCharsets.ISO_8859_1);
    int field = text.indexOf("\nend\n") + 5;
    assertTrue(text.startsWith("DKIM-Signature:", field), text);
    int b = text.indexOf("\tb=", text.indexOf(" bh=", field)) + 3; // Signer lays b= out on a line of its own
    int received = text.indexOf("\r\nReceived:", field);
    assertTrue(b > field && received > b, text);
    byte[] crashed = before.clone();
    for (int i = b; i < received; i++) {
      if (crashed[i] != '\r' && crashed[i] != '\n' && crashed[i] != '\t') {
        crashed[i] = 0;
      }
    }
    Files.write(msg, crashed);
    return before;
  }

  @Test
  void theNextStartSignsAgainByteForByteBeforeDelivering() throws Exception {
    Path msg = acceptedAlone();
    byte[] accepted = crashBeforeWriteBack(msg);
    try (ScriptedMx mx = ScriptedMx.start("127.0.0.2", port).hostName("mx.test")) {
      OpsRig.Run run = OpsRig.signet("drain", "--config", dir.resolve("signet.yaml").toString(), "--max-time", "60s");
      assertEquals(0, run.exit(), run.out() + run.err());
      assertEquals(1, mx.copies().size());
      byte[] wire = mx.copies().get(0).data();
      String sent = new String(accepted, StandardCharsets.ISO_8859_1);
      byte[] message = Arrays.copyOfRange(accepted, sent.indexOf("\nend\n") + 5, accepted.length);
      assertArrayEquals(message, wire, "the message as it was when its 250 went out");
      DKIMVerifier verifier = new DKIMVerifier((method, selector, domain) ->
          selector.toString().equals(rsa.selector()) && domain.toString().equals(rsa.domain())
              ? List.of(DnsRecord.of(rsa).value()) : List.of());
      List<SignatureRecord> valid = verifier.verify(new ByteArrayInputStream(wire));
      assertFalse(valid == null || valid.isEmpty(),
          () -> "jDKIM rejects:\n" + new String(wire, StandardCharsets.UTF_8));
    }
  }

  @Test
  void withoutItsKeyTheMessageGoesToCorruptAndNothingIsDelivered() throws Exception {
    Path msg = acceptedAlone();
    crashBeforeWriteBack(msg);
    Files.move(dir.resolve("keys/example.com/rsa2026.pem"), dir.resolve("keys/example.com/rsa2026.pem.gone"));
    OpsRig.installKey(dir.resolve("keys"), "ed25519.pem", "example.com", "ed2026"); // the relay needs a key
    try (ScriptedMx mx = ScriptedMx.start("127.0.0.2", port).hostName("mx.test")) {
      OpsRig.Run run = OpsRig.signet("drain", "--config", dir.resolve("signet.yaml").toString(), "--max-time", "20s");
      assertEquals(0, run.exit(), run.out() + run.err());
      assertEquals(0, mx.copies().size(), "never sent with placeholders");
      assertTrue(Files.exists(dir.resolve("spool/corrupt").resolve(msg.getFileName())), "kept for a human");
      assertFalse(Files.exists(msg));
    }
  }
}
