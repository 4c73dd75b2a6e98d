package dev.signet.message;

import static dev.signet.message.Fixtures.assertRefused;
import static dev.signet.message.Fixtures.bytes;
import static dev.signet.message.Fixtures.crlf;
import static dev.signet.message.Fixtures.refused;
import static dev.signet.message.Fixtures.submit;
import static dev.signet.message.Fixtures.unsigned;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The checks on submitted data (RFC 5321 §2.3.8, RFC 5322 §2.1, §2.2, §3.6), one rule per test. */
class NormalizationTest {
  private static final String HEAD = "From: a@example.com\nTo: b@example.net\nDate: Wed, 25 Nov 2026 12:00:00 +0000\n"
      + "Message-ID: <t@example.com>\nSubject: test\n\n";

  private final Submission reject = unsigned();
  private final Submission normalize = unsigned("SIGNET_MESSAGE_BARE_LINE_ENDINGS", "normalize");

  @Test
  void wellFormedMessagePassesUnchangedAfterTheReceivedField() throws Exception {
    byte[] data = crlf(HEAD + "Hello.\n");
    String out = submit(reject, data).text();
    String received = out.substring(0, out.indexOf("From: "));
    assertTrue(received.startsWith("Received: "), out);
    assertEquals(new String(data, StandardCharsets.UTF_8), out.substring(received.length()));
  }

  @Test
  void bareLfInBodyIsRefused() {
    assertRefused("550 5.6.0", reject, bytes(new String(crlf(HEAD)) + "line\nnext\r\n"));
  }

  @Test
  void bareLfInHeaderIsRefused() {
    assertRefused("550 5.6.0", reject, bytes("From: a@example.com\nSubject: x\r\n\r\nbody\r\n"));
  }

  @Test
  void bareCrIsRefused() {
    assertRefused("550 5.6.0", reject, bytes(new String(crlf(HEAD)) + "line\rnext\r\n"));
  }

  @Test
  void bareCrAtTheVeryEndIsRefused() {
    assertRefused("550 5.6.0", reject, bytes(new String(crlf(HEAD)) + "line\r"));
  }

  @Test
  void refusalNamesTheLineAndTheReason() {
    MessageException e = refused(reject, bytes("From: a@example.com\r\nSubject: x\nTo: b@example.net\r\n\r\n"));
    assertEquals("550 5.6.0 bare LF in message data (line 2); lines must end with CRLF (RFC 5321 section 2.3.8)",
        e.smtpReply());
  }

  @Test
  void nulByteIsRefused() {
    assertRefused("550 5.6.0", reject, bytes(new String(crlf(HEAD)) + "nul\0here\r\n"));
  }

  @Test
  void nulByteIsRefusedEvenWhenNormalizing() {
    assertRefused("550 5.6.0", normalize, bytes(new String(crlf(HEAD)) + "nul\0here\r\n"));
  }

  @Test
  void lineOf998OctetsIsAccepted() throws Exception {
    byte[] data = crlf(HEAD + "x".repeat(998) + "\n");
    assertTrue(submit(reject, data).text().endsWith("x".repeat(998) + "\r\n"));
  }

  @Test
  void bodyLineOver998OctetsIsRefused() {
    assertRefused("550 5.6.0", reject, crlf(HEAD + "x".repeat(999) + "\n"));
  }

  @Test
  void headerLineOver998OctetsIsRefused() {
    assertRefused("550 5.6.0", reject, crlf("From: a@example.com\nSubject: " + "y".repeat(990) + "\n\nbody\n"));
  }

  @Test
  void messageWithoutFromIsRefused() {
    MessageException e = refused(reject, crlf("To: b@example.net\nSubject: x\n\nbody\n"));
    assertEquals("550 5.6.0 no From header field (RFC 5322 section 3.6 requires one)", e.smtpReply());
  }

  @Test
  void messageWithTwoFromFieldsIsRefused() {
    assertRefused("550 5.6.0", reject, crlf("From: a@example.com\nSubject: x\nfrom: c@example.org\n\nbody\n"));
  }

  @Test
  void fromWithoutADomainIsRefused() {
    assertRefused("550 5.6.0", reject, crlf("From: Alice <alice>\nSubject: x\n\nbody\n"));
  }

  @Test
  void fromThatIsAnEmptyGroupIsRefused() {
    assertRefused("550 5.6.0", reject, crlf("From: undisclosed-recipients:;\nSubject: x\n\nbody\n"));
  }

  @Test
  void firstLineThatIsAContinuationIsRefused() {
    assertRefused("550 5.6.0", reject, crlf(" folded: first\nFrom: a@example.com\n\nbody\n"));
  }

  @Test
  void headerLineWithoutColonIsRefused() {
    // An mbox "From " line, the classic case of a header block that is not one.
    assertRefused("550 5.6.0", reject, crlf("From a@example.com Wed Nov 25 12:00:00 2026\nFrom: a@example.com\n\nb\n"));
  }

  @Test
  void fieldNameWithASpaceInsideIsRefused() {
    assertRefused("550 5.6.0", reject, crlf("From: a@example.com\nX Bad: value\n\nbody\n"));
  }

  @Test
  void emptyFieldNameIsRefused() {
    assertRefused("550 5.6.0", reject, crlf("From: a@example.com\n: value\n\nbody\n"));
  }

