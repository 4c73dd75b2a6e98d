package dev.signet.message;

import static dev.signet.message.Fixtures.crlf;
import static dev.signet.message.Fixtures.submit;
import static dev.signet.message.Fixtures.unsigned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** RFC 6409 §8 fix-ups (Date, Message-ID) and the Received field of RFC 5321 §4.4. */
class FixUpsTest {
  private final Submission submission = unsigned();

  @Test
  void missingDateAndMessageIdAreAdded() throws Exception {
    Fixtures.Result r = submit(submission, crlf("From: a@example.com\nSubject: s\n\nbody\n"));
    String text = r.text();
    assertTrue(text.contains("\r\nDate: Wed, 25 Nov 2026 12:00:00 +0000\r\n"), text);
    assertTrue(Pattern.compile("\r\nMessage-ID: <[0-9a-f]{32}@relay\\.example\\.com>\r\n").matcher(text).find(), text);
    assertEquals(text.substring(text.indexOf("Message-ID: ") + 12, text.indexOf(">", text.indexOf("Message-ID: ")) + 1),
        r.prepared().messageId());
  }

  @Test
  void addedFieldsComeAfterTheMessagesOwnFields() throws Exception {
    String text = submit(submission, crlf("From: a@example.com\nSubject: s\n\nbody\n")).text();
    assertTrue(text.indexOf("Subject: s") < text.indexOf("Date: "), text);
    assertTrue(text.indexOf("Date: ") < text.indexOf("Message-ID: "), text);
    assertTrue(text.indexOf("Message-ID: ") < text.indexOf("\r\n\r\nbody"), text);
  }

  @Test
  void everyMessageGetsItsOwnMessageId() throws Exception {
    byte[] data = crlf("From: a@example.com\n\nbody\n");
    assertNotEquals(submit(submission, data).prepared().messageId(), submit(submission, data).prepared().messageId());
  }

  @Test
  void existingDateAndMessageIdAreKeptAndNotDuplicated() throws Exception {
    String text = submit(submission, crlf("From: a@example.com\ndate: Mon, 1 Jan 2024 00:00:00 +0100\n"
        + "message-id:  <mine@example.com>\n\nbody\n")).text();
    assertEquals(1, count(text, "(?im)^date:"), text);
    assertEquals(1, count(text, "(?im)^message-id:"), text);
    assertTrue(text.contains("message-id:  <mine@example.com>\r\n"), text);
  }

  @Test
  void messageIdOfTheMessageIsReported() throws Exception {
    Fixtures.Result r = submit(submission, crlf("From: a@example.com\nMessage-ID:\n <folded@example.com>\n\nb\n"));
    assertEquals("<folded@example.com>", r.prepared().messageId());
  }

  @Test
  void receivedFieldRecordsHeloAddressProtocolAndQueueId() throws Exception {
    String text = submit(submission, crlf("From: a@example.com\n\nbody\n")).text();
    assertTrue(text.startsWith("Received: from client.example.net ([192.0.2.7])\r\n"
        + "\tby relay.example.com (Signet) with ESMTP id 4Q7XK2;\r\n"
        + "\tWed, 25 Nov 2026 12:00:00 +0000\r\nFrom: a@example.com\r\n"), text);
  }

  @Test
  void receivedFieldSaysEsmtpsaForTlsWithAuthAndHidesTheUser() throws Exception {
    Trace trace = new Trace("Q2", "[192.0.2.9]", InetAddress.getByName("2001:db8::9"), Optional.of("secret-login"),
        true, Fixtures.RECEIVED);
    String text = run(trace);
    assertTrue(text.startsWith("Received: from [192.0.2.9] ([IPv6:2001:db8:0:0:0:0:0:9])\r\n"
        + "\tby relay.example.com (Signet) with ESMTPSA id Q2;"), text);
    assertFalse(text.contains("secret-login"), text);
  }

  @Test
  void heloThatIsNotADomainIsNotCopiedIntoTheReceivedField() throws Exception {
    Trace trace = new Trace("Q3", "evil) (by forged.example", InetAddress.getByName("192.0.2.8"), Optional.empty(),
        false, Fixtures.RECEIVED);
    String text = run(trace);
    assertTrue(text.startsWith("Received: from unknown ([192.0.2.8])\r\n"), text);
    assertFalse(text.contains("forged"), text);
  }

  @Test
  void localPreparationAddsNoReceivedField() throws Exception {
    Fixtures.Collected sink = new Fixtures.Collected();
    submission.prepareLocal(new ByteArrayInputStream(crlf("From: a@example.com\n\nbody\n")), Fixtures.RECEIVED, sink,
        1000);
    String text = new String(sink.message(), StandardCharsets.UTF_8);
    assertTrue(text.startsWith("From: a@example.com\r\nDate: Wed, 25 Nov 2026 12:00:00 +0000\r\nMessage-ID: <"), text);
  }

  private String run(Trace trace) throws Exception {
    Fixtures.Collected sink = new Fixtures.Collected();
    submission.prepare(new ByteArrayInputStream(crlf("From: a@example.com\n\nbody\n")), trace, sink, 1000);
    return new String(sink.message(), StandardCharsets.UTF_8);
  }

  private static long count(String text, String regex) {
    return Pattern.compile(regex).matcher(text).results().count();
  }
}
