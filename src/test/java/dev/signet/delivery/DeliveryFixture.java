package dev.signet.delivery;

import dev.signet.config.SignetConfig;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestCa;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What delivery tests share: a TestDnsServer, one SMTP port for every test MX on 127.0.0.x, and
 * senders with short timeouts pointed at both. Closes whatever it started.
 */
final class DeliveryFixture implements AutoCloseable, AfterEachCallback {

  final TestDnsServer dns;
  final int port;
  private final List<AutoCloseable> started = new ArrayList<>();

  /** One per test: {@code @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();} closes it after each. */
  static DeliveryFixture perTest() {
    try {
      return new DeliveryFixture();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  DeliveryFixture() throws IOException {
    dns = TestDnsServer.start();
    port = ScriptedMx.freePort();
  }

  /** Test timeouts: a dead or silent host costs about a second, not minutes. */
  static SenderSettings fast(TestCa trusted) {
    Duration s = Duration.ofSeconds(1);
    return new SenderSettings(s, s, s, s, s, Duration.ofSeconds(5), 100,
        trusted == null ? (javax.net.ssl.SSLSocketFactory) javax.net.ssl.SSLSocketFactory.getDefault()
            : trusted.trustingContext().getSocketFactory());
  }

  SignetConfig.Delivery delivery(SignetConfig.TlsMode tls, Optional<SignetConfig.Smarthost> smarthost) {
    return SignetConfig.defaults().delivery().toBuilder().dns(List.of(dns.address())).port(port)
        .retry(List.of(Duration.ofMinutes(1))).maxAge(Duration.ofDays(5)).delayWarning(Optional.empty())
        .concurrency(10).perDomain(10).smarthost(smarthost).tls(tls).build();
  }

  SmtpSender sender() {
    return sender(delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty()), fast(null));
  }

  SmtpSender sender(SignetConfig.Delivery delivery, SenderSettings settings) {
    MxResolver resolver = new MxResolver(List.of(dns.address()),
        new MxResolver.Settings(Duration.ofMillis(500), 1), new Random());
    return track(new SmtpSender("relay.signet.test", delivery, resolver, settings));
  }

  <T extends AutoCloseable> T track(T closeable) {
    started.add(closeable);
    return closeable;
  }

  /** An MX record for {@code domain} pointing at a host with {@code address}. */
  void mx(String domain, int preference, String host, String address) {
    dns.add(domain + ". 300 IN MX " + preference + " " + host + ".", host + ". 300 IN A " + address);
  }

  static Path fixture(String name) {
    try {
      return Path.of(DeliveryFixture.class.getResource("/delivery/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static DeliveryRequest request(String fixture, String... recipients) {
    return new DeliveryRequest("Q1", "sender@example.com", List.of(recipients), fixture(fixture));
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    close();
  }

  @Override
  public void close() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
    dns.close();
  }
}
