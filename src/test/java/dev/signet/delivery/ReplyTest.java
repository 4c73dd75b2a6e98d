package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.signet.testkit.RandomText;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ReplyTest {
  /** RFC 3463 §2 after the reply code (RFC 2034 §4), as a regular expression: the specification. */
  private static final Pattern ENHANCED = Pattern.compile("^\\d{3}[ -]([245])\\.(\\d{1,3})\\.(\\d{1,3})(?:\\s|$)");

  private static String expected(int code, String text) {
    Matcher m = ENHANCED.matcher(text);
    if (m.find() && m.group(1).charAt(0) - '0' == code / 100) {
      return m.group(1) + "." + m.group(2) + "." + m.group(3);
    }
    return (code / 100) + ".0.0";
  }

  @Test
  void enhancedStatusIsTakenFromTheReplyWhenItsClassMatches() {
    assertEquals("5.1.1", Reply.statusOf(550, "550 5.1.1 no such user"));
    assertEquals("2.0.0", Reply.statusOf(250, "250-2.0.0 ok"));
    assertEquals("4.7.28", Reply.statusOf(421, "421 4.7.28 rate limited"));
    assertEquals("5.0.0", Reply.statusOf(550, "550 4.1.1 class differs"));
    assertEquals("5.0.0", Reply.statusOf(550, "550 5.1.1000 detail too long"));
    assertEquals("2.0.0", Reply.statusOf(250, "250 ok"));
    assertEquals("2.6.0", Reply.statusOf(250, "250 2.6.0"));
    for (String text : List.of("550 5.1.1\tx", "550 5.1.1\r\n", "550 5.1.1x", "550 5..1", "55 5.1.1", "550 5.1.")) {
      assertEquals(expected(550, text), Reply.statusOf(550, text), text);
    }
    Random random = new Random(3463);
    String alphabet = "0245 .-\tx1";
    for (int i = 0; i < 300_000; i++) {
      String text = RandomText.of(random, alphabet, 14);
      String s = i % 2 == 0 ? text : "550 5." + text;
      int code = List.of(250, 421, 550).get(random.nextInt(3));
      assertEquals(expected(code, s), Reply.statusOf(code, s), s);
    }
  }
}
