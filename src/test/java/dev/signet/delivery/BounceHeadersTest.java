package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The text/rfc822-headers part of a DSN is the original's header section, byte for byte. */
class BounceHeadersTest {
  private static final Instant NOW = Instant.parse("2026-11-25T18:00:00Z");
  private static final String HEADERS = "From: =?utf-8?q?x?= <\u7528\u6237@\u4f8b\u5b50.example>\r\n"
      + "To: \u7528\u6237@dest.test\r\nSubject: Gr\u00fc\u00dfe \u7528\u6237\r\nMessage-ID: <utf8@example.com>\r\n\r\n";

  @TempDir Path dir;

  private static MimeBodyPart returnedHeaders(byte[] dsn) throws Exception {
    MimeMessage parsed = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(dsn));
    MimeMultipart report = new MimeMultipart(parsed.getDataHandler().getDataSource());
    assertEquals(3, report.getCount());
    return (MimeBodyPart) report.getBodyPart(2);
  }

  @Test
  void utf8HeadersOfAnSmtputf8MessageAreNotDoubleEncoded() throws Exception {
    Path original = Files.write(dir.resolve("original.eml"),
        (HEADERS + "body\r\n").getBytes(StandardCharsets.UTF_8));
    Bouncer bouncer = new Bouncer("relay.signet.test", Clock.fixed(NOW, ZoneOffset.UTC));
    byte[] dsn = bouncer.failed(new Bouncer.Original("Q1", "\u7528\u6237@\u4f8b\u5b50.example", original, NOW),
        List.of(new RecipientOutcome.Failed("\u7528\u6237@dest.test",
            Reply.remote(550, "550 5.1.1 no such user", "mx.dest.test")))).orElseThrow().message();

    String text = new String(dsn, StandardCharsets.UTF_8);
    assertTrue(text.contains("Subject: Gr\u00fc\u00dfe \u7528\u6237\r\n"), text);
    assertTrue(!text.contains("\u00e7\u0094\u00a8"), "double-encoded UTF-8 in:\n" + text);
    MimeBodyPart part = returnedHeaders(dsn);
    assertTrue(part.isMimeType("text/rfc822-headers"), part.getContentType());
    assertEquals("8bit", part.getEncoding());
    assertArrayEquals(HEADERS.getBytes(StandardCharsets.UTF_8), part.getInputStream().readAllBytes());
  }

  @Test
  void asciiHeadersAreSevenBitAndUnchanged() throws Exception {
    String ascii = "From: a@example.com\r\nSubject: hi\r\nMessage-ID: <m1@example.com>\r\n\r\n";
    Path original = Files.write(dir.resolve("ascii.eml"), (ascii + "body\r\n").getBytes(StandardCharsets.US_ASCII));
    byte[] dsn = new Bouncer("relay.signet.test", "example.com", Clock.fixed(NOW, ZoneOffset.UTC))
        .failed(new Bouncer.Original("Q2", "a@example.com", original, NOW),
            List.of(new RecipientOutcome.Failed("b@dest.test", Reply.remote(550, "550 5.1.1 no", "mx.dest.test"))))
        .orElseThrow().message();
    MimeBodyPart part = returnedHeaders(dsn);
    assertEquals("7bit", part.getEncoding());
    assertArrayEquals(ascii.getBytes(StandardCharsets.US_ASCII), part.getInputStream().readAllBytes());
    assertTrue(new String(dsn, StandardCharsets.US_ASCII).contains("<MAILER-DAEMON@example.com>"));
  }
}
