package dev.signet.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.Reply;
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

  private static Optional<Reply> reply(int code, String status, String text, String host) {
    return Optional.of(new Reply(code, status, text, Optional.ofNullable(host)));
  }

  private static Envelope sample() {
    return new Envelope(ID, "", List.of(
        new Recipient("bob@example.org", State.PENDING, 0, Optional.empty(), Optional.empty(), false),
        new Recipient("\"odd name\"@example.org", State.PENDING, 3, Optional.of(Instant.parse("2026-11-26T01:02:03Z")),
            reply(451, "4.7.1", "451-4.7.1 greylisted, 100% sure\r\n451 4.7.1 try later", "mx.example.org"), false),
        new Recipient("用户@例子.广告", State.DELIVERED, 1, Optional.empty(), reply(250, "2.0.0", "250 ok", "mx"), false),
        new Recipient("dash@example.org", State.FAILED, 1, Optional.empty(), reply(550, "5.0.0", "-", null), false),
        new Recipient("late@example.org", State.FAILED, 7, Optional.empty(),
            reply(421, "4.4.1", "cannot connect", null), true)),
        "::1", Optional.empty(), Optional.of("alice"), Instant.parse("2026-11-25T18:10:21.123Z"), 4711,
        List.of("d=example.com s=rsa2026 a=rsa-sha256", "d=example.com s=ed2026 a=ed25519-sha256"));
  }

  /**
   * Replies whose fields the one-line form of version 1 could not keep apart: text with " said: ",
   * a code and status that are not the text's own, several lines, '%', '-', non-ASCII, an empty text.
   */
  @Test
  void aReplyKeepsItsCodeStatusHostAndTextExactly() throws IOException {
    List<Optional<Reply>> replies = List.of(
        reply(550, "5.7.1", "550-5.7.1 first line\n550-5.7.1 mx.other said: 250 ok\r\n550 5.7.1 last", "mx.example.org"),
        reply(451, "4.4.5", "held back by shaping: provider google rate 1/hour until 2026-12-06T11:30:00Z", null),
        reply(554, "5.7.0", "rejected: 100%25 - ünïcödé\ttab", "mx"),
        reply(421, "4.7.0", "", "mx.example.org"),
        reply(250, "", "-", null),
        reply(550, "4.1.1", "status class not the code's", null));
    for (Optional<Reply> r : replies) {
      Envelope e = sample().withRecipient(1, new Recipient("x@example.org", State.FAILED, 2, Optional.empty(), r, false));
      Envelope back = EnvelopeFormat.parse(EnvelopeFormat.format(e), ID);
      assertEquals(r, back.recipients().get(1).reply());
      assertEquals(e, back);
    }
  }

  /** A version 1 envelope, as the relay wrote it before replies had fields, still reads. */
  @Test
  void aVersionOneEnvelopeStillReads() throws IOException {
    byte[] v1 = ("signet-envelope 1\n"
        + "id " + ID + "\n"
        + "received 2026-11-25T18:10:21.123Z\n"
        + "sender app@example.com\n"
        + "client 127.0.0.1\n"
        + "helo -\n"
        + "auth alice\n"
        + "size 4711\n"
        + "signature d=example.com%20s=rsa2026%20a=rsa-sha256\n"
        + "rcpt PENDING 0 - new@example.org -\n"
        + "rcpt DELIVERED 1 - ok@example.org mx.example.org%20said:%20250%202.0.0%20queued%20as%20X\n"
        + "rcpt PENDING 2 2026-11-26T01:02:03Z later@example.org 451%204.4.5%20held%20back%20by%20shaping\n"
        + "rcpt FAILED 1 - bad@example.org mx.example.org%20said:%20550%205.1.1%20no%20such%20user\n"
        + "rcpt FAILED 3 - slow@example.org expired%20after%203%20attempts:%20421%204.4.1%20cannot%20connect\n"
        + "end\n").getBytes(StandardCharsets.UTF_8);
    Envelope e = EnvelopeFormat.parse(v1, ID);
    assertEquals("app@example.com", e.sender());
    assertEquals(Optional.empty(), e.helo());
    assertEquals(List.of("d=example.com s=rsa2026 a=rsa-sha256"), e.signatures());
    List<Recipient> r = e.recipients();
    assertEquals(new Recipient("new@example.org", State.PENDING, 0, Optional.empty(), Optional.empty(), false), r.get(0));
    assertEquals(reply(250, "2.0.0", "250 2.0.0 queued as X", "mx.example.org"), r.get(1).reply());
    assertEquals(new Recipient("later@example.org", State.PENDING, 2, Optional.of(Instant.parse("2026-11-26T01:02:03Z")),
        reply(451, "4.4.5", "held back by shaping", null), false), r.get(2));
    assertEquals(reply(550, "5.1.1", "550 5.1.1 no such user", "mx.example.org"), r.get(3).reply());
    assertEquals(new Recipient("slow@example.org", State.FAILED, 3, Optional.empty(),
        reply(421, "4.4.1", "cannot connect", null), true), r.get(4));
    // the one-line form people see is what version 1 kept
    assertEquals("mx.example.org said: 550 5.1.1 no such user", r.get(3).lastReply());
    assertEquals("expired after 3 attempts: 421 4.4.1 cannot connect", r.get(4).lastReply());
    assertEquals(reply(421, "4.4.7", "expired after 3 attempts: 421 4.4.1 cannot connect", null), r.get(4).outcomeReply());
    // written again, it is a version 2 envelope with the same content
    assertEquals(e, EnvelopeFormat.parse(EnvelopeFormat.format(e), ID));
    assertTrue(new String(EnvelopeFormat.format(e), StandardCharsets.UTF_8).startsWith("signet-envelope 2\n"));
  }

  @Test
  void everyFieldSurvivesFormatAndParse() throws IOException {
    Envelope e = sample();
    assertEquals(e, EnvelopeFormat.parse(EnvelopeFormat.format(e), ID));
  }

  @Test
  void theFileIsOneLinePerFieldEndingWithEnd() {
    String text = new String(EnvelopeFormat.format(sample()), StandardCharsets.UTF_8);
    assertTrue(text.startsWith("signet-envelope 2\nid " + ID + "\n"), text);
    assertTrue(text.contains("\nsender -\n"), text);
    assertTrue(text.contains("\nrcpt FAILED 1 - dash@example.org 550 5.0.0 - %2D\n"), text);
    assertTrue(text.contains("\nrcpt EXPIRED 7 - late@example.org 421 4.4.1 - cannot%20connect\n"), text);
    assertTrue(text.contains("\nrcpt PENDING 0 - bob@example.org - - - -\n"), text);
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
    assertTrue(refused(good.replace("signet-envelope 2", "signet-envelope 3")).getMessage().contains("line 1"));
    assertTrue(refused(good.replace(" 550 5.0.0 - %2D", " 5500 5.0.0 - %2D")).getMessage().contains("reply code"));
    assertTrue(refused(good.replace("bob@example.org - - - -", "bob@example.org - - - text")).getMessage().contains("code"));
    assertTrue(refused(good.replace("bob@example.org - - - -", "bob@example.org -")).getMessage().contains("TEXT"));
    assertTrue(refused(good.replace("100%25", "100%2")).getMessage().contains("escape"));
  }
}
