package dev.signet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.dkim.Canonicalization;
import dev.signet.dkim.Canonicalization.Canon;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignetConfigTest {

  @TempDir Path dir;

  private SignetConfig load(String yaml, Map<String, String> env) throws IOException, ConfigException {
    return ConfigFiles.load(dir, yaml, env);
  }

  private ConfigException refused(String yaml) {
    return assertThrows(ConfigException.class, () -> load(yaml, Map.of()));
  }

  @Test
  void embeddedDefaultsMatchTheDesignContract() {
    SignetConfig c = SignetConfig.defaults();
    assertEquals(new HostPort("127.0.0.1", 2525), c.listen().submission());
    assertTrue(c.listen().smtps().isEmpty());
    assertEquals(Path.of("keys"), c.dkim().keys());
    assertEquals(Path.of("spool"), c.spool().dir());
    assertEquals(new HostPort("127.0.0.1", 9465), c.metrics().listen());
    assertEquals(25, c.delivery().port());
    assertTrue(c.delivery().dns().isEmpty(), "system resolvers by default");
    assertEquals(Duration.ofDays(5), c.delivery().maxAge());
    assertEquals(new Canonicalization(Canon.RELAXED, Canon.RELAXED), c.dkim().canonicalization());
    assertEquals(SignetConfig.UnsignedPolicy.REJECT, c.dkim().unsigned());
    assertEquals(SignetConfig.BareLineEndings.REJECT, c.message().bareLineEndings());
    assertTrue(c.clients().networks().stream().anyMatch(n -> n.contains(InetAddress.getLoopbackAddress())));
    assertFalse(c.tls().enabled());
  }

  @Test
  void fileHoldsOnlyTheKeysItChanges() throws Exception {
    SignetConfig c = load("""
        listen:
          submission: 0.0.0.0:587
        limits:
          message-size: 10MB
        delivery:
          retry: [30s, 2m]
        """, Map.of());
    assertEquals(new HostPort("0.0.0.0", 587), c.listen().submission());
    assertEquals(10_000_000L, c.limits().messageSize());
    assertEquals(List.of(Duration.ofSeconds(30), Duration.ofMinutes(2)), c.delivery().retry());
    assertEquals(SignetConfig.defaults().limits().recipients(), c.limits().recipients());
  }

  @Test
  void aQuarterOfTheConnectionsIsReservedForTheNetworksUnlessSet() throws Exception {
    SignetConfig.Limits defaults = SignetConfig.defaults().limits();
    assertEquals(50, defaults.connectionsReserved());
    assertEquals(java.time.Duration.ofSeconds(30), defaults.unauthenticatedIdleTimeout());
    assertEquals(0, load("limits.connections-reserved: 0\n", Map.of()).limits().connectionsReserved());
    ConfigException e = refused("limits:\n  connections: 10\n  connections-reserved: 10\n");
    assertTrue(e.getMessage().contains("limits.connections-reserved: must be less than limits.connections (10)"),
        e.getMessage());
  }

  @Test
  void dottedKeysAtTopLevelAreAccepted() throws Exception {
    SignetConfig c = load("delivery.port: 2526\n", Map.of());
    assertEquals(2526, c.delivery().port());
  }

  @Test
  void shapingFileAndRedisAreOptionalKeys() throws Exception {
    SignetConfig d = SignetConfig.defaults();
    assertTrue(d.delivery().shaping().isEmpty(), "default: the built-in shaping file");
    assertTrue(d.delivery().shapingRedis().isEmpty());
    SignetConfig c = load("delivery:\n  shaping: /etc/signet/shaping.yaml\n  shaping-redis: redis://redis:6379\n",
        Map.of());
    assertEquals(java.util.Optional.of(Path.of("/etc/signet/shaping.yaml")), c.delivery().shaping());
    assertEquals(java.util.Optional.of("redis://redis:6379"), c.delivery().shapingRedis());
    SignetConfig env = load("", Map.of("SIGNET_DELIVERY_SHAPING_REDIS", "redis://10.0.0.5:6380"));
    assertEquals(java.util.Optional.of("redis://10.0.0.5:6380"), env.delivery().shapingRedis());
    ConfigException e = refused("delivery:\n  shaping-redis: http://redis:6379\n");
    assertTrue(e.getMessage().contains("delivery.shaping-redis: expected redis://host:port"), e.getMessage());
  }

  @Test
  void unknownKeyIsRefusedByName() {
    ConfigException e = refused("limits:\n  mesage-size: 10MB\n");
    assertTrue(e.getMessage().contains("limits.mesage-size: unknown setting"), e.getMessage());
    assertTrue(e.getMessage().contains("signet.yaml"), "names the file: " + e.getMessage());
  }

  @Test
  void unknownSectionIsRefusedByName() {
    ConfigException e = refused("listn:\n  submission: 127.0.0.1:25\n");
    assertTrue(e.getMessage().contains("listn: unknown setting"), e.getMessage());
  }

  @Test
  void badValueNamesKeyAndExpectation() {
    ConfigException e = refused("delivery:\n  max-age: five days\n");
    assertTrue(e.getMessage().contains("delivery.max-age"), e.getMessage());
    assertTrue(e.getMessage().contains("expected a duration"), e.getMessage());
  }

  @Test
  void badCidrIsRefused() {
    ConfigException e = refused("clients:\n  networks: [10.0.0.0/33]\n");
    assertTrue(e.getMessage().contains("clients.networks"), e.getMessage());
  }

  @Test
  void hostNamesAreNotNetworks() {
    ConfigException e = refused("clients:\n  networks: [example.com]\n");
    assertTrue(e.getMessage().contains("expected an IP address or CIDR block"), e.getMessage());
  }

  @Test
  void listWhereScalarExpectedIsRefused() {
    ConfigException e = refused("delivery:\n  port: [25]\n");
    assertTrue(e.getMessage().contains("delivery.port: expected a single value"), e.getMessage());
  }

  @Test
  void tlsCertificateWithoutKeyIsRefused() {
    ConfigException e = refused("tls:\n  certificate: cert.pem\n");
    assertTrue(e.getMessage().contains("tls.key"), e.getMessage());
  }

  @Test
  void malformedYamlIsRefused() {
    ConfigException e = refused("listen: [unclosed\n");
    assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("nope.yaml");
    ConfigException e = assertThrows(ConfigException.class,
        () -> SignetConfig.load(Optional.of(missing), Map.of()));
    assertTrue(e.getMessage().contains("nope.yaml: no such file"), e.getMessage());
  }

  @Test
  void environmentOverridesFileAndDefaults() throws Exception {
    SignetConfig c = load("delivery:\n  max-age: 2d\n", Map.of(
        "SIGNET_DELIVERY_MAX_AGE", "3h",
        "SIGNET_CLIENTS_NETWORKS", "10.0.0.0/8, 192.168.1.0/24",
        "SIGNET_DELIVERY_RETRY", "[1s, 2s]",
        "PATH", "/usr/bin"));
    assertEquals(Duration.ofHours(3), c.delivery().maxAge());
    assertEquals(2, c.clients().networks().size());
    assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2)), c.delivery().retry());
  }

  @Test
  void unknownSignetVariableIsRefused() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> SignetConfig.load(Optional.empty(), Map.of("SIGNET_DELIVERY_MAXAGE", "1d")));
    assertTrue(e.getMessage().contains("SIGNET_DELIVERY_MAXAGE"), e.getMessage());
  }

  @Test
  void launcherVariablesAreNotConfigKeys() throws Exception {
    // README: SIGNET_JAVA_OPTS=-Dlogback.configurationFile=conf/logback.xml ./signet serve
    // The Docker image sets SIGNET_JAR (the launcher's jar) and SIGNET_JAVA_OPTS for every command.
    SignetConfig c = SignetConfig.load(Optional.empty(),
        Map.of("SIGNET_JAVA_OPTS", "-Dlogback.configurationFile=conf/logback.xml", "SIGNET_JAR", "/opt/signet/signet.jar"));
    assertEquals(SignetConfig.defaults().delivery(), c.delivery());
  }

  @Test
  void smarthostAsStringOrMap() throws Exception {
    SignetConfig plain = load("delivery:\n  smarthost: smtp.example.net:587\n", Map.of());
    assertEquals(new HostPort("smtp.example.net", 587), plain.delivery().smarthost().orElseThrow().address());
    SignetConfig map = load("""
        delivery:
          smarthost:
            address: smtp.example.net:465
            username: relay
            password: secret
            tls: implicit
        """, Map.of());
    SignetConfig.Smarthost s = map.delivery().smarthost().orElseThrow();
    assertEquals(Optional.of("relay"), s.username());
    assertEquals(SignetConfig.SmarthostTls.IMPLICIT, s.tls());
  }

  @Test
  void smarthostUsernameWithoutPasswordIsRefused() {
    ConfigException e = refused("delivery:\n  smarthost:\n    address: a.example:25\n    username: u\n");
    assertTrue(e.getMessage().contains("delivery.smarthost.password"), e.getMessage());
  }

  @Test
  void sizesAcceptUnits() {
    assertEquals(100_000L, ConfigReader.size("100000"));
    assertEquals(25_000_000L, ConfigReader.size("25MB"));
    assertEquals(1L << 20, ConfigReader.size("1MiB"));
    assertThrows(IllegalArgumentException.class, () -> ConfigReader.size("25 parsecs"));
  }

  @Test
  void cidrMatchesOnlyInsideTheBlock() throws Exception {
    Cidr block = Cidr.parse("10.1.0.0/16");
    assertTrue(block.contains(InetAddress.getByName("10.1.255.3")));
    assertFalse(block.contains(InetAddress.getByName("10.2.0.1")));
    assertFalse(block.contains(InetAddress.getByName("::1")), "IPv4 block never matches IPv6");
    assertTrue(Cidr.parse("::1").contains(InetAddress.getByName("::1")));
  }

  @Test
  void hostPortParsesIpv6Brackets() {
    assertEquals(new HostPort("::1", 25), HostPort.parse("[::1]:25"));
    assertThrows(IllegalArgumentException.class, () -> HostPort.parse("::1:25"));
    assertThrows(IllegalArgumentException.class, () -> HostPort.parse("localhost"));
  }

  @Test
  void sourceAddressesAreIpv4AndIpv6Literals() throws Exception {
    SignetConfig c = load("delivery:\n  source-addresses: [192.0.2.25, \"2001:db8::25\"]\n", Map.of());
    assertEquals(List.of(InetAddress.getByName("192.0.2.25"), InetAddress.getByName("2001:db8::25")),
        c.delivery().sourceAddresses());
    assertTrue(SignetConfig.defaults().delivery().sourceAddresses().isEmpty(), "the system chooses by default");
  }

  @Test
  void aSourceAddressMustBeAnAddressNotAName() {
    ConfigException name = refused("delivery:\n  source-addresses: [mail.example.com]\n");
    assertTrue(name.getMessage().contains("delivery.source-addresses")
        && name.getMessage().contains("'mail.example.com'"), name.getMessage());
    ConfigException octet = refused("delivery:\n  source-addresses: [192.0.2.256]\n");
    assertTrue(octet.getMessage().contains("'192.0.2.256'"), octet.getMessage());
  }

  @Test
  void dmarcImapIsAnImapUrlAndItsPasswordNeverShows() throws Exception {
    SignetConfig c = load("dmarc:\n  imap: imaps://u:pw@imap.example.com/INBOX\n  poll: 5m\n", Map.of());
    assertEquals(Optional.of("imaps://u:pw@imap.example.com/INBOX"), c.dmarc().imap());
    assertEquals(Duration.ofMinutes(5), c.dmarc().poll());
    assertFalse(c.toString().contains("pw@"), c.toString());
    assertTrue(SignetConfig.defaults().dmarc().imap().isEmpty());
    ConfigException e = refused("dmarc:\n  imap: pop3://u:pw@mail.example.com\n");
    assertTrue(e.getMessage().contains("dmarc.imap") && !e.getMessage().contains("pw@"), e.getMessage());
  }

  @Test
  void aBuilderChangesOnlyWhatItNamesAndRefusesAValueLeftUnset() {
    SignetConfig d = SignetConfig.defaults();
    assertEquals(d, d.toBuilder().build());
    SignetConfig.Delivery delivery = d.delivery().toBuilder().port(2525).dane(false).build();
    assertEquals(2525, delivery.port());
    assertFalse(delivery.dane());
    assertEquals(d.delivery().retry(), delivery.retry());
    assertEquals(d.delivery().mtaSts(), delivery.mtaSts());
    SignetConfig changed = d.toBuilder().delivery(delivery).build();
    assertEquals(delivery, changed.delivery());
    assertEquals(d.dkim(), changed.dkim());

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> SignetConfig.Dkim.builder().keys(Path.of("keys")).headers(List.of("from")).build());
    assertEquals("oversign is not set", e.getMessage());
    e = assertThrows(IllegalStateException.class, () -> SignetConfig.Limits.builder().messageSize(1).build());
    assertEquals("recipients is not set", e.getMessage());
  }
}
