package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.signet.dkim.Canonicalization.Canon;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** RFC 6376 §3.4.3 (simple) and §3.4.4 (relaxed) body canonicalization, one rule per test. */
class BodyCanonicalizationTest {

  static String canonical(Canon canon, String body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BodyCanonicalizer c = BodyCanonicalizer.of(canon, out::write);
    byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
    c.write(bytes, 0, bytes.length);
    c.finish();
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  static String simple(String body) {
    return canonical(Canon.SIMPLE, body);
  }

  static String relaxed(String body) {
    return canonical(Canon.RELAXED, body);
  }

  @Test
  void simpleEmptyBodyIsOneCrlf() {
    assertEquals("\r\n", simple(""));
  }

  @Test
  void simpleBodyOfOnlyEmptyLinesIsOneCrlf() {
    assertEquals("\r\n", simple("\r\n\r\n\r\n"));
  }

  @Test
  void simpleIgnoresEmptyLinesAtTheEnd() {
    assertEquals("a\r\n", simple("a\r\n\r\n\r\n"));
  }

  @Test
  void simpleKeepsEmptyLinesInside() {
    assertEquals("a\r\n\r\n\r\nb\r\n", simple("a\r\n\r\n\r\nb\r\n"));
  }

  @Test
  void simpleAddsMissingFinalCrlf() {
    assertEquals("a\r\nb\r\n", simple("a\r\nb"));
  }

  @Test
  void simpleKeepsWhitespace() {
    assertEquals(" a \t b  \r\n  \r\n", simple(" a \t b  \r\n  \r\n\r\n"));
  }

  @Test
  void simpleTreatsLoneCrAndLfAsContent() {
    assertEquals("a\rb\nc\r\n", simple("a\rb\nc\r\n"));
    assertEquals("a\r\r\n", simple("a\r"));
  }

  @Test
  void relaxedEmptyBodyStaysEmpty() {
    assertEquals("", relaxed(""));
  }

  @Test
  void relaxedBodyOfOnlyEmptyLinesIsEmpty() {
    assertEquals("", relaxed("\r\n\r\n"));
  }

  @Test
  void relaxedIgnoresWhitespaceAtEndOfLines() {
    assertEquals("a\r\nb\r\n", relaxed("a \t \r\nb\t\r\n"));
  }

  @Test
  void relaxedReducesWhitespaceRunsToOneSpace() {
    assertEquals("a b c d\r\n", relaxed("a  b\t\tc \t d\r\n"));
  }

  @Test
  void relaxedKeepsLeadingWhitespaceAsOneSpace() {
    assertEquals(" a\r\n", relaxed(" \t a\r\n"));
  }

  @Test
  void relaxedIgnoresEmptyLinesAtTheEnd() {
    assertEquals("a\r\n", relaxed("a\r\n\r\n\r\n"));
  }

  @Test
  void relaxedTreatsWhitespaceOnlyLinesAtTheEndAsEmpty() {
    assertEquals("a\r\n", relaxed("a\r\n \t\r\n  \r\n\r\n"));
  }

  @Test
  void relaxedKeepsWhitespaceOnlyLinesInsideAsEmptyLines() {
    assertEquals("a\r\n\r\nb\r\n", relaxed("a\r\n  \r\nb\r\n"));
  }

  @Test
  void relaxedAddsMissingFinalCrlf() {
    assertEquals("a\r\n", relaxed("a"));
  }

  @Test
  void relaxedTreatsAnUnterminatedLastLineLikeAnyLine() {
    // Once transmitted over SMTP the line ends in CRLF; its trailing WSP is then ignored.
    assertEquals("a\r\n", relaxed("a \t"));
    assertEquals("a\r\n", relaxed("a\r\n  "));
  }

  @Test
  void relaxedBodyOfOnlyWhitespaceIsEmpty() {
    assertEquals("", relaxed("  \r\n\t\r\n"));
  }

  /** RFC 6376 §3.4.6, the body of the example. */
  static final String RFC_EXAMPLE_BODY = " C \r\nD \t E\r\n\r\n\r\n";

  @Test
  void rfc6376Example346SimpleBody() {
    assertEquals(" C \r\nD \t E\r\n", simple(RFC_EXAMPLE_BODY));
  }

  @Test
  void rfc6376Example346RelaxedBody() {
    assertEquals(" C\r\nD E\r\n", relaxed(RFC_EXAMPLE_BODY));
  }
}
