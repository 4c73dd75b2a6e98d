package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig.MtaStsMode;
import dev.signet.config.SignetConfig.TlsLevel;
import dev.signet.config.SignetConfig;
import dev.signet.metrics.Metrics;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestCa;
import dev.signet.testkit.TestHttpsServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * MTA-STS (RFC 8461) end to end on loopback: the _mta-sts TXT record from a real DNS server, the policy
 * from a real HTTPS server with a private CA, and real STARTTLS MX hosts presenting good, wrong-host
 * and expired certificates.
 */
class MtaStsDeliveryTest {

  private static final TestCa CA = TestCa.create("Signet Test Root");
  private static final String POLICY_PATH = "/.well-known/mta-sts.txt";

  @TempDir Path tmp;
  @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();
  private TestHttpsServer policyHost;
  private PeerTrust trust;
  private Metrics metrics;

  @BeforeEach
  void start() throws Exception {
    policyHost = fixture.track(TestHttpsServer.start(CA.issue("mta-sts.dest.test")));
    trust = PeerTrust.load(Optional.of(CA.writeRootPem(tmp.resolve("ca.pem"))));
    metrics = new Metrics();
    fixture.dns.add("mta-sts.dest.test. 300 IN A 127.0.0.1");
  }

  private void publish(String id, String policy) {
    fixture.dns.remove("_mta-sts.dest.test");
    fixture.dns.add("_mta-sts.dest.test. 0 IN TXT \"v=STSv1; id=" + id + ";\"");
    policyHost.serve(POLICY_PATH, "text/plain", policy);
  }

  private static String enforce(String... mx) {
    StringBuilder b = new StringBuilder("version: STSv1\r\nmode: enforce\r\n");
    for (String m : mx) {
      b.append("mx: ").append(m).append("\r\n");
    }
    return b.append("max_age: 86400\r\n").toString();
  }

