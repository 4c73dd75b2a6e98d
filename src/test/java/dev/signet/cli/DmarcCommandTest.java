package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.signet.cli.OpsRig.Run;
import dev.signet.testkit.Await;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.BufferedWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code signet dmarc ingest|report}, and the relay polling {@code dmarc.imap} into its metrics. */
class DmarcCommandTest {

  @TempDir Path dir;

  /** The fixture report of the dmarc package's tests: 10 messages passing, 2 failing from 192.0.2.99. */
  static String xml(String org, String email, String id) {
    return """
        <?xml version="1.0" encoding="UTF-8" ?>
        <feedback>
          <report_metadata><org_name>%s</org_name><email>%s</email><report_id>%s</report_id>
            <date_range><begin>1764979200</begin><end>1765065599</end></date_range></report_metadata>
          <policy_published><domain>example.com</domain><p>none</p></policy_published>
          <record><row><source_ip>127.0.0.5</source_ip><count>10</count>
              <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
            <identifiers><header_from>example.com</header_from></identifiers>
            <auth_results><spf><domain>example.com</domain><result>pass</result></spf></auth_results></record>
          <record><row><source_ip>192.0.2.99</source_ip><count>2</count>
              <policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
            <identifiers><header_from>example.com</header_from></identifiers>
            <auth_results><spf><domain>example.com</domain><result>fail</result></spf></auth_results></record>
        </feedback>
        """.formatted(org, email, id);
  }

  private Path config(String... extra) throws Exception {
    Path file = dir.resolve("signet.yaml");
    Files.writeString(file, "spool:\n  dir: " + dir.resolve("spool") + "\n" + String.join("\n", extra) + "\n");
    return file;
  }

