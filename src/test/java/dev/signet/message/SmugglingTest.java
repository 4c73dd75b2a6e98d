package dev.signet.message;

import static dev.signet.message.Fixtures.assertRefused;
import static dev.signet.message.Fixtures.bytes;
import static dev.signet.message.Fixtures.unsigned;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SMTP smuggling (SEC Consult, 2023): data that a lenient receiver would end early at a bare-LF or
 * bare-CR variant of CRLF.CRLF, turning the rest into a second, forged message. SubEthaSMTP ends DATA
 * only at CRLF.CRLF and hands these through, so the pipeline itself must refuse them.
 */
class SmugglingTest {
  private static final String HEAD = "From: a@example.com\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nfirst part";
  private static final String SMUGGLED = "MAIL FROM:<ceo@victim.example>\r\nRCPT TO:<x@example.net>\r\nDATA\r\n"
      + "From: ceo@victim.example\r\n\r\nforged\r\n";

  private final Submission submission = unsigned();

  @ParameterizedTest(name = "terminator {0}")
  @ValueSource(strings = {"\n.\r\n", "\r\n.\n", "\n.\n", "\r.\r", "\r\n.\r", "\r.\r\n"})
  void smugglingTerminatorsInsideDataAreRefused(String terminator) {
    assertRefused("550 5.6.0", submission, bytes(HEAD + terminator + SMUGGLED));
  }
}
