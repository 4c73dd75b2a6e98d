package dev.signet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig.MtaStsMode;
import dev.signet.config.SignetConfig.TlsLevel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * delivery.mta-sts, delivery.ca-file, delivery.tls-policy and delivery.tls-reports: defaults, YAML,
 * environment, errors.
 */
class DeliverySecurityConfigTest {

  @TempDir Path dir;

  private SignetConfig load(String yaml, Map<String, String> env) throws Exception {
    return ConfigFiles.load(dir, yaml, env);
  }

  @Test
  void byDefaultMtaStsIsEnforcedWithTheJdkRootsAndNoOverrides() {
    SignetConfig.Delivery d = SignetConfig.defaults().delivery();
    assertEquals(MtaStsMode.ENFORCE, d.mtaSts());
    assertEquals(Optional.empty(), d.caFile());
    assertEquals(Map.of(), d.tlsPolicy());
    assertTrue(d.dane());
    assertEquals(Optional.empty(), d.trustAnchor());
  }

  @Test
  void daneAndItsTrustAnchorAreSettable() throws Exception {
    SignetConfig c = load("delivery:\n  dane: off\n  dnssec:\n    trust-anchor: /etc/signet/anchors.txt\n", Map.of());
    assertEquals(false, c.delivery().dane());
    assertEquals(Optional.of(Path.of("/etc/signet/anchors.txt")), c.delivery().trustAnchor());
    SignetConfig e = load("", Map.of("SIGNET_DELIVERY_DANE", "off",
        "SIGNET_DELIVERY_DNSSEC_TRUST_ANCHOR", "/anchors.txt"));
    assertEquals(false, e.delivery().dane());
    assertEquals(Optional.of(Path.of("/anchors.txt")), e.delivery().trustAnchor());
  }

  @Test
  void tlsPolicyIsAMapOfDomainsToLevels() throws Exception {
    SignetConfig c = load("""
        delivery:
          mta-sts: testing-only
          ca-file: /etc/signet/roots.pem
          tls-policy:
            Example.NET: verify
            legacy.example.: none
            partner.example: encrypt
            secure.example: dane
        """, Map.of());
    assertEquals(Map.of("example.net", TlsLevel.VERIFY, "legacy.example", TlsLevel.NONE,
        "partner.example", TlsLevel.ENCRYPT, "secure.example", TlsLevel.DANE), c.delivery().tlsPolicy());
    assertEquals(MtaStsMode.TESTING_ONLY, c.delivery().mtaSts());
    assertEquals(Optional.of(Path.of("/etc/signet/roots.pem")), c.delivery().caFile());
  }

  @Test
  void theEnvironmentSetsEachKey() throws Exception {
    SignetConfig c = load("", Map.of(
        "SIGNET_DELIVERY_TLS_POLICY", "example.net=verify, legacy.example=none",
        "SIGNET_DELIVERY_MTA_STS", "off",
        "SIGNET_DELIVERY_CA_FILE", "/roots.pem"));
    assertEquals(Map.of("example.net", TlsLevel.VERIFY, "legacy.example", TlsLevel.NONE), c.delivery().tlsPolicy());
    assertEquals(MtaStsMode.OFF, c.delivery().mtaSts());
    assertEquals(Optional.of(Path.of("/roots.pem")), c.delivery().caFile());
  }

  @Test
  void anUnknownLevelIsRefusedNamingTheDomain() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> load("delivery:\n  tls-policy:\n    example.net: strict\n", Map.of()));
    assertTrue(e.getMessage().contains("delivery.tls-policy.example.net") && e.getMessage().contains("verify"),
        e.getMessage());
  }

  @Test
  void anUnknownMtaStsModeIsRefused() {
    ConfigException e = assertThrows(ConfigException.class, () -> load("delivery:\n  mta-sts: maybe\n", Map.of()));
    assertTrue(e.getMessage().contains("delivery.mta-sts") && e.getMessage().contains("testing-only"), e.getMessage());
  }

  @Test
  void aMalformedEnvironmentPolicyIsRefused() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> load("", Map.of("SIGNET_DELIVERY_TLS_POLICY", "example.net")));
    assertTrue(e.getMessage().contains("delivery.tls-policy"), e.getMessage());
  }

  @Test
  void tlsReportsAreOffUntilFromIsSet() {
    assertEquals(new SignetConfig.TlsReports(Optional.empty(), Optional.empty()), SignetConfig.defaults().tlsReports());
  }

  @Test
  void tlsReportsAreSetInYamlOrFromTheEnvironment() throws Exception {
    SignetConfig c = load("delivery:\n  tls-reports:\n    from: tls-reports@Example.COM\n"
        + "    organization: Example Ltd\n", Map.of());
    assertEquals(Optional.of("tls-reports@example.com"), c.tlsReports().from());
    assertEquals(Optional.of("example.com"), c.tlsReports().fromDomain());
    assertEquals(Optional.of("Example Ltd"), c.tlsReports().organization());
    SignetConfig e = load("", Map.of("SIGNET_DELIVERY_TLS_REPORTS_FROM", "rpt@mail.example.org",
        "SIGNET_DELIVERY_TLS_REPORTS_ORGANIZATION", "Org"));
    assertEquals(Optional.of("rpt@mail.example.org"), e.tlsReports().from());
    assertEquals(Optional.of("Org"), e.tlsReports().organization());
  }

  @Test
  void aTlsReportsFromThatIsNoAddressIsRefusedNamingTheKey() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> load("delivery:\n  tls-reports:\n    from: example.com\n", Map.of()));
    assertTrue(e.getMessage().contains("delivery.tls-reports.from")
        && e.getMessage().contains("tls-reports@example.com"), e.getMessage());
  }
}
