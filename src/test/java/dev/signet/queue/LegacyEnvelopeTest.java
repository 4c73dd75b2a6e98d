package dev.signet.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.Reply;
import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A spool written before replies had fields in the envelope (format version 1, the reply as one line)
 * is read by the relay that replaces it, and its envelopes are written in the new format at their
 * next change.
 */
class LegacyEnvelopeTest {
  @TempDir Path dir;

  @Test
  void aVersionOneEnvelopeOnDiskIsReadAndRewrittenAsVersionTwo() throws IOException {
    byte[] body = "legacy\r\n".getBytes(StandardCharsets.US_ASCII);
    String id;
    long size;
    try (Spool spool = Spool.open(dir)) {
      id = SpoolTest.spool(spool, body, "gone@example.org", "later@example.net", "slow@example.com");
      size = spool.envelope(id).size();
    }
    // the .env an older relay wrote after one attempt, byte for byte
    Files.write(dir.resolve("queue").resolve(id + ".env"), ("signet-envelope 1\n"
        + "id " + id + "\n"
        + "received 2026-11-25T18:00:00Z\n"
        + "sender a@example.com\n"
        + "client 127.0.0.1\n"
        + "helo client.example\n"
        + "auth -\n"
        + "size " + size + "\n"
        + "signature d=example.com%20s=rsa2026%20a=rsa-sha256\n"
        + "rcpt FAILED 1 - gone@example.org mx1.example.org%20said:%20550%205.1.1%20%3Cgone@example.org%3E:%20no%20such%20user\n"
        + "rcpt PENDING 1 2026-11-25T19:00:00Z later@example.net 451%204.4.3%20SERVFAIL%20for%20example.net\n"
        + "rcpt FAILED 5 - slow@example.com expired%20after%205%20attempts:%20mx.example.com%20said:%20421%20busy\n"
        + "end\n").getBytes(StandardCharsets.UTF_8));

    try (Spool spool = Spool.open(dir)) {
      Envelope e = spool.envelope(id);
      List<Recipient> r = e.recipients();
      assertEquals(new Recipient("gone@example.org", State.FAILED, 1, Optional.empty(), Optional.of(new Reply(550,
          "5.1.1", "550 5.1.1 <gone@example.org>: no such user", Optional.of("mx1.example.org"))), false), r.get(0));
      assertEquals(Optional.of(new Reply(451, "4.4.3", "SERVFAIL for example.net", Optional.empty())), r.get(1).reply());
      assertEquals(new Reply(421, "4.0.0", "421 busy", Optional.of("mx.example.com")), r.get(2).reply().orElseThrow());
      assertTrue(r.get(2).expired());
      assertEquals("expired after 5 attempts: mx.example.com said: 421 busy", r.get(2).lastReply());
      try (InputStream in = spool.open(id)) {
        String message = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        assertEquals(size, message.length(), message);
        assertTrue(message.startsWith("From: a@example.com\r\n") && message.endsWith("\r\n\r\nlegacy\r\n"), message);
      }

      spool.update(e);
    }
    String rewritten = Files.readString(dir.resolve("queue").resolve(id + ".env"));
    assertTrue(rewritten.startsWith("signet-envelope 2\n"), rewritten);
    assertTrue(rewritten.contains("\nrcpt EXPIRED 5 - slow@example.com 421 4.0.0 mx.example.com 421%20busy\n"), rewritten);
    try (Spool spool = Spool.open(dir)) {
      assertEquals(spool.envelope(id).recipients().get(0).reply(),
          Optional.of(new Reply(550, "5.1.1", "550 5.1.1 <gone@example.org>: no such user", Optional.of("mx1.example.org"))));
    }
  }
}
