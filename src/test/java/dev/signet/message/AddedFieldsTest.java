package dev.signet.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.RandomText;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class AddedFieldsTest {
  /** The JDK's formatter for RFC 5322 §3.3 date-time in UTC: the specification of {@code AddedFields.date}. */
  private static final DateTimeFormatter RFC5322 =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** RFC 5321 §4.1.3 Domain (with underscores) or address-literal, as a regular expression. */
  private static final Pattern DOMAIN_OR_LITERAL = Pattern.compile(
      "[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*\\.?"
          + "|\\[[A-Za-z0-9.:]+\\]");

  @Test
  void dateIsTheFormattersText() {
    Random random = new Random(5322);
    for (int i = 0; i < 100_000; i++) {
      Instant t =
          Instant.ofEpochSecond(random.nextLong(-100_000_000_000L, 300_000_000_000L), random.nextInt(1000_000_000));
      assertEquals(RFC5322.format(t), AddedFields.date(t));
    }
    assertEquals("Mon, 7 Dec 2026 01:02:03 +0000", AddedFields.date(Instant.parse("2026-12-07T01:02:03.999Z")));
  }

  @Test
  void heloNamesAreCheckedAsTheGrammarSays() {
    for (String name : List.of("mail.example.com", "mail.example.com.", "a", "a_b-c.d", "[192.0.2.1]",
        "[IPv6:2001:db8::1]", "x1.y2")) {
      assertTrue(AddedFields.domainOrLiteral(name), name);
    }
    for (String name : List.of("", ".", "a..b", "a.", "-a", "a-", ".a", "a b", "[]", "[a b]", "[a]b]", "é.example",
        "a..", "[192.0.2.1")) {
      assertEquals(DOMAIN_OR_LITERAL.matcher(name).matches(), AddedFields.domainOrLiteral(name), name);
    }
    assertFalse(AddedFields.domainOrLiteral("a..b"));
    Random random = new Random(5321);
    String alphabet = "aZ09_-.[]: é";
    for (int i = 0; i < 200_000; i++) {
      String s = RandomText.of(random, alphabet, 8);
      assertEquals(DOMAIN_OR_LITERAL.matcher(s).matches(), AddedFields.domainOrLiteral(s), s);
    }
  }
}
