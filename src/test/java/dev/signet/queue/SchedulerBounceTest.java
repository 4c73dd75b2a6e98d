package dev.signet.queue;

import static dev.signet.testkit.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.Bouncer;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestClock;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MultipartReport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Permanent failures come back to the sender as one RFC 3464 report, queued and delivered through the
 * same spool with the null sender: 5xx, null MX, mixed outcomes across domains, expiry; never for a
 * message that itself had the null sender.
 */
class SchedulerBounceTest {
  private static final Duration WAIT = Duration.ofSeconds(15);

  @TempDir Path root;
  private QueueRig rig;
  private final AtomicInteger reportsBuilt = new AtomicInteger();
  private Scheduler.Reports reports;

  @BeforeEach
  void start() throws Exception {
    rig = new QueueRig(root);
    Scheduler.Reports real = BounceReports.of(new Bouncer("relay.signet.test", Clock.systemUTC()));
    reports = (message, failed, file) -> {
      reportsBuilt.incrementAndGet();
      return real.failureReport(message, failed, file);
    };
    rig.mx("example.com", 10, "127.0.0.6"); // the sender's domain: where bounces go
  }

  @AfterEach
  void stop() throws Exception {
    rig.close();
  }

  record Report(MimeMessage message, List<InternetHeaders> recipients, String returnedHeaders) {
    String field(int recipient, String name) {
      return recipients.get(recipient).getHeader(name, ", ");
    }
  }

