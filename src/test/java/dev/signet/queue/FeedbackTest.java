package dev.signet.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class FeedbackTest {
  /** The first Message-ID of a header block, fields split with a regular expression: the specification. */
  private static String expected(String head) {
    int end = head.indexOf("\r\n\r\n");
    String text = end < 0 ? head : head.substring(0, end + 2);
    for (String field : Pattern.compile("\r\n(?![ \t])").split(text)) {
      int colon = field.indexOf(':');
      if (colon > 0 && field.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("message-id")) {
        return field.substring(colon + 1).replace("\r\n", "").trim();
      }
    }
    return null;
  }

  private static String messageId(String head) {
    return Feedback.messageId(head.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void messageIdIsReadFromTheHeaderOnly() {
    assertEquals("<a@example.com>", messageId("From: x\r\nMessage-ID: <a@example.com>\r\n\r\nbody"));
    assertEquals("<a@example.com>", messageId("message-id:\r\n <a@example.com>\r\nSubject: s\r\n\r\n"));
    assertEquals("<first@x>", messageId("Message-Id: <first@x>\r\nMessage-Id: <second@x>\r\n\r\n"));
    assertNull(messageId("From: x\r\n\r\nMessage-ID: <in-body@x>\r\n"));
    assertNull(messageId("Subject: Message-ID: <no@x>\r\n\r\n"));
    assertEquals("<cut@x>", messageId("From: x\r\nMessage-ID: <cut@x>"));
  }

  @Test
  void fieldsSplitWhereFoldingEnds() {
    Random random = new Random(5322);
    String[] pieces =
        {"Message-ID:", "message-id :", "From:", " <a@b>", "\r\n", "\r\n ", "\r\n\t", "x", ":", "\r\n\r\n"};
    for (int i = 0; i < 100_000; i++) {
      StringBuilder head = new StringBuilder();
      for (int n = random.nextInt(8); n > 0; n--) {
        head.append(pieces[random.nextInt(pieces.length)]);
      }
      assertEquals(expected(head.toString()), messageId(head.toString()), head.toString());
    }
  }
}
