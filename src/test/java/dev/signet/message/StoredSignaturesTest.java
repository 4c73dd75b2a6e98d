package dev.signet.message;

import static dev.signet.message.Fixtures.crlf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import dev.signet.testkit.TestKeys;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A header block as the spool first writes it (placeholder b= values), filled in at once or, after a
 * crash kept the filled-in bytes off the disk, from the stored block alone ({@link Signatures#fillStored}).
 */
class StoredSignaturesTest {
  @TempDir static Path dir;
  static KeyRing ring;
  static SignetConfig config;
  static Signer signer;

  @BeforeAll
  static void keys() throws Exception {
    ring = KeyRing.load(TestKeys.install(dir));
    config = Fixtures.config(); // the defaults oversign From, To, Subject and more
    signer = new Signer(config.dkim().signer(), Clock.systemUTC());
  }

  /** What the spool gets: the block as first written, then as filled in, and the body. */
  private record Written(byte[] placeholders, byte[] filled, byte[] body) {
    byte[] message(byte[] block) {
      byte[] out = Arrays.copyOf(block, block.length + body.length);
      System.arraycopy(body, 0, out, block.length, body.length);
      return out;
    }
  }

  private static Written submit(String text) throws Exception {
    Fixtures.Collected sink = new Fixtures.Collected();
    new Submission(config, ring, signer).prepare(new ByteArrayInputStream(crlf(text)), Fixtures.trace(), sink,
        1_000_000);
    return new Written(sink.unfilled(), sink.headers(), sink.bodyBytes());
  }

  private static final String MESSAGE = "From: a@example.com\nTo: b@example.org\nReceived: from upstream\n"
      + "To: c@example.org\nSubject: s\n\nbody\n";

  private static int nuls(byte[] bytes) {
    int n = 0;
    for (byte b : bytes) {
      n += b == 0 ? 1 : 0;
    }
    return n;
  }

  @Test
  void theFirstWrittenBlockHoldsPlaceholdersOnlyInTheBValues() throws Exception {
    Written w = submit(MESSAGE);
    String text = new String(w.placeholders(), StandardCharsets.ISO_8859_1);
    assertEquals(344 + 88, nuls(w.placeholders()), "RSA-2048's and Ed25519's b= values");
    assertEquals(0, nuls(w.filled()));
    assertEquals(w.placeholders().length, w.filled().length);
    assertTrue(text.indexOf("b=\0") > 0, text);
  }

  @Test
  void aStoredBlockIsFilledInByteForByteAsItWasAtAcceptance() throws Exception {
    Written w = submit(MESSAGE);
    byte[] stored = w.placeholders().clone();
    assertEquals(2, Signatures.fillStored(stored, signer, ring));
    assertArrayEquals(w.filled(), stored);
    for (SigningKey key : ring.keysFor(TestKeys.DOMAIN, false)) {
      if (key.algorithm() == SigningKey.Algorithm.RSA_SHA256) {
        assertEquals(1, Jdkim.verify(w.message(stored), key).size(), "jDKIM verifies the filled-in message");
      }
    }
  }

  @Test
  void aBlockHalfWrittenBackHasOnlyItsMissingValueFilledIn() throws Exception {
    Written w = submit(MESSAGE);
    byte[] stored = w.filled().clone();
    int second = new String(stored, StandardCharsets.ISO_8859_1).indexOf("DKIM-Signature", 1);
    for (int i = second; i < w.placeholders().length && i < second + 600; i++) {
      if (w.placeholders()[i] == 0) {
        stored[i] = 0; // the second field's sectors never reached the disk
      }
    }
    assertTrue(nuls(stored) > 0);
    assertEquals(1, Signatures.fillStored(stored, signer, ring));
    assertArrayEquals(w.filled(), stored);
  }

  @Test
  void aStoredBlockWhoseKeyIsGoneIsRefusedNamingTheKey(@TempDir Path other) throws Exception {
    Written w = submit(MESSAGE);
    Path keys = TestKeys.install(other);
    try (var files = Files.walk(keys)) {
      for (Path p : files.filter(p -> p.toString().endsWith(".pem")).toList()) {
        if (p.getFileName().toString().startsWith("rsa")) {
          Files.delete(p);
        }
      }
    }
    MessageException e = assertThrows(MessageException.class,
        () -> Signatures.fillStored(w.placeholders().clone(), signer, KeyRing.load(keys)));
    assertTrue(e.getMessage().contains("s=rsa2026"), e.getMessage());
  }

  @Test
  void aBlockThisRelayDidNotWriteIsRefused() throws Exception {
    Written w = submit(MESSAGE);
    String text = new String(w.placeholders(), StandardCharsets.ISO_8859_1);
    int received = text.indexOf("Received: from client");
    int next = text.indexOf("\r\nTo:", received) + 2;
    String without = text.substring(0, received) + text.substring(next);
    assertFalse(without.contains("by relay.example.com"), without);
    MessageException e = assertThrows(MessageException.class,
        () -> Signatures.fillStored(without.getBytes(StandardCharsets.ISO_8859_1), signer, ring));
    assertTrue(e.getMessage().contains("Received"), e.getMessage());
  }

  @Test
  void aBlockWithoutPlaceholdersIsLeftAsItIs() throws Exception {
    Written w = submit(MESSAGE);
    byte[] stored = w.filled().clone();
    assertEquals(0, Signatures.fillStored(stored, signer, ring));
    assertArrayEquals(w.filled(), stored);
  }

}
