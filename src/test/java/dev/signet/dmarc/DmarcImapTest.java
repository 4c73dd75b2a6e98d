package dev.signet.dmarc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reports fetched from a real IMAP server (GreenMail) on loopback. */
class DmarcImapTest {

  @TempDir Path spool;
  private GreenMail imap;
  private GreenMailUser mailbox;

  @BeforeEach
  void start() {
    imap = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_IMAP).dynamicPort());
    imap.start();
    mailbox = imap.setUser("dmarc@example.com", "dmarc", "s3cret");
  }

  @AfterEach
  void stop() {
    imap.stop();
  }

  private String url() {
    return "imap://dmarc:s3cret@127.0.0.1:" + imap.getImap().getPort() + "/INBOX";
  }

  @Test
  void gzipAndZipAttachmentsAreStoredMalformedSkippedAndARepeatCountedOnce() throws Exception {
    String google = Reports.xml("google.com", "noreply-dmarc-support@google.com", "g-1");
    mailbox.deliver(Reports.mail("noreply-dmarc-support@google.com",
        "google.com!example.com!1764979200!1765065599.xml.gz", "application/gzip", Reports.gzip(google)));
    mailbox.deliver(Reports.mail("dmarcreport@microsoft.com",
        "enterprise.protection.outlook.com!example.com!1764979200!1765065599.zip", "application/zip",
        Reports.zip("report.xml", Reports.xml("Enterprise Outlook", "dmarcreport@microsoft.com", "m-1"))));
    mailbox.deliver(Reports.mail("dmarc@broken.example", "broken.xml", "text/xml",
        "<feedback><report_metadata><org_name>broken".getBytes(StandardCharsets.UTF_8)));
    mailbox.deliver(Reports.mail("noreply-dmarc-support@google.com", "again.xml.gz", "application/gzip",
        Reports.gzip(google)));
    List<ReportSummary> counted = new ArrayList<>();
    DmarcReports reports = new DmarcReports(spool, counted::add);

    List<DmarcReports.Outcome> outcomes = reports.mailbox(url());

    assertEquals(4, outcomes.size(), outcomes.toString());
    assertInstanceOf(DmarcReports.Outcome.Stored.class, outcomes.get(0));
    assertInstanceOf(DmarcReports.Outcome.Stored.class, outcomes.get(1));
    DmarcReports.Outcome.Malformed bad = assertInstanceOf(DmarcReports.Outcome.Malformed.class, outcomes.get(2));
    assertTrue(bad.source().endsWith("/broken.xml") && bad.reason().contains("XML"), bad.toString());
    assertInstanceOf(DmarcReports.Outcome.Duplicate.class, outcomes.get(3));
    assertEquals(List.of("g-1", "m-1"), counted.stream().map(ReportSummary::reportId).toList());
    assertEquals(2, reports.stored().size());
    assertTrue(!outcomes.get(0).source().contains("s3cret"), "the password never shows: " + outcomes.get(0).source());

    assertEquals(List.of(), reports.mailbox(url()), "read messages are not read again");
  }

  @Test
  void aWrongPasswordIsAClearError() {
    String wrong = url().replace("s3cret", "nope");
    java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> new DmarcReports(spool, r -> { }).mailbox(wrong));
    assertTrue(e.getMessage().startsWith("IMAP imap://dmarc:***@127.0.0.1:"), e.getMessage());
  }
}
