package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.subethamail.smtp.RejectException;

class MailPathTest {

  @Test
  void pathAndParametersAreSeparated() throws RejectException {
    MailPath p = MailPath.parse("MAIL FROM:<a@example.com> SIZE=100 BODY=8BITMIME SMTPUTF8", "FROM:");
    assertEquals("a@example.com", p.address());
    java.util.Map<String, String> expected = new java.util.LinkedHashMap<>();
    expected.put("SIZE", "100");
    expected.put("BODY", "8BITMIME");
    expected.put("SMTPUTF8", null);
    assertEquals(expected, p.parameters());
  }

  @Test
  void parametersAreSeparatedByRunsOfSpacesAndNamedByKeywords() throws RejectException {
    java.util.Map<String, String> expected = new java.util.LinkedHashMap<>();
    expected.put("SIZE", "100");
    expected.put("X-1", null);
    assertEquals(expected, MailPath.parse("MAIL FROM:<a@example.com>   size=100  X-1  ", "FROM:").parameters());
    for (String bad : java.util.List.of(" -X=1", " X_Y=1", " SIZE=1 SIZE=2", " =1", " É=1")) {
      assertEquals(501, assertThrows(RejectException.class,
          () -> MailPath.parse("MAIL FROM:<a@example.com>" + bad, "FROM:")).getCode(), bad);
    }
  }

  @Test
  void nullPathSourceRouteAndSpaceAfterColonAreAccepted() throws RejectException {
    assertTrue(MailPath.parse("MAIL FROM:<>", "FROM:").isNull());
    assertEquals("b@example.org", MailPath.parse("RCPT TO:<@relay.example:b@example.org>", "TO:").address());
    assertEquals("b@example.org", MailPath.parse("rcpt to: <b@example.org>", "TO:").address());
    assertEquals(Map.of(), MailPath.parse("RCPT TO:<\"a > b\"@example.org>", "TO:").parameters());
  }

  @Test
  void malformedPathsAreRefused() {
    assertEquals(501, assertThrows(RejectException.class, () -> MailPath.parse("MAIL FROM:a@example.com", "FROM:")).getCode());
    assertEquals(501, assertThrows(RejectException.class, () -> MailPath.parse("MAIL FROM:<a@example.com", "FROM:")).getCode());
    assertEquals(501, assertThrows(RejectException.class, () -> MailPath.parse("MAIL TO:<a@example.com>", "FROM:")).getCode());
    assertEquals(501, assertThrows(RejectException.class, () -> MailPath.parse("MAIL FROM:<a@b.c>SIZE=1", "FROM:")).getCode());
  }

  @Test
  void mailboxSyntaxFollowsRfc5321() {
    assertTrue(MailPath.validMailbox("first.last+tag@sub.example.com", false));
    assertTrue(MailPath.validMailbox("\"odd name\"@example.com", false));
    assertTrue(MailPath.validMailbox("a@[192.0.2.1]", false));
    assertTrue(MailPath.validMailbox("用户@例子.广告", true));
    assertFalse(MailPath.validMailbox("用户@例子.广告", false));
    assertFalse(MailPath.validMailbox("no-at-sign", true));
    assertFalse(MailPath.validMailbox("a..b@example.com", true));
    assertFalse(MailPath.validMailbox("a@-example.com", true));
    assertFalse(MailPath.validMailbox("a b@example.com", true));
    assertFalse(MailPath.validMailbox("x".repeat(65) + "@example.com", true));
  }
}
