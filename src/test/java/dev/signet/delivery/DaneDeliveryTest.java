package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.signet.config.HostPort;
import dev.signet.config.SignetConfig.MtaStsMode;
import dev.signet.config.SignetConfig.TlsLevel;
import dev.signet.config.SignetConfig;
import dev.signet.metrics.Metrics;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestBind;
import dev.signet.testkit.TestCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * DANE for SMTP (RFC 7672) end to end: DNSSEC-signed zones served by a real BIND on loopback and
 * validated by Signet from their keys as trust anchors, STARTTLS MX hosts with certificates that the
 * TLSA records match or do not.
 */
class DaneDeliveryTest {

  private static final TestCa CA = TestCa.create("DANE Test Root");
  /** Nobody trusts this root by WebPKI: DANE-EE authenticates what PKIX would refuse. */
  private static final TestCa PRIVATE = TestCa.create("Private Root");
  private static final TestCa.Leaf EE = PRIVATE.issue("some-other-name.example");
  private static final TestCa.Leaf TA_GOOD = CA.issue("mx.ta.test");
  private static final TestCa.Leaf TA_WRONG_NAME = CA.issue("elsewhere.ta.test");
  private static final TestCa.Leaf BOGUS_LEAF = PRIVATE.issue("mx.bogus.test");

  private static Path dir;
  private static TestBind bind;
  private static Path anchors;

  @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();
  private Metrics metrics;