  @Test
  void headerBlockOverOneMegabyteIsRefused() {
    StringBuilder head = new StringBuilder("From: a@example.com\n");
    String field = "X-Filler: " + "f".repeat(980) + "\n";
    while (head.length() <= HeaderBlock.MAX_BYTES) {
      head.append(field);
    }
    assertRefused("552 5.3.4", reject, crlf(head + "\nbody\n"));
  }

  @Test
  void dataOverTheSizeLimitIsRefusedWith552() {
    byte[] data = crlf(HEAD + "0123456789\n".repeat(100));
    MessageException e = org.junit.jupiter.api.Assertions.assertThrows(MessageException.class,
        () -> reject.prepare(new ByteArrayInputStream(data), Fixtures.trace(), new Fixtures.Collected(), 500));
    assertEquals("552 5.3.4 message exceeds the size limit of 500 bytes", e.smtpReply());
  }

  @Test
  void dataOfExactlyTheSizeLimitIsAccepted() throws Exception {
    byte[] data = crlf(HEAD + "0123456789\n".repeat(100));
    Prepared p = reject.prepare(new ByteArrayInputStream(data), Fixtures.trace(), new Fixtures.Collected(), data.length);
    assertEquals("example.com", p.authorDomain());
  }

  @Test
  void normalizeModeTurnsBareLineEndingsIntoCrlf() throws Exception {
    byte[] data = bytes("From: a@example.com\nSubject: mixed\r\nDate: Wed, 25 Nov 2026 12:00:00 +0000\r"
        + "Message-ID: <n@example.com>\n\none\rtwo\nthree\r\n");
    String out = submit(normalize, data).text();
    String expected = "From: a@example.com\r\nSubject: mixed\r\nDate: Wed, 25 Nov 2026 12:00:00 +0000\r\n"
        + "Message-ID: <n@example.com>\r\n\r\none\r\ntwo\r\nthree\r\n";
    assertEquals(expected, out.substring(out.indexOf("From: ")));
  }

  @Test
  void headersOnlyMessageGetsTheEmptyLineAndAnEmptyBody() throws Exception {
    byte[] data = crlf("From: a@example.com\nDate: Wed, 25 Nov 2026 12:00:00 +0000\nMessage-ID: <h@example.com>\n");
    String out = submit(reject, data).text();
    assertTrue(out.endsWith("Message-ID: <h@example.com>\r\n\r\n"), out);
  }

  @Test
  void lastLineWithoutCrlfGetsOne() throws Exception {
    byte[] data = bytes(new String(crlf(HEAD)) + "first\r\nlast");
    assertTrue(submit(reject, data).text().endsWith("\r\n\r\nfirst\r\nlast\r\n"));
  }

  @Test
  void emptyBodyStaysEmpty() throws Exception {
    Fixtures.Result r = submit(reject, crlf(HEAD));
    assertTrue(r.text().endsWith("Subject: test\r\n\r\n"));
    assertEquals(r.message().length, r.prepared().size());
  }

  @Test
  void eightBitAndUtf8BytesPassThroughUntouched() throws Exception {
    byte[] latin1 = "Grüße\r\n".getBytes(StandardCharsets.ISO_8859_1);
    byte[] head = crlf("From: Jürgen <j@bücher.example>\nSubject: Grüße\nDate: Wed, 25 Nov 2026 12:00:00 +0000\n"
        + "Message-ID: <u@example.com>\n\n");
    byte[] data = new byte[head.length + latin1.length];
    System.arraycopy(head, 0, data, 0, head.length);
    System.arraycopy(latin1, 0, data, head.length, latin1.length);
    Fixtures.Result r = submit(reject, data);
    byte[] tail = java.util.Arrays.copyOfRange(r.message(), r.message().length - data.length, r.message().length);
    assertArrayEquals(data, tail);
    // The bytes stay as written; the domain whose keys sign (and d=) is the A-label form (RFC 6376 §3.5).
    assertEquals("xn--bcher-kva.example", r.prepared().authorDomain());
  }

  @Test
  void crlfSplitAcrossReadsIsStillOneLineEnding() throws Exception {
    byte[] data = crlf(HEAD + "one\ntwo\n\nfour\n");
    Fixtures.Collected whole = new Fixtures.Collected();
    Fixtures.Collected trickled = new Fixtures.Collected();
    reject.prepareLocal(new ByteArrayInputStream(data), Fixtures.RECEIVED, whole, 10_000);
    reject.prepareLocal(oneByteAtATime(data), Fixtures.RECEIVED, trickled, 10_000);
    assertArrayEquals(whole.message(), trickled.message());
  }

  @Test
  void bareCrIsRefusedWhenTheNextByteArrivesInALaterRead() {
    MessageException e = org.junit.jupiter.api.Assertions.assertThrows(MessageException.class,
        () -> reject.prepareLocal(oneByteAtATime(bytes(new String(crlf(HEAD)) + "a\rb\r\n")), Fixtures.RECEIVED,
            new Fixtures.Collected(), 10_000));
    assertEquals("550 5.6.0", e.replyCode() + " " + e.enhancedCode());
  }

  /** A stream that hands out one byte per read, as a slow network might. */
  private static java.io.InputStream oneByteAtATime(byte[] data) {
    return new ByteArrayInputStream(data) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, 1));
      }
    };
  }
}