  @Test
  void ingestReadsADirectoryOfXmlGzipAndZipSkipsMalformedAndCountsARepeatOnce() throws Exception {
    Path reports = Files.createDirectories(dir.resolve("reports"));
    String google = xml("google.com", "noreply-dmarc-support@google.com", "g-1");
    Files.writeString(reports.resolve("1-google.xml"), google);
    try (GZIPOutputStream gz = new GZIPOutputStream(Files.newOutputStream(reports.resolve("2-yahoo.xml.gz")))) {
      gz.write(xml("Yahoo", "dmarchelp@yahooinc.com", "y-1").getBytes(StandardCharsets.UTF_8));
    }
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(reports.resolve("3-microsoft.zip")))) {
      zip.putNextEntry(new ZipEntry("report.xml"));
      zip.write(xml("Enterprise Outlook", "dmarcreport@microsoft.com", "m-1").getBytes(StandardCharsets.UTF_8));
    }
    Files.writeString(reports.resolve("4-broken.xml"), "<feedback><report_metadata>");
    Files.writeString(reports.resolve("5-google-again.xml"), google);
    Path cfg = config();

    Run run = OpsRig.signet("dmarc", "ingest", "--config", cfg.toString(), "--dir", reports.toString());

    assertEquals(0, run.exit(), run.out() + run.err());
    assertEquals(3, run.out().lines().filter(l -> l.startsWith("stored")).count(), run.out());
    assertTrue(run.out().lines().anyMatch(l -> l.startsWith("skipped") && l.contains("4-broken.xml")), run.out());
    assertTrue(run.out().lines().anyMatch(l -> l.startsWith("duplicate") && l.contains("5-google-again.xml")), run.out());

    Run report = OpsRig.signet("dmarc", "report", "--config", cfg.toString());
    assertEquals(0, report.exit(), report.err());
    String line = report.out().lines().filter(l -> l.contains("google.com")).findFirst().orElseThrow();
    assertTrue(line.matches("2025-12-06\\s+google\\.com\\s+12\\s+83\\.3%\\s+83\\.3%\\s+none=12\\s+192\\.0\\.2\\.99 \\(2\\)"),
        line);
    assertEquals(3, report.out().lines().filter(l -> l.startsWith("2025-12-06")).count(), report.out());
  }

  @Test
  void ingestReadsAReportMailFromStdin() throws Exception {
    MimeMessage m = new MimeMessage(Session.getInstance(new Properties()));
    m.setFrom(new InternetAddress("noreply-dmarc-support@google.com"));
    MimeBodyPart file = new MimeBodyPart();
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      out.write(xml("google.com", "noreply-dmarc-support@google.com", "g-stdin").getBytes(StandardCharsets.UTF_8));
    }
    file.setContent(gz.toByteArray(), "application/gzip");
    file.setFileName("google.com!example.com!1764979200!1765065599.xml.gz");
    m.setContent(new MimeMultipart(file));
    m.saveChanges();
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    m.writeTo(raw);
    InputStream stdin = System.in;
    Run run;
    try {
      System.setIn(new ByteArrayInputStream(raw.toByteArray()));
      run = OpsRig.signet("dmarc", "ingest", "--config", config().toString(), "-");
    } finally {
      System.setIn(stdin);
    }
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("stored     stdin/google.com!example.com!1764979200!1765065599.xml.gz"), run.out());
  }

  /** Writes a report of at least {@code bytes} bytes of XML, one message per record; returns the records. */
  private static long bigReport(Path file, long bytes) throws Exception {
    long records = 0;
    try (BufferedWriter w = Files.newBufferedWriter(file)) {
      w.write("<?xml version=\"1.0\"?><feedback><report_metadata><org_name>google.com</org_name>"
          + "<email>noreply-dmarc-support@google.com</email><report_id>big-1</report_id>"
          + "<date_range><begin>1764979200</begin><end>1765065599</end></date_range></report_metadata>");
      while (Files.size(file) < bytes || records == 0) {
        for (int i = 0; i < 1000; i++, records++) {
          w.write("<record><row><source_ip>198.51." + (records / 250 % 250) + "." + (records % 250)
              + "</source_ip><count>1</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim>"
              + "<spf>fail</spf></policy_evaluated></row><identifiers><header_from>example.com</header_from>"
              + "</identifiers><auth_results><spf><domain>example.com</domain><result>fail</result></spf>"
              + "</auth_results></record>\n");
        }
        w.flush();
      }
      w.write("</feedback>");
    }
    return records;
  }

  /**
   * {@code signet dmarc ingest ARGS} in a JVM with 32 MB of heap, stdin from {@code stdin} (or none),
   * its temporary files in {@code <dir>/jvm-tmp}.
   */
  private String ingestInSmallHeap(Path stdin, String... args) throws Exception {
    Path tmp = Files.createDirectories(dir.resolve("jvm-tmp"));
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx32m", "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), "dev.signet.cli.Main", "dmarc", "ingest"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    if (stdin != null) {
      builder.redirectInput(stdin.toFile());
    }
    Process java = builder.start();
    String out = new String(java.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, java.waitFor(), out);
    return out;
  }

  @Test
  void aFiftyMegabyteReportIsReadInASmallHeap() throws Exception {
    Path big = dir.resolve("big.xml");
    long records = bigReport(big, 50L * 1000 * 1000);
    // A JVM with 32 MB of heap: a parser holding the document (a DOM of 50 MB of XML) would not fit.
    String out = ingestInSmallHeap(null, "--config", config().toString(), big.toString());
    assertTrue(out.contains("stored") && out.contains(records + " messages"), out);
    assertTrue(Files.size(big) >= 50_000_000L);
  }

  @Test
  void aFiftyMegabyteReportMailIsReadInASmallHeapFromStdinAndFromAFile() throws Exception {
    // The report as a receiver mails it: a text part and the XML attached in base64, 50 MB in all.
    Path xml = dir.resolve("big.xml");
    long records = bigReport(xml, 38L * 1000 * 1000);
    Path eml = dir.resolve("big.eml");
    try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(eml))) {
      out.write(("""
          From: noreply-dmarc-support@google.com\r
          To: dmarc@example.com\r
          Subject: Report domain: example.com Submitter: google.com Report-ID: big-1\r
          MIME-Version: 1.0\r
          Content-Type: multipart/mixed; boundary="b1"\r
          \r
          --b1\r
          Content-Type: text/plain\r
          \r
          This is an aggregate report from google.com.\r
          --b1\r
          Content-Type: text/xml; name="google.com!example.com!1764979200!1765065599.xml"\r
          Content-Disposition: attachment; filename="google.com!example.com!1764979200!1765065599.xml"\r
          Content-Transfer-Encoding: base64\r
          \r
          """).getBytes(StandardCharsets.US_ASCII));
      try (var base64 = java.util.Base64.getMimeEncoder().wrap(new java.io.FilterOutputStream(out) {
        @Override
        public void close() throws java.io.IOException {
          flush(); // the encoder's close writes its last bytes; the message goes on after them
        }
      })) {
        Files.copy(xml, base64);
      }
      out.write("\r\n--b1--\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    Files.delete(xml);
    assertTrue(Files.size(eml) >= 50_000_000L, "message size " + Files.size(eml));

    // A message is parsed where it lies (a file) or where stdin was copied to: never in the heap.
    String out = ingestInSmallHeap(eml, "--config", config().toString(), "-", eml.toString());
    String attachment = "/google.com!example.com!1764979200!1765065599.xml";
    assertTrue(out.contains("stored     stdin" + attachment + ": google.com report big-1, " + records + " messages"), out);
    assertTrue(out.contains("duplicate  " + eml + attachment + ": google.com report big-1 already stored"), out);
    try (var left = Files.list(dir.resolve("jvm-tmp"))) {
      assertEquals(List.of(), left.toList(), "the copy of stdin is deleted");
    }
  }

  @Test
  void theRelayPollsTheMailboxAndCountsEachReportOnce() throws Exception {
    GreenMail imap = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_IMAP).dynamicPort());
    imap.start();
    try {
      var user = imap.setUser("dmarc@example.com", "dmarc", "s3cret");
      // The same report twice, both in the mailbox before the first poll: counted once.
      for (String id : List.of("g-1", "g-1")) {
        MimeMessage m = new MimeMessage(Session.getInstance(new Properties()));
        m.setFrom(new InternetAddress("noreply-dmarc-support@google.com"));
        m.setContent(xml("google.com", "noreply-dmarc-support@google.com", id), "text/xml");
        m.saveChanges();
        user.deliver(m);
      }
      Files.createDirectories(dir.resolve("keys"));
      Path cfg = OpsRig.config(dir, null, 25,
          "dmarc.imap: imap://dmarc:s3cret@127.0.0.1:" + imap.getImap().getPort() + "/INBOX", "dmarc.poll: 1s");
      try (Relay relay = OpsRig.start(cfg)) {
        String series = "signet_dmarc_messages_total{disposition=\"none\",dkim=\"pass\",reporter=\"google\",spf=\"pass\"}";
        Await.await("the report in the metrics", Duration.ofSeconds(20),
            () -> scrape(relay).contains(series));
        assertEquals(10.0, OpsRig.sample(scrape(relay), series));
        assertEquals(2.0, OpsRig.sample(scrape(relay),
            "signet_dmarc_messages_total{disposition=\"none\",dkim=\"fail\",reporter=\"google\",spf=\"fail\"}"));
      }
    } finally {
      imap.stop();
    }
  }

  private static String scrape(Relay relay) {
    try {
      return OpsRig.get(relay.metricsPort(), "/metrics").body();
    } catch (Exception e) {
      return "";
    }
  }
}