  private SmtpSender sender(MtaStsMode mode, Map<String, TlsLevel> tlsPolicy) throws Exception {
    SignetConfig.Delivery d = fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty());
    SignetConfig.Delivery delivery = d.toBuilder().tlsPolicy(tlsPolicy).mtaSts(mode).dane(false).build();
    MxResolver.Settings quick = new MxResolver.Settings(Duration.ofMillis(500), 1);
    MtaStsDns dns = new MtaStsDns(List.of(fixture.dns.address()), quick);
    MtaSts sts = new MtaSts(dns::txt, new PolicyFetcher(trust, dns::addresses, policyHost.port(),
        Duration.ofSeconds(2)), tmp.resolve("spool/mta-sts"), Clock.systemUTC());
    return fixture.track(new SmtpSender("relay.signet.test", delivery,
        new MxResolver(List.of(fixture.dns.address()), quick, new Random()),
        DeliveryFixture.fast(null).withMxTrust(trust), Optional.of(sts), Optional.empty(), metrics));
  }

  private SmtpSender sender() throws Exception {
    return sender(MtaStsMode.ENFORCE, Map.of());
  }

  private ScriptedMx mx(String address) throws Exception {
    return fixture.track(ScriptedMx.start(address, fixture.port));
  }

  private double tlsCount(String policy, String result) {
    var counter = metrics.registry().find("signet.delivery.tls").tag("policy", policy).tag("result", result).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void enforceWithAValidCertificateDeliversOverVerifiedTls() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2").starttls(CA.issue("mx1.dest.test"));

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    ScriptedMx.Received got = mx.received().get(0);
    assertTrue(got.tls(), "delivered over TLS");
    assertTrue(got.tlsProtocol().get().equals("TLSv1.3") || got.tlsProtocol().get().equals("TLSv1.2"));
    assertEquals(Optional.of("mx1.dest.test"), got.sni(), "SNI names the MX host");
    assertEquals(1.0, tlsCount("mta-sts", "ok"));
    assertEquals(new DeliveryTls("mta-sts", got.tlsProtocol().get(), false), result.delivered().get(0).tls());
  }

  @Test
  void enforceWithAnMxWithoutStarttlsDefers() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2"); // no STARTTLS offered

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(mx.received().isEmpty(), "nothing went out in plaintext");
    String text = result.deferred().get(0).reply().text();
    assertTrue(text.contains("MTA-STS policy of dest.test (enforce, id=1)") && text.contains("STARTTLS"), text);
    assertEquals(1.0, tlsCount("mta-sts", "failed"));
    assertEquals(new DeliveryTls("mta-sts", "none", true), result.deferred().get(0).tls());
  }

  @Test
  void anUnreachableMxUnderEnforceIsNoTlsPolicyFailure() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.9"); // nothing listens there

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertEquals(new DeliveryTls("mta-sts", "none", false), result.deferred().get(0).tls(),
        result.deferred().get(0).reply().text());
  }

  @Test
  void enforceWithACertificateForAnotherHostDefers() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2").starttls(CA.issue("other.example"));

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(mx.received().isEmpty(), "nothing went out over an unverified session");
    String text = result.deferred().get(0).reply().text();
    assertTrue(text.contains("MTA-STS policy of dest.test") && text.contains("TLS with"), text);
    assertEquals(new DeliveryTls("mta-sts", "none", true), result.deferred().get(0).tls());
  }

  @Test
  void enforceWithAnExpiredCertificateDefers() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    Instant now = Instant.now();
    ScriptedMx mx = mx("127.0.0.2").starttls(
        CA.issue(now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)), "mx1.dest.test"));

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(mx.received().isEmpty());
  }

  @Test
  void enforceWithACertificateFromAnUntrustedRootDefers() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2").starttls(TestCa.create("Someone Else").issue("mx1.dest.test"));

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(mx.received().isEmpty());
  }

  @Test
  void enforceSkipsAnMxHostThePolicyDoesNotName() throws Exception {
    publish("1", enforce("*.good.dest.test"));
    fixture.mx("dest.test", 10, "rogue.dest.test", "127.0.0.2");
    fixture.mx("dest.test", 20, "mx.good.dest.test", "127.0.0.3");
    ScriptedMx rogue = mx("127.0.0.2").starttls(CA.issue("rogue.dest.test"));
    ScriptedMx good = mx("127.0.0.3").starttls(CA.issue("mx.good.dest.test"));

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(0, rogue.sessions(), "the host outside the policy is never contacted");
    assertEquals(1, good.received().size());
  }

  @Test
  void enforceWithOnlyHostsOutsideThePolicyDefersNamingThePolicy() throws Exception {
    publish("1", enforce("mx.good.dest.test"));
    fixture.mx("dest.test", 10, "rogue.dest.test", "127.0.0.2");
    ScriptedMx rogue = mx("127.0.0.2").starttls(CA.issue("rogue.dest.test"));

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertEquals(0, rogue.sessions());
    String text = result.deferred().get(0).reply().text();
    assertTrue(text.contains("rogue.dest.test is not an MX host allowed by the MTA-STS policy of dest.test"), text);
    assertEquals(new DeliveryTls("mta-sts", "none", true), result.deferred().get(0).tls());
  }

  @Test
  void testingWithABadCertificateDeliversAndReports() throws Exception {
    publish("1", enforce("mx1.dest.test").replace("mode: enforce", "mode: testing"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2").starttls(CA.issue("wrong.example"));

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(1, mx.received().size());
    assertEquals(1.0, tlsCount("mta-sts", "failed"), "the failure is reported");
    assertEquals(0.0, tlsCount("mta-sts", "ok"));
  }

  @Test
  void testingOnlyModeTreatsAnEnforcePolicyAsTesting() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2"); // no STARTTLS

    DeliveryResult result = sender(MtaStsMode.TESTING_ONLY, Map.of()).deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertFalse(mx.received().get(0).tls());
    assertEquals(1.0, tlsCount("mta-sts", "failed"));
  }

  @Test
  void offModeIgnoresPolicies() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2");

    DeliveryResult result = sender(MtaStsMode.OFF, Map.of()).deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(0, policyHost.requests(), "no policy fetched");
    assertEquals(1, mx.received().size());
  }

  @Test
  void theCachedPolicyHoldsAcrossARestartWhileThePolicyHostIsDown() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx good = mx("127.0.0.2").starttls(CA.issue("mx1.dest.test"));
    try (SmtpSender first = sender()) {
      assertEquals(1, first.deliver(request("plain.eml", "rcpt@dest.test")).delivered().size());
    }
    assertTrue(Files.exists(tmp.resolve("spool/mta-sts/dest.test")), "the policy is on disk");
    good.close();
    policyHost.close(); // the policy host is down...
    fixture.dns.remove("_mta-sts.dest.test");
    fixture.dns.add("_mta-sts.dest.test. 0 IN TXT \"v=STSv1; id=2\""); // ...and a new id forces a fetch
    ScriptedMx plain = mx("127.0.0.2"); // an attacker strips STARTTLS

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test")); // a fresh sender: a restart

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(plain.received().isEmpty(), "no plaintext delivery while the cached policy is valid");
    assertTrue(result.deferred().get(0).reply().text().contains("(enforce, id=1)"),
        result.deferred().get(0).reply().text());
  }

  @Test
  void modeNoneWithdrawsACachedPolicy() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    SmtpSender sender = sender();
    ScriptedMx plain = mx("127.0.0.2");
    assertEquals(1, sender.deliver(request("plain.eml", "rcpt@dest.test")).deferred().size());

    publish("2", "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n");
    DeliveryResult result = sender.deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(1, plain.received().size());
    assertFalse(Files.exists(tmp.resolve("spool/mta-sts/dest.test")), "the cached policy is gone");
  }

  @Test
  void aRedirectedPolicyIsNoPolicy() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    policyHost.answer(POLICY_PATH, 301, Map.of("Location", "https://elsewhere.test/policy"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx plain = mx("127.0.0.2");

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), "RFC 8461 §3.3: redirects are not followed; no policy applies");
    assertEquals(1, plain.received().size());
  }

  @Test
  void aPolicyServedAsHtmlIsNoPolicy() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    policyHost.serve(POLICY_PATH, "text/html", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    mx("127.0.0.2");

    assertEquals(1, sender().deliver(request("plain.eml", "rcpt@dest.test")).delivered().size());
  }

  @Test
  void aPolicyHostWithACertificateForAnotherNameIsNoPolicy() throws Exception {
    policyHost.close();
    policyHost = fixture.track(TestHttpsServer.start(CA.issue("www.dest.test")));
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    mx("127.0.0.2");

    assertEquals(1, sender().deliver(request("plain.eml", "rcpt@dest.test")).delivered().size());
    assertEquals(0, policyHost.requests(), "the handshake failed before any request");
  }

  @Test
  void theOperatorsTlsPolicyOverridesThePublishedOne() throws Exception {
    publish("1", enforce("mx1.dest.test"));
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2").starttls(CA.issue("mx1.dest.test"));

    DeliveryResult result = sender(MtaStsMode.ENFORCE, Map.of("dest.test", TlsLevel.NONE))
        .deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertFalse(mx.received().get(0).tls(), "level none: plaintext even though STARTTLS is offered");
    assertEquals(0, policyHost.requests());
  }

  @Test
  void levelVerifyDefersAWrongCertificateWithoutAnyPublishedPolicy() throws Exception {
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2").starttls(CA.issue("other.example"));

    DeliveryResult result = sender(MtaStsMode.ENFORCE, Map.of("dest.test", TlsLevel.VERIFY))
        .deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    assertTrue(mx.received().isEmpty());
    assertTrue(result.deferred().get(0).reply().text().contains("TLS policy verify for dest.test"),
        result.deferred().get(0).reply().text());
    assertEquals(1.0, tlsCount("verify", "failed"));
  }

  @Test
  void levelVerifyDeliversToACertificateThatNamesTheMx() throws Exception {
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2").starttls(CA.issue("mx1.dest.test"));

    DeliveryResult result = sender(MtaStsMode.ENFORCE, Map.of("dest.test", TlsLevel.VERIFY))
        .deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertTrue(mx.received().get(0).tls());
  }

  @Test
  void levelEncryptAcceptsAnyCertificateButNotPlaintext() throws Exception {
    fixture.mx("dest.test", 10, "mx1.dest.test", "127.0.0.2");
    fixture.mx("other.test", 10, "mx1.other.test", "127.0.0.3");
    ScriptedMx tls = mx("127.0.0.2").starttls(TestCa.create("Unknown").issue("whatever.example"));
    ScriptedMx plain = mx("127.0.0.3");
    SmtpSender sender = sender(MtaStsMode.ENFORCE, Map.of("dest.test", TlsLevel.ENCRYPT, "other.test", TlsLevel.ENCRYPT));

    assertEquals(1, sender.deliver(request("plain.eml", "rcpt@dest.test")).delivered().size());
    assertEquals(1, sender.deliver(request("plain.eml", "rcpt@other.test")).deferred().size());
    assertTrue(tls.received().get(0).tls());
    assertTrue(plain.received().isEmpty());
  }

  @Test
  void aDomainWithoutPolicyStillGetsOpportunisticTls() throws Exception {
    fixture.mx("plain.test", 10, "mx1.plain.test", "127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2").starttls(TestCa.create("Unknown").issue("whatever.example"));

    DeliveryResult result = sender().deliver(request("plain.eml", "rcpt@plain.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertTrue(mx.received().get(0).tls());
    assertEquals(1.0, tlsCount("opportunistic", "ok"));
  }
}
