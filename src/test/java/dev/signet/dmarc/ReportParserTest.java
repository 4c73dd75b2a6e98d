package dev.signet.dmarc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RFC 7489 appendix C reports, as XML, gzip and zip, and what is not a report. */
class ReportParserTest {

  private static ReportSummary parse(byte[] bytes) throws Exception {
    return ReportParser.parse(new ByteArrayInputStream(bytes));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aReportBecomesTalliesByResultAndTheAddressesSpfDidNotAuthorize() throws Exception {
    ReportSummary r = parse(utf8(Reports.xml("google.com", "noreply-dmarc-support@google.com", "1234")));
    assertEquals("google.com", r.org());
    assertEquals("1234", r.reportId());
    assertEquals("example.com", r.domain());
    assertEquals(Instant.parse("2025-12-06T00:00:00Z"), r.begin());
    assertEquals(List.of(new ReportSummary.Tally("pass", "pass", "none", 10),
        new ReportSummary.Tally("fail", "fail", "quarantine", 2)), r.tallies());
    assertEquals(Map.of("192.0.2.99", 2L), r.unauthorized());
    assertEquals(12, r.messages());
    assertEquals(Reporter.GOOGLE, r.reporter());
  }

  @Test
  void gzipAndZipAreRecognizedByTheirBytes() throws Exception {
    String xml = Reports.xml("Enterprise Outlook", "dmarcreport@microsoft.com", "abc");
    assertEquals(12, parse(Reports.gzip(xml)).messages());
    ReportSummary zipped = parse(Reports.zip("microsoft.com!example.com!1764979200!1765065599.xml", xml));
    assertEquals(12, zipped.messages());
    assertEquals(Reporter.MICROSOFT, zipped.reporter());
  }

  @Test
  void malformedXmlIsAMalformedReport() {
    String cut = Reports.xml("google.com", "x@google.com", "1").substring(0, 300);
    MalformedReport e = assertThrows(MalformedReport.class, () -> parse(utf8(cut)));
    assertTrue(e.getMessage().contains("XML"), e.getMessage());
  }

  @Test
  void xmlThatIsNoReportIsAMalformedReport() {
    MalformedReport e = assertThrows(MalformedReport.class, () -> parse(utf8("<html><body>hi</body></html>")));
    assertTrue(e.getMessage().contains("not a DMARC aggregate report"), e.getMessage());
  }

  @Test
  void externalEntitiesAreNeverFetched() {
    String xxe = "<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        + "<feedback><report_metadata><org_name>&x;</org_name></report_metadata></feedback>";
    assertThrows(MalformedReport.class, () -> parse(utf8(xxe)));
  }

  @Test
  void unknownResultValuesBecomeOtherSoMetricLabelsStayBounded() throws Exception {
    String xml = Reports.xml("google.com", "x@google.com", "9").replace("<dkim>pass</dkim>", "<dkim>temperror-x</dkim>");
    assertEquals("other", parse(utf8(xml)).tallies().get(0).dkim());
  }

  @Test
  void reportersAreAClosedSet() {
    assertEquals(Reporter.YAHOO, Reporter.of("Yahoo", "dmarchelp@yahooinc.com"));
    assertEquals(Reporter.GOOGLE, Reporter.of("google.com", ""));
    assertEquals(Reporter.OTHER, Reporter.of("Some ISP", "dmarc@isp.example"));
  }
}