  private static Report parse(ScriptedMx.Copy m) throws Exception {
    MimeMessage message = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(m.data()));
    assertTrue(message.getContentType().startsWith("multipart/report"), message.getContentType());
    assertTrue(message.getContentType().contains("report-type=delivery-status"), message.getContentType());
    MultipartReport report = assertInstanceOf(MultipartReport.class, message.getContent());
    DeliveryStatus status = assertInstanceOf(DeliveryStatus.class, report.getReport());
    List<InternetHeaders> recipients = new ArrayList<>();
    for (int i = 0; i < status.getRecipientDSNCount(); i++) {
      recipients.add(status.getRecipientDSN(i));
    }
    String returned = new String(report.getBodyPart(2).getInputStream().readAllBytes());
    return new Report(message, recipients, returned);
  }

  @Test
  void aPermanentRcptFailureIsReportedToTheSendersMx() throws Exception {
    ScriptedMx senderMx = rig.scripted("127.0.0.6");
    rig.mx("dest.test", 10, "127.0.0.2");
    rig.scripted("127.0.0.2").script("nobody@dest.test", "550 5.1.1 no such user");
    rig.startRelay(reports);

    Envelope sent = rig.send("app@example.com", "nobody@dest.test");

    await("report delivered", WAIT, () -> senderMx.copies().size() == 1);
    await("original and report removed", WAIT, () -> rig.queued() == 0);
    ScriptedMx.Copy dsn = senderMx.copies().get(0);
    assertEquals("", dsn.from(), "null reverse-path, RFC 5321 §4.5.5");
    assertEquals("app@example.com", dsn.recipient());
    Report report = parse(dsn);
    assertEquals(1, report.recipients().size());
    assertEquals("rfc822; nobody@dest.test", report.field(0, "Final-Recipient"));
    assertEquals("failed", report.field(0, "Action"));
    assertEquals("5.1.1", report.field(0, "Status"));
    assertEquals("dns; mx10.dest.test", report.field(0, "Remote-MTA"));
    assertTrue(report.field(0, "Diagnostic-Code").startsWith("smtp; 550 5.1.1 no such user"),
        report.field(0, "Diagnostic-Code"));
    assertTrue(report.returnedHeaders().contains("Subject: test for nobody@dest.test"), report.returnedHeaders());
    assertTrue(new String(dsn.data()).contains("X-Signet-Queue-ID: " + sent.id()));
  }

  @Test
  void aNullMxFailsAtOnceWithoutRetrying() throws Exception {
    rig.retry = List.of(Duration.ofHours(1)); // a deferral would not come back within the test
    ScriptedMx senderMx = rig.scripted("127.0.0.6");
    rig.dns.add("nullmx.test. 300 IN MX 0 .");
    rig.startRelay(reports);

    rig.send("app@example.com", "someone@nullmx.test");

    await("report delivered", WAIT, () -> senderMx.copies().size() == 1);
    Report report = parse(senderMx.copies().get(0));
    assertEquals("rfc822; someone@nullmx.test", report.field(0, "Final-Recipient"));
    assertEquals("5.1.10", report.field(0, "Status"), "RFC 7505 §4.2");
  }

  @Test
  void mixedOutcomesAcrossDomainsGiveOneReportListingOnlyTheFailedRecipients() throws Exception {
    rig.clock = new TestClock(Instant.now());
    ScriptedMx senderMx = rig.scripted("127.0.0.6");
    rig.mx("ok.test", 10, "127.0.0.2");
    ScriptedMx ok = rig.scripted("127.0.0.2");
    rig.mx("bad.test", 10, "127.0.0.3");
    rig.scripted("127.0.0.3").script("b@bad.test", "550 5.7.1 relaying denied");
    rig.mx("slow.test", 10, "127.0.0.4");
    ScriptedMx slow = rig.scripted("127.0.0.4").script("e@slow.test", "451 4.3.2 try later");
    rig.dns.add("nullmx.test. 300 IN MX 0 .");
    rig.startRelay(reports);

    Envelope sent = rig.send("app@example.com", "a@ok.test", "b@bad.test", "c@nullmx.test", "d@ok.test", "e@slow.test");

    assertEquals(4, rig.runDue().size(), "one job per domain");
    rig.stepUntil("original removed", () -> rig.onDisk(sent.id()) == null); // e@slow.test on its retry
    rig.stepUntil("report delivered", () -> rig.queued() == 0);
    rig.assertIdle(); // no job left that could send a second report
    assertEquals(1, senderMx.copies().size(), "exactly one report");
    assertEquals(1, reportsBuilt.get());
    Report report = parse(senderMx.copies().get(0));
    List<String> listed = report.recipients().stream().map(h -> h.getHeader("Final-Recipient", ",")).sorted().toList();
    assertEquals(List.of("rfc822; b@bad.test", "rfc822; c@nullmx.test"), listed);
    assertEquals(2, ok.copies().size());
    assertEquals(1, slow.received().size());
  }

  @Test
  void aFailedMessageWithTheNullSenderIsNotBounced() throws Exception {
    rig.clock = new TestClock(Instant.now());
    ScriptedMx senderMx = rig.scripted("127.0.0.6");
    rig.mx("dest.test", 10, "127.0.0.2");
    ScriptedMx mx = rig.scripted("127.0.0.2").script("nobody@dest.test", "550 5.1.1 no such user");
    rig.startRelay(reports);

    Envelope sent = rig.send("", "nobody@dest.test");

    assertEquals(1, rig.runDue().size());
    assertEquals(null, rig.onDisk(sent.id()), "message removed");
    rig.assertIdle(); // nothing queued that could still go out
    assertEquals(1, mx.rcptCommands(), "tried once");
    assertEquals(0, reportsBuilt.get(), "no report built");
    assertEquals(0, rig.queued(), "nothing queued");
    assertEquals(0, senderMx.copies().size());
  }

  @Test
  void aRecipientStillDeferredAtMaxAgeExpiresIntoAReport() throws Exception {
    rig.clock = new TestClock(Instant.now());
    rig.maxAge = Duration.ofHours(1);
    rig.retry = List.of(Duration.ofMinutes(20));
    ScriptedMx senderMx = rig.scripted("127.0.0.6");
    rig.mx("dest.test", 10, "127.0.0.5"); // nothing listens
    rig.startRelay(reports);

    Envelope sent = rig.send("app@example.com", "late@dest.test");
    Instant deadline = rig.clock.instant().plus(rig.maxAge);

    rig.stepUntil("original removed", () -> rig.onDisk(sent.id()) == null);
    assertEquals(deadline, rig.clock.instant(), "the last attempt is at the max-age deadline, not after it");
    rig.stepUntil("report delivered", () -> senderMx.copies().size() == 1);
    rig.assertIdle();
    Report report = parse(senderMx.copies().get(0));
    assertEquals("failed", report.field(0, "Action"));
    assertEquals("4.4.7", report.field(0, "Status"), "RFC 3463: delivery time expired");
    String diagnostic = report.field(0, "Diagnostic-Code");
    // from 0 every 20 minutes ±20%, the last one exactly at the 60-minute deadline: 4 or 5 attempts
    assertTrue(diagnostic.matches("X-Signet; expired after [45] attempts: 421 4\\.4\\.1 cannot connect.*"), diagnostic);
  }

  @Test
  void aTlsPolicyFailureAtMaxAgeBouncesNamingThePolicy() throws Exception {
    rig.clock = new TestClock(Instant.now());
    rig.maxAge = Duration.ofHours(1);
    rig.retry = List.of(Duration.ofMinutes(20));
    rig.tlsPolicy = java.util.Map.of("dest.test", dev.signet.config.SignetConfig.TlsLevel.VERIFY);
    ScriptedMx senderMx = rig.scripted("127.0.0.6");
    ScriptedMx plaintextOnly = rig.scripted("127.0.0.5"); // no STARTTLS: the policy cannot be met
    rig.mx("dest.test", 10, "127.0.0.5");
    rig.startRelay(reports);

    Envelope sent = rig.send("app@example.com", "late@dest.test");

    rig.stepUntil("report delivered", () -> senderMx.copies().size() == 1);
    assertEquals(0, plaintextOnly.copies().size(), "never delivered in plaintext");
    String diagnostic = parse(senderMx.copies().get(0)).field(0, "Diagnostic-Code");
    assertTrue(diagnostic.contains("TLS policy verify for dest.test: TLS is required"), diagnostic);
    assertEquals(null, rig.onDisk(sent.id()));
  }

  @Test
  void aDelayWarningGoesOutOncePerMessage() throws Exception {
    rig.clock = new TestClock(Instant.now());
    rig.delayWarning = java.util.Optional.of(Duration.ofMinutes(30));
    rig.retry = List.of(Duration.ofMinutes(10));
    ScriptedMx senderMx = rig.scripted("127.0.0.6");
    rig.mx("dest.test", 10, "127.0.0.5"); // down for now
    rig.mx("other.test", 10, "127.0.0.5");
    rig.startRelay(BounceReports.of(new Bouncer("relay.signet.test", Clock.systemUTC())));

    Envelope sent = rig.send("app@example.com", "a@dest.test", "b@other.test");

    rig.stepUntil("warning delivered", () -> senderMx.copies().size() == 1);
    Report warning = parse(senderMx.copies().get(0));
    assertEquals("delayed", warning.field(0, "Action"));
    assertEquals("4.4.1", warning.field(0, "Status"));
    assertTrue(warning.field(0, "Will-Retry-Until") != null);
    assertEquals(2, warning.recipients().size(), "both deferred recipients listed");
    int attempts = rig.onDisk(sent.id()).recipients().get(0).attempts();
    rig.stepUntil("three more deferrals", () -> rig.onDisk(sent.id()).recipients().get(0).attempts() >= attempts + 3);
    assertEquals(1, rig.queued(), "only the message itself: no second warning queued");
    assertEquals(1, senderMx.copies().size(), "no second warning");

    ScriptedMx mx = rig.scripted("127.0.0.5");
    rig.stepUntil("delivered", () -> rig.onDisk(sent.id()) == null);
    rig.assertIdle();
    assertEquals(2, mx.copies().size());
    assertEquals(1, senderMx.copies().size(), "no report after delivery");
    assertTrue(!java.nio.file.Files.exists(rig.spoolDir.resolve("warned/" + sent.id())),
        "warned/ marker removed with the message");
  }
}
