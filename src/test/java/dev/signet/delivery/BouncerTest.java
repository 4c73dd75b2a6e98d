package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.ScriptedMx;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MultipartReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BouncerTest {

  private static final Instant NOW = Instant.parse("2026-11-25T18:00:00Z");
  private final Bouncer bouncer = new Bouncer("relay.signet.test", Clock.fixed(NOW, ZoneOffset.UTC));
  private final Bouncer.Original original =
      new Bouncer.Original("Q42", "sender@example.com", fixture("plain.eml"), NOW.minusSeconds(3600));

  private static final List<RecipientOutcome> MIXED = List.of(
      new RecipientOutcome.Delivered("ok@dest.test", Reply.remote(250, "250 2.0.0 ok", "mx.dest.test")),
      new RecipientOutcome.Failed("gone@dest.test", Reply.remote(550, "550 5.1.1 no such user", "mx.dest.test")),
      new RecipientOutcome.Deferred("busy@dest.test", Reply.remote(450, "450 4.2.1 busy", "mx.dest.test")),
      new RecipientOutcome.Failed("x@nomail.test", Reply.local(556, "5.1.10", "domain nomail.test does not accept mail")));

  private static MimeMessage parse(byte[] bytes) throws Exception {
    return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(bytes));
  }

  @Test
  void aFailureDsnIsAMultipartReportListingOnlyTheFailedRecipients() throws Exception {
    Bouncer.Bounce bounce = bouncer.failed(original, MIXED).orElseThrow();

    assertEquals("sender@example.com", bounce.recipient());
    MimeMessage dsn = parse(bounce.message());
    assertTrue(dsn.getContentType().startsWith("multipart/report"), dsn.getContentType());
    assertTrue(dsn.getContentType().contains("report-type=delivery-status"), dsn.getContentType());
    assertEquals("Mail Delivery System <MAILER-DAEMON@relay.signet.test>", dsn.getFrom()[0].toString());
    assertEquals("sender@example.com", dsn.getAllRecipients()[0].toString());
    assertEquals("auto-replied", dsn.getHeader("Auto-Submitted")[0]);

    MultipartReport report = assertInstanceOf(MultipartReport.class, dsn.getContent());
    DeliveryStatus status = report.getDeliveryStatus();
    assertEquals("dns; relay.signet.test", status.getMessageDSN().getHeader("Reporting-MTA")[0]);
    assertEquals(2, status.getRecipientDSNCount());

    InternetHeaders gone = status.getRecipientDSN(0);
    assertEquals("rfc822; gone@dest.test", gone.getHeader("Final-Recipient")[0]);
    assertEquals("failed", gone.getHeader("Action")[0]);
    assertEquals("5.1.1", gone.getHeader("Status")[0]);
    assertEquals("dns; mx.dest.test", gone.getHeader("Remote-MTA")[0]);
    assertEquals("smtp; 550 5.1.1 no such user", gone.getHeader("Diagnostic-Code")[0]);

    InternetHeaders nullMx = status.getRecipientDSN(1);
    assertEquals("rfc822; x@nomail.test", nullMx.getHeader("Final-Recipient")[0]);
    assertEquals("5.1.10", nullMx.getHeader("Status")[0]);
    assertEquals(null, nullMx.getHeader("Remote-MTA"));

    assertTrue(report.getText().contains("gone@dest.test"), report.getText());
    assertFalse(report.getText().contains("busy@dest.test"), report.getText());
  }

  @Test
  void theDsnCarriesTheOriginalHeaderFields() throws Exception {
    MimeMessage dsn = parse(bouncer.failed(original, MIXED).orElseThrow().message());

    MultipartReport report = (MultipartReport) dsn.getContent();
    MimeBodyPart headers = (MimeBodyPart) report.getBodyPart(2);
    assertTrue(headers.isMimeType("text/rfc822-headers"), headers.getContentType());
    String text = new String(headers.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(text.contains("Message-ID: <plain@example.com>"), text);
    assertFalse(text.contains("Hello."), "the body was included: " + text);
    assertFalse(text.contains("MIME-Version"), "a header field was added to the original's: " + text);
  }

  @Test
  void theDsnHasOnlyCrlfLineEndings() throws Exception {
    byte[] bytes = bouncer.failed(original, MIXED).orElseThrow().message();
    Files.write(Path.of("target/sample-dsn.eml"), bytes); // for a human to look at

    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\n') {
        assertTrue(i > 0 && bytes[i - 1] == '\r', "bare LF at offset " + i);
      }
      if (bytes[i] == '\r') {
        assertTrue(i + 1 < bytes.length && bytes[i + 1] == '\n', "bare CR at offset " + i);
      }
    }
  }

  @Test
  void aNullSenderNeverGetsADsn() throws Exception {
    Bouncer.Original bounceItself = new Bouncer.Original("Q43", "", fixture("plain.eml"), NOW);

    assertEquals(Optional.empty(), bouncer.failed(bounceItself, MIXED));
    assertEquals(Optional.empty(), bouncer.delayed(bounceItself, MIXED, NOW.plusSeconds(86400)));
  }

  @Test
  void nothingFailedMeansNoDsn() throws Exception {
    assertEquals(Optional.empty(), bouncer.failed(original, List.of(MIXED.get(0), MIXED.get(2))));
  }

  @Test
  void aDelayWarningListsTheDeferredRecipientsAsDelayed() throws Exception {
    Instant until = NOW.plusSeconds(4 * 86400);

    MimeMessage dsn = parse(bouncer.delayed(original, MIXED, until).orElseThrow().message());

    DeliveryStatus status = ((MultipartReport) dsn.getContent()).getDeliveryStatus();
    assertEquals(1, status.getRecipientDSNCount());
    InternetHeaders busy = status.getRecipientDSN(0);
    assertEquals("rfc822; busy@dest.test", busy.getHeader("Final-Recipient")[0]);
    assertEquals("delayed", busy.getHeader("Action")[0]);
    assertEquals("4.2.1", busy.getHeader("Status")[0]);
    assertEquals(until, new jakarta.mail.internet.MailDateFormat().parse(busy.getHeader("Will-Retry-Until")[0]).toInstant());
  }

  @Test
  void aDsnIsDeliveredWithTheNullSender(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("dsn.eml");
    Files.write(file, bouncer.failed(original, MIXED).orElseThrow().message());
    try (DeliveryFixture delivery = new DeliveryFixture()) {
      delivery.mx("example.com", 10, "mx.example.com", "127.0.0.2");
      ScriptedMx mx = delivery.track(ScriptedMx.start("127.0.0.2", delivery.port));

      DeliveryResult result = delivery.sender().deliver(
          new DeliveryRequest("Q44", "", List.of("sender@example.com"), file));

      assertEquals(1, result.delivered().size(), result.toString());
      assertEquals("", mx.received().get(0).from());
      assertTrue(parse(mx.received().get(0).data()).getContentType().startsWith("multipart/report"));
    }
  }
}
