package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.shaping.Shaping;
import dev.signet.testkit.Rfc8460Schema;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestCa;
import dev.signet.testkit.TestClock;
import dev.signet.testkit.TestHttpsServer;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS reporting (RFC 8460) on loopback: a domain with an MTA-STS enforce policy (real DNS, policy
 * from a real HTTPS server) and a {@code _smtp._tls} record asking for reports by mail and by HTTPS;
 * two MX hosts, the first presenting a certificate for another name (a failed session), the second
 * a good one (a successful session). The day's end is passed on virtual time.
 */
class TlsReportsTest {

  private static final TestCa CA = TestCa.create("Signet Test Root");
  private static final Instant EVENING = Instant.parse("2026-12-05T22:00:00Z");

  private record Mail(String from, String to, byte[] message) {}

  @TempDir Path tmp;
  @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();
  private TestHttpsServer policyHost;
  private TestHttpsServer collector;
  private PeerTrust trust;
  private final TestClock clock = new TestClock(EVENING);
  private final List<Mail> mailed = new CopyOnWriteArrayList<>();
  private ScriptedMx wrongName;
  private ScriptedMx good;

  @BeforeEach
  void start() throws Exception {
    policyHost = fixture.track(TestHttpsServer.start(CA.issue("mta-sts.dest.test")));
    collector = fixture.track(TestHttpsServer.start(CA.issue("localhost")));
    collector.serve("/tlsrpt", "text/plain", "thanks");
    trust = PeerTrust.load(Optional.of(CA.writeRootPem(tmp.resolve("ca.pem"))));
    fixture.dns.add("mta-sts.dest.test. 300 IN A 127.0.0.1",
        "_mta-sts.dest.test. 300 IN TXT \"v=STSv1; id=20261205;\"");
    policyHost.serve("/.well-known/mta-sts.txt", "text/plain",
        "version: STSv1\r\nmode: enforce\r\nmx: mx1.dest.test\r\nmx: mx2.dest.test\r\nmax_age: 86400\r\n");
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    fixture.mx("dest.test", 20, "mx2.dest.test", "127.0.0.3");
    wrongName = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port)).starttls(CA.issue("other.example"));
    good = fixture.track(ScriptedMx.start("127.0.0.3", fixture.port)).starttls(CA.issue("mx2.dest.test"));
  }

  private void publishTlsRpt() {
    fixture.dns.add("_smtp._tls.dest.test. 300 IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@reports.test,"
        + "https://localhost:" + collector.port() + "/tlsrpt\"");
  }

  private TlsReports reports() throws IOException {
    MxResolver.Settings quick = new MxResolver.Settings(Duration.ofMillis(500), 1);
    TlsReports reports = new TlsReports(new SignetConfig.TlsReports(Optional.of("tlsrpt@example.com"),
        Optional.of("Example Mail Ltd")), "relay.signet.test", TlsReportStore.open(tmp.resolve("spool/tls-reports")),
        MxResolver.resolver(List.of(fixture.dns.address()), quick), trust, clock);
    return fixture.track(reports);
  }

  private SmtpSender sender(TlsReports reports) throws Exception {
    SignetConfig.Delivery delivery = fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty());
    MxResolver.Settings quick = new MxResolver.Settings(Duration.ofMillis(500), 1);
    MtaStsDns dns = new MtaStsDns(List.of(fixture.dns.address()), quick);
    MtaSts sts = new MtaSts(dns::txt, new PolicyFetcher(trust, dns::addresses, policyHost.port(),
        Duration.ofSeconds(2)), tmp.resolve("spool/mta-sts"), Clock.systemUTC());
    return fixture.track(new SmtpSender("relay.signet.test", delivery,
        new MxResolver(List.of(fixture.dns.address()), quick, new Random()),
        DeliveryFixture.fast(null).withMxTrust(trust), Optional.of(sts), Optional.empty(), null, Optional.empty(),
        List.of(), Shaping.builtIn(Clock.systemUTC()), reports));
  }

  /** One message: mx1 fails (certificate for another name), mx2 takes it over verified TLS. */
  private void deliverOnce(TlsReports reports) throws Exception {
    DeliveryResult result = sender(reports).deliver(request("plain.eml", "rcpt@dest.test"));
    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(0, wrongName.received().size());
    assertEquals(1, good.received().size());
  }

  private void startSending(TlsReports reports) {
    reports.start((from, to, message) -> mailed.add(new Mail(from, to, message)));
  }

  private static String gunzip(byte[] gz) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void theDaysReportIsPostedAndMailedOnceTheUtcDayHasEnded() throws Exception {
    publishTlsRpt();
    TlsReports reports = reports();
    deliverOnce(reports);
    startSending(reports);
    reports.sendDue();
    assertTrue(collector.posts().isEmpty(), "nothing before the day ends");
    assertTrue(mailed.isEmpty());

    clock.advance(Duration.ofHours(2).plusMinutes(1)); // 00:01 UTC the next day
    reports.sendDue();

    assertEquals(1, collector.posts().size());
    TestHttpsServer.Post post = collector.posts().get(0);
    assertEquals("/tlsrpt", post.path());
    assertEquals("application/tlsrpt+gzip", post.contentType());
    String json = gunzip(post.body());
    assertEquals("valid", Rfc8460Schema.validate(json, tmp), json);
    assertTrue(json.contains("\"organization-name\":\"Example Mail Ltd\""), json);
    assertTrue(json.contains("\"date-range\":{\"start-datetime\":\"2026-12-05T00:00:00Z\","
        + "\"end-datetime\":\"2026-12-05T23:59:59Z\"}"), json);
    assertTrue(json.contains("\"contact-info\":\"tlsrpt@example.com\""), json);
    assertTrue(json.contains("\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
        + "\"mode: enforce\",\"mx: mx1.dest.test\",\"mx: mx2.dest.test\",\"max_age: 86400\"],"
        + "\"policy-domain\":\"dest.test\",\"mx-host\":[\"mx1.dest.test\",\"mx2.dest.test\"]}"), json);
    assertTrue(json.contains("\"summary\":{\"total-successful-session-count\":1,\"total-failure-session-count\":1}"),
        json);
    assertTrue(json.contains("\"failure-details\":[{\"result-type\":\"certificate-host-mismatch\","
        + "\"sending-mta-ip\":\"127.0.0.1\",\"receiving-mx-hostname\":\"mx1.dest.test\","
        + "\"receiving-ip\":\"127.0.0.2\",\"failed-session-count\":1}]"), json);

    assertEquals(1, mailed.size());
    Mail mail = mailed.get(0);
    assertEquals("tlsrpt@example.com", mail.from());
    assertEquals("tlsrpt@reports.test", mail.to());
    assertEquals(json, attachedReport(mail.message()), "the mail carries the same report");
    assertFalse(Files.exists(tmp.resolve("spool/tls-reports/2026-12-05.tally")), "a reported day is forgotten");

    reports.sendDue();
    assertEquals(1, collector.posts().size(), "each day is reported once");
  }

  /** RFC 8460 §5.3: the fields a receiver sorts reports by, and the report as application/tlsrpt+gzip. */
  private static String attachedReport(byte[] message) throws Exception {
    MimeMessage m = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(message));
    String id = "2026-12-05T00:00:00Z_dest.test@example.com";
    assertEquals("Report Domain: dest.test Submitter: example.com Report-ID: <" + id + ">", m.getSubject());
    assertEquals("dest.test", m.getHeader("TLS-Report-Domain", null));
    assertEquals("example.com", m.getHeader("TLS-Report-Submitter", null));
    assertTrue(m.getContentType().startsWith("multipart/report; report-type=\"tlsrpt\""), m.getContentType());
    Multipart parts = (Multipart) m.getContent();
    assertEquals(2, parts.getCount());
    Part report = parts.getBodyPart(1);
    assertTrue(report.isMimeType("application/tlsrpt+gzip"), report.getContentType());
    assertEquals("example.com!dest.test!1796428800!1796515199.json.gz", report.getFileName());
    try (InputStream in = report.getInputStream()) {
      return gunzip(in.readAllBytes());
    }
  }

  @Test
  void countsSurviveARestart() throws Exception {
    publishTlsRpt();
    TlsReports before = reports();
    deliverOnce(before);
    before.close();
    assertTrue(Files.exists(tmp.resolve("spool/tls-reports/2026-12-05.tally")));

    TlsReports after = reports(); // a new process: the counts come from the spool only
    clock.advance(Duration.ofDays(1));
    startSending(after);
    after.sendDue();

    assertEquals(1, collector.posts().size());
    String json = gunzip(collector.posts().get(0).body());
    assertTrue(json.contains("\"summary\":{\"total-successful-session-count\":1,\"total-failure-session-count\":1}"),
        json);
    assertEquals("valid", Rfc8460Schema.validate(json, tmp), json);
  }

  /** RFC 8460 §4.3.2.2: a published policy that could not be had; mail went as without one (RFC 8461 §5). */
  private String reportWithoutThePolicy() throws Exception {
    publishTlsRpt();
    TlsReports reports = reports();
    DeliveryResult result = sender(reports).deliver(request("plain.eml", "rcpt@dest.test"));
    assertEquals(1, result.delivered().size(), result.toString());
    clock.advance(Duration.ofDays(1));
    startSending(reports);
    reports.sendDue();
    assertEquals(1, collector.posts().size());
    String json = gunzip(collector.posts().get(0).body());
    assertEquals("valid", Rfc8460Schema.validate(json, tmp), json);
    assertTrue(json.contains("\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":\"dest.test\"}"),
        json);
    assertTrue(json.contains("\"summary\":{\"total-successful-session-count\":0,\"total-failure-session-count\":1}"),
        json);
    return json;
  }

  @Test
  void aPolicyHostAnswering404IsReportedAsAFetchError() throws Exception {
    policyHost.answer("/.well-known/mta-sts.txt", 404, Map.of());
    String json = reportWithoutThePolicy();
    assertTrue(json.contains("\"result-type\":\"sts-policy-fetch-error\",\"sending-mta-ip\":\"127.0.0.1\","
        + "\"receiving-mx-hostname\":\"mx1.dest.test\",\"receiving-ip\":\"127.0.0.2\""), json);
  }

  @Test
  void aPolicyThatDoesNotParseIsReportedAsInvalid() throws Exception {
    policyHost.serve("/.well-known/mta-sts.txt", "text/plain", "version: STSv1\r\nmode: sometimes\r\n");
    String json = reportWithoutThePolicy();
    assertTrue(json.contains("\"result-type\":\"sts-policy-invalid\""), json);
  }

  @Test
  void countFilesArePrivate() throws Exception {
    publishTlsRpt();
    deliverOnce(reports());
    Path dir = tmp.resolve("spool/tls-reports");
    assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(dir)));
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(dir.resolve("2026-12-05.tally"))));
  }

  @Test
  void aDomainThatAsksForNoReportsIsNotCounted() throws Exception {
    TlsReports reports = reports(); // no _smtp._tls record
    deliverOnce(reports);
    clock.advance(Duration.ofDays(1));
    startSending(reports);
    reports.sendDue();
    assertFalse(Files.exists(tmp.resolve("spool/tls-reports/2026-12-05.tally")));
    assertTrue(collector.posts().isEmpty());
    assertTrue(mailed.isEmpty());
  }

  @Test
  void theSchemaValidatorRejectsAReportWithoutItsId() throws Exception {
    // The check above can fail: the same validator refuses a report that lacks a required field.
    String json = new TlsReport("Org", "a@example.com", "example.com", "dest.test",
        java.time.LocalDate.parse("2026-12-05"), Map.of()).json().replaceFirst("\"report-id\":\"[^\"]*\",", "");
    String verdict = Rfc8460Schema.validate(json, tmp);
    assertTrue(verdict.endsWith("invalid") && verdict.contains("'report-id' is a required property"), verdict);
  }
}
