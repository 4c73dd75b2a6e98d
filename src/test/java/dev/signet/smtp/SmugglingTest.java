package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * SMTP smuggling: a second message hidden in the first behind an end-of-data that is not
 * CRLF.CRLF. DATA ends only at CRLF.CRLF here, and the bare line endings are refused (550 5.6.0),
 * so the hidden commands are neither run nor relayed.
 */
class SmugglingTest {
  @TempDir Path dir;

  private static final String SMUGGLED = "MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
      + "From: ceo@example.com\r\nSubject: smuggled\r\n\r\npay now\r\n";

  private static String payload(String fakeEnd) {
    return LimitsTest.HEADERS + "innocent body" + fakeEnd + SMUGGLED + "\r\n.\r\n";
  }

  @ParameterizedTest
  @ValueSource(strings = {"\n.\r\n", "\r\n.\n", "\n.\n", "\r.\r\n", "\r\n.\r"})
  void fakeEndOfDataIsRefusedAndNothingHiddenRuns(String fakeEnd) throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      LimitsTest.envelope(c);
      assertTrue(c.command("DATA").startsWith("354"));
      c.write(payload(fakeEnd));
      String reply = c.read();
      assertTrue(reply.startsWith("550 5.6.0"), reply);
      // Had the hidden commands run, their replies would come before NOOP's.
      assertEquals("250 Ok", c.command("NOOP"));
      assertEquals(List.of(), relay.queued());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"\n.\r\n", "\r\n.\n", "\n.\n"})
  void withNormalizationTheFakeEndStaysInsideOneMessage(String fakeEnd) throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "message.bare-line-endings: normalize");
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      LimitsTest.envelope(c);
      c.command("DATA");
      c.write(payload(fakeEnd));
      String reply = c.read();
      assertTrue(reply.startsWith("250 2.0.0"), reply);
      assertEquals("250 Ok", c.command("NOOP"));
      assertEquals(1, relay.queued().size(), "one message, not two");
      String text = new String(relay.message(relay.queued().get(0).id()), StandardCharsets.UTF_8);
      // The hidden part is body text of the one message (a "." line in it is dot-stuffed on delivery).
      assertTrue(text.contains("\r\nMAIL FROM:<evil@example.com>\r\n") && text.contains("pay now"), text);
    }
  }

  @Test
  void bareLfInBdatIsRefused() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      LimitsTest.envelope(c);
      String data = LimitsTest.HEADERS + "line\n.\nmore\r\n";
      c.write("BDAT " + data.length() + " LAST\r\n" + data);
      assertTrue(c.read().startsWith("550 5.6.0"));
      assertEquals(List.of(), relay.queued());
    }
  }

  @Test
  void messageRefusedEarlyIsStillReadToItsEnd() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      LimitsTest.envelope(c);
      c.command("DATA");
      // a NUL in the first header line: refused before the rest is read
      c.write("From: app@example.com\0\r\nSubject: s\r\n\r\n" + "RSET\r\n" + SMUGGLED + "\r\n.\r\n");
      assertTrue(c.read().startsWith("550 5.6.0"));
      assertEquals("250 Ok", c.command("NOOP"));
      assertEquals(List.of(), relay.queued());
    }
  }

  @Test
  void leadingDotOfTheFirstLineIsUnstuffed() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "message.bare-line-endings: normalize");
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      LimitsTest.envelope(c);
      c.command("DATA");
      // RFC 5321 §4.5.2: the client doubled the dot of a line starting with one, also on line 1.
      assertTrue(c.command("..X-Dot: 1\r\n" + LimitsTest.HEADERS + "..body\r\n.").startsWith("250"));
      String text = new String(relay.message(relay.queued().get(0).id()), StandardCharsets.UTF_8);
      assertTrue(text.contains("\r\n.X-Dot: 1\r\n") && !text.contains("..X-Dot"), text);
      assertTrue(text.endsWith("\r\n\r\n.body\r\n"), text);
    }
  }
}
