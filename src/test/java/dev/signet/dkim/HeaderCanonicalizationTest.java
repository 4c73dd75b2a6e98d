package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.signet.dkim.Canonicalization.Canon;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** RFC 6376 §3.4.1 (simple) and §3.4.2 (relaxed) header canonicalization, one rule per test. */
class HeaderCanonicalizationTest {

  static String simple(String field) {
    return new String(HeaderCanonicalizer.of(Canon.SIMPLE).canonicalize(HeaderField.of(field)), StandardCharsets.UTF_8);
  }

  static String relaxed(String field) {
    return new String(HeaderCanonicalizer.of(Canon.RELAXED).canonicalize(HeaderField.of(field)), StandardCharsets.UTF_8);
  }

  @Test
  void simpleChangesNothing() {
    String field = "SuBject :  Hello\t \r\n  World \r\n";
    assertEquals(field, simple(field));
  }

  @Test
  void relaxedLowercasesTheName() {
    assertEquals("subject:Hello\r\n", relaxed("SUBJECT:Hello\r\n"));
  }

  @Test
  void relaxedKeepsTheCaseOfTheValue() {
    assertEquals("subject:HeLLo\r\n", relaxed("Subject:HeLLo\r\n"));
  }

  @Test
  void relaxedUnfoldsContinuationLines() {
    assertEquals("subject:Hello World\r\n", relaxed("Subject: Hello\r\n World\r\n"));
    assertEquals("subject:Hello World\r\n", relaxed("Subject: Hello\r\n\tWorld\r\n"));
  }

  @Test
  void relaxedReducesWhitespaceRunsToOneSpace() {
    assertEquals("subject:a b c\r\n", relaxed("Subject: a \t b\t\tc\r\n"));
  }

  @Test
  void relaxedDeletesWhitespaceAtTheEndOfTheValue() {
    assertEquals("subject:a\r\n", relaxed("Subject: a \t\r\n"));
    assertEquals("subject:a\r\n", relaxed("Subject: a\r\n \t\r\n"));
  }

  @Test
  void relaxedDeletesWhitespaceAroundTheColon() {
    assertEquals("subject:a\r\n", relaxed("Subject \t: \t a\r\n"));
  }

  @Test
  void relaxedKeepsAnEmptyValue() {
    assertEquals("subject:\r\n", relaxed("Subject:   \r\n"));
  }

  @Test
  void relaxedKeepsUtf8BytesOfTheValue() {
    assertEquals("subject:Grüße  aus Köln".replace("  ", " ") + "\r\n", relaxed("Subject: Grüße  aus Köln\r\n"));
  }

  @Test
  void rfc6376Example346SimpleHeader() {
    assertEquals("A: X\r\n", simple("A: X\r\n"));
    assertEquals("B : Y\t\r\n\tZ  \r\n", simple("B : Y\t\r\n\tZ  \r\n"));
  }

  @Test
  void rfc6376Example346RelaxedHeader() {
    assertEquals("a:X\r\n", relaxed("A: X\r\n"));
    assertEquals("b:Y Z\r\n", relaxed("B : Y\t\r\n\tZ  \r\n"));
  }
}