  private static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  private static String[] mx(String zone, String address, String... more) {
    String[] base = {zone + ". IN MX 10 mx." + zone + ".", "mx." + zone + ". IN A " + address};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @BeforeAll
  static void startBind() throws Exception {
    dir = Files.createTempDirectory("signet-dane");
    String ee = sha256(EE.certificate().getPublicKey().getEncoded());
    String bogus = sha256(BOGUS_LEAF.certificate().getPublicKey().getEncoded());
    String signedBogus = "00" + bogus.substring(2); // what the signature covers; the served value is 'bogus'
    bind = TestBind.start(dir, List.of(
        TestBind.signed("dane.test", mx("dane.test", "127.0.0.2", "_25._tcp.mx.dane.test. IN TLSA 3 1 1 " + ee)),
        TestBind.signed("mismatch.test", mx("mismatch.test", "127.0.0.2",
            "_25._tcp.mx.mismatch.test. IN TLSA 3 1 1 " + sha256(new byte[] {1, 2, 3}))),
        TestBind.signed("ta.test", mx("ta.test", "127.0.0.2",
            "_25._tcp.mx.ta.test. IN TLSA 2 0 1 " + sha256(CA.root().getEncoded()))),
        TestBind.signed("pkix.test", mx("pkix.test", "127.0.0.2",
            "_25._tcp.mx.pkix.test. IN TLSA 0 0 1 " + sha256(CA.root().getEncoded()),
            "_25._tcp.mx.pkix.test. IN TLSA 1 1 1 " + ee)),
        TestBind.signed("notlsa.test", mx("notlsa.test", "127.0.0.2")),
        TestBind.signed("bogus.test", mx("bogus.test", "127.0.0.2",
            "_25._tcp.mx.bogus.test. IN TLSA 3 1 1 " + signedBogus))
            // dnssec-signzone prints the data in lines of 36 hex digits; the first 32 are on the first.
            .tampered(text -> text.replace(signedBogus.substring(0, 32).toUpperCase(),
                bogus.substring(0, 32).toUpperCase())),
        TestBind.unsigned("plain.test", mx("plain.test", "127.0.0.2",
            "_25._tcp.mx.plain.test. IN TLSA 3 1 1 " + sha256(new byte[] {9})))));
    anchors = bind.writeTrustAnchors(dir.resolve("anchors.txt"));
  }

  @AfterAll
  static void stopBind() throws Exception {
    if (bind != null) {
      bind.close();
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @BeforeEach
  void start() throws Exception {
    metrics = new Metrics();
  }

  private SmtpSender sender(HostPort dns, Map<String, TlsLevel> tlsPolicy) throws Exception {
    SignetConfig.Delivery d = fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty());
    SignetConfig.Delivery delivery = d.toBuilder().dns(List.of(dns)).tlsPolicy(tlsPolicy).mtaSts(MtaStsMode.OFF)
        .dane(true).trustAnchor(Optional.of(anchors)).build();
    MxResolver.Settings quick = new MxResolver.Settings(Duration.ofMillis(500), 1);
    Dane dane = new Dane(new DnssecResolver(List.of(dns), Optional.of(anchors), quick, Clock.systemUTC()), 25);
    return fixture.track(new SmtpSender("relay.signet.test", delivery,
        new MxResolver(List.of(dns), quick, new Random()), DeliveryFixture.fast(null),
        Optional.empty(), Optional.of(dane), metrics));
  }

  private SmtpSender sender() throws Exception {
    return sender(bind.address(), Map.of());
  }

  private ScriptedMx mx() throws Exception {
    return fixture.track(ScriptedMx.start("127.0.0.2", fixture.port));
  }

  private double tlsCount(String policy, String result) {
    var counter = metrics.registry().find("signet.delivery.tls").tag("policy", policy).tag("result", result).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void aDaneEeMatchIsDeliveredWhateverTheCertificatesNameAndIssuer() throws Exception {
    ScriptedMx mx = mx().starttls(EE);

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dane.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertTrue(mx.received().get(0).tls());
    assertEquals(Optional.of("mx.dane.test"), mx.received().get(0).sni(), "RFC 7672 §8.1: SNI with the MX name");
    assertEquals(1.0, tlsCount("dane", "ok"));
  }

  @Test
  void aDaneEeMismatchIsDeferred() throws Exception {
    ScriptedMx mx = mx().starttls(EE);

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@mismatch.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(mx.received().isEmpty());
    String text = result.deferred().get(0).reply().text();
    assertTrue(text.contains("DANE (TLSA records of _25._tcp.mx.mismatch.test)"), text);
    assertEquals(1.0, tlsCount("dane", "failed"));
  }

  @Test
  void aDaneEeHostWithoutStarttlsIsDeferred() throws Exception {
    ScriptedMx mx = mx(); // STARTTLS stripped

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dane.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(mx.received().isEmpty(), "never plaintext to a DANE host");
  }

  @Test
  void aDaneTaMatchWithTheMxNameIsDelivered() throws Exception {
    ScriptedMx mx = mx().starttls(TA_GOOD);

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@ta.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertTrue(mx.received().get(0).tls());
  }

  @Test
  void aDaneTaChainForAnotherNameIsDeferred() throws Exception {
    ScriptedMx mx = mx().starttls(TA_WRONG_NAME);

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@ta.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(mx.received().isEmpty());
  }

  @Test
  void onlyPkixUsagesStillMakeTlsMandatory() throws Exception {
    ScriptedMx plain = mx();

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@pkix.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(plain.received().isEmpty());
  }

  @Test
  void onlyPkixUsagesAuthenticateNobody() throws Exception {
    // RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable: TLS without authentication (§2.2).
    ScriptedMx tls = mx().starttls(PRIVATE.issue("anything.example"));

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@pkix.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertTrue(tls.received().get(0).tls());
  }

  @Test
  void aBogusTlsaSignatureIsDeferredEvenThoughTheServedRecordMatches() throws Exception {
    ScriptedMx mx = mx().starttls(BOGUS_LEAF);

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@bogus.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertEquals(0, mx.sessions(), "a host with a bogus TLSA answer is not contacted");
    String text = result.deferred().get(0).reply().text();
    assertTrue(text.contains("TLSA lookup of _25._tcp.mx.bogus.test failed DNSSEC validation"), text);
  }

  @Test
  void aSignedDomainWithoutTlsaGetsOpportunisticTls() throws Exception {
    ScriptedMx mx = mx();

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@notlsa.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertFalse(mx.received().get(0).tls());
  }

  @Test
  void tlsaRecordsOfAnUnsignedZoneAreIgnored() throws Exception {
    ScriptedMx mx = mx().starttls(EE); // the unsigned TLSA record does not match this certificate

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@plain.test"));

    assertEquals(1, result.delivered().size(), "insecure answers mean no DANE: " + result);
  }

  @Test
  void levelDaneDefersADomainWithoutSecureTlsa() throws Exception {
    ScriptedMx mx = mx().starttls(EE);

    DeliveryResult result = sender(bind.address(), Map.of("plain.test", TlsLevel.DANE))
        .deliver(request("plain.eml", "rcpt@plain.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(mx.received().isEmpty());
    String text = result.deferred().get(0).reply().text();
    assertTrue(text.contains("TLS policy dane for plain.test") && text.contains("not DNSSEC-signed"), text);
  }

  @Test
  void aResolverThatStripsDnssecDoesNotStallMailAndIsReported() throws Exception {
    // The same names served without signatures, as by a resolver that strips DNSSEC records.
    fixture.mx("dane.test", 10, "mx.dane.test", "127.0.0.2");
    Logger daneLog = (Logger) LoggerFactory.getLogger(Dane.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    daneLog.addAppender(logged);
    try {
      ScriptedMx mx = mx().starttls(PRIVATE.issue("mx.dane.test"));

      DeliveryResult result = sender(fixture.dns.address(), Map.of()).deliver(request("plain.eml", "rcpt@dane.test"));

      assertEquals(1, result.delivered().size(), "no stall: " + result);
      assertTrue(mx.received().get(0).tls());
      assertTrue(logged.list.stream().anyMatch(e -> e.getLevel().toString().equals("WARN")
          && e.getFormattedMessage().contains("strips or breaks DNSSEC")), logged.list.toString());
      assertEquals(0.0, metrics.registry().find("signet.dnssec.available").gauge().value());
    } finally {
      daneLog.detachAppender(logged);
    }
  }
}
