package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.HostPort;
import dev.signet.config.SignetConfig.SmarthostTls;
import dev.signet.config.SignetConfig;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestCa;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** delivery.smarthost: everything goes to one upstream, with AUTH and verified TLS; no MX lookup. */
class SmarthostTest {

  private DeliveryFixture fixture;
  private TestCa ca;
  private TestCa.Leaf certificate;

  @BeforeEach
  void start() throws Exception {
    fixture = new DeliveryFixture();
    ca = TestCa.create("Smarthost Test Root");
    certificate = ca.issue("127.0.0.1", "localhost");
  }

  @AfterEach
  void stop() throws Exception {
    fixture.close();
  }

  private SmtpSender sender(SmarthostTls mode, String password, TestCa trust) {
    SignetConfig.Smarthost smarthost = new SignetConfig.Smarthost(new HostPort("127.0.0.1", fixture.port),
        Optional.of("relay"), Optional.of(password), mode);
    return fixture.sender(fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.of(smarthost)),
        DeliveryFixture.fast(trust));
  }

  @Test
  void everythingGoesToTheSmarthostWithAuthOverStarttls() throws Exception {
    ScriptedMx upstream = fixture.track(ScriptedMx.start("127.0.0.1", fixture.port).starttls(certificate)
        .auth("relay", "secret"));

    DeliveryResult result = sender(SmarthostTls.REQUIRED, "secret", ca)
        .deliver(request("plain.eml", "a@one.test", "b@other.test"));

    assertEquals(2, result.delivered().size(), result.toString());
    ScriptedMx.Received received = upstream.received().get(0);
    assertEquals(Optional.of("relay"), received.user());
    assertTrue(received.tls());
    assertEquals(0, fixture.dns.queries("one.test", "MX"), "a smarthost needs no MX lookup");
  }

  @Test
  void implicitTlsSpeaksTlsFromTheFirstByte() throws Exception {
    ScriptedMx upstream = fixture.track(ScriptedMx.start("127.0.0.1", fixture.port).implicitTls(certificate)
        .auth("relay", "secret"));

    DeliveryResult result = sender(SmarthostTls.IMPLICIT, "secret", ca).deliver(request("plain.eml", "a@one.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(Optional.of("relay"), upstream.received().get(0).user());
    assertTrue(upstream.received().get(0).tls());
  }

  @Test
  void aWrongPasswordDefersInsteadOfBouncing() throws Exception {
    ScriptedMx upstream = fixture.track(ScriptedMx.start("127.0.0.1", fixture.port).starttls(certificate)
        .auth("relay", "secret"));

    DeliveryResult result = sender(SmarthostTls.REQUIRED, "wrong", ca).deliver(request("plain.eml", "a@one.test"));

    RecipientOutcome.Deferred deferred = assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0));
    assertEquals("4.7.0", deferred.reply().status());
    assertEquals(0, upstream.received().size());
  }

  @Test
  void anUntrustedSmarthostCertificateDefers() throws Exception {
    ScriptedMx upstream = fixture.track(ScriptedMx.start("127.0.0.1", fixture.port).starttls(certificate)
        .auth("relay", "secret"));

    // The JDK's default trust store does not know the test certificate.
    DeliveryResult result = sender(SmarthostTls.REQUIRED, "secret", null).deliver(request("plain.eml", "a@one.test"));

    assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0));
    assertEquals(0, upstream.received().size());
  }

  @Test
  void credentialsAreNeverSentWithoutTls() throws Exception {
    ScriptedMx upstream = fixture.track(ScriptedMx.start("127.0.0.1", fixture.port).auth("relay", "secret"));

    DeliveryResult result = sender(SmarthostTls.OPPORTUNISTIC, "secret", ca).deliver(request("plain.eml", "a@one.test"));

    assertEquals("4.7.4", assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0)).reply().status());
    assertEquals(0, upstream.received().size());
  }
}
