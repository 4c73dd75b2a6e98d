package dev.signet.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EnvelopeFormatTest {
  private static final String ID = "0PZ3F2K8QW0000A1B2";

  private static Envelope sample() {
    return new Envelope(ID, "", List.of(
        new Recipient("bob@example.org", State.PENDING, 0, Optional.empty(), ""),
        new Recipient("\"odd name\"@example.org", State.PENDING, 3, Optional.of(Instant.parse("2026-11-26T01:02:03Z")),
            "451 4.7.1 greylisted, 100% sure\r\ntry later"),
        new Recipient("用户@例子.广告", State.DELIVERED, 1, Optional.empty(), "250 ok"),
        new Recipient("dash@example.org", State.FAILED, 1, Optional.empty(), "-")),
        "::1", Optional.empty(), Optional.of("alice"), Instant.parse("2026-11-25T18:10:21.123Z"), 4711,
        List.of("d=example.com s=rsa2026 a=rsa-sha256", "d=example.com s=ed2026 a=ed25519-sha256"));
  }

  @Test
  void everyFieldSurvivesFormatAndParse() throws IOException {
    Envelope e = sample();
    assertEquals(e, EnvelopeFormat.parse(EnvelopeFormat.format(e), ID));
  }

  @Test
  void theFileIsOneLinePerFieldEndingWithEnd() {
    String text = new String(EnvelopeFormat.format(sample()), StandardCharsets.UTF_8);
    assertTrue(text.startsWith("signet-envelope 1\nid " + ID + "\n"), text);
    assertTrue(text.contains("\nsender -\n"), text);
    assertTrue(text.contains("\nrcpt FAILED 1 - dash@example.org %2D\n"), text);
    assertTrue(text.endsWith("\nend\n"), text);
  }

  private static IOException refused(String text) {
    return assertThrows(IOException.class,
        () -> EnvelopeFormat.parse(text.getBytes(StandardCharsets.UTF_8), ID));
  }

  @Test
  void anythingButACompleteEnvelopeIsRefused() {
    String good = new String(EnvelopeFormat.format(sample()), StandardCharsets.UTF_8);
    assertTrue(refused(good.substring(0, good.length() - 4)).getMessage().contains("end"));
    assertTrue(refused(good.replace("\nsize 4711\n", "\n")).getMessage().contains("size"));
    assertTrue(refused(good.replace("\nsize 4711\n", "\nsize 4711\nsize 4711\n")).getMessage().contains("twice"));
    assertTrue(refused(good.replace("\nsize 4711\n", "\nsize 47a1\n")).getMessage().contains("line 8"));
    assertTrue(refused(good.replace("\nauth alice\n", "\nauth alice\ncolour blue\n")).getMessage().contains("colour"));
    assertTrue(refused(good.replace("rcpt PENDING 0", "rcpt MAYBE 0")).getMessage().contains("MAYBE"));
    assertTrue(refused(good.replace("id " + ID, "id 0PZ3F2K8QW0000A1B3")).getMessage().contains("file name"));
    assertTrue(refused(good.replaceAll("rcpt [^\n]*\n", "")).getMessage().contains("rcpt"));
    assertTrue(refused(good.replace("signet-envelope 1", "signet-envelope 2")).getMessage().contains("line 1"));
    assertTrue(refused(good.replace("100%25", "100%2")).getMessage().contains("escape"));
  }
}
