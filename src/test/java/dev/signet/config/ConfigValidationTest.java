package dev.signet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Values that would run a relay unsafely or fail later with a cryptic message are refused at load, naming the key. */
class ConfigValidationTest {
  @TempDir Path dir;

  private SignetConfig load(String yaml) throws Exception {
    return ConfigFiles.load(dir, yaml, Map.of());
  }

  private String refused(String yaml) {
    String message = assertThrows(ConfigException.class, () -> load(yaml)).getMessage();
    assertFalse(message.contains("\n") || message.contains("\r"), "one line: " + message);
    return message;
  }

  @Test
  void hostnameWithCrLfIsRefused() {
    // An injected field in EHLO, Received and Message-ID.
    String m = refused("hostname: \"relay.example.com\\r\\nBcc: victim@example.org\"\n");
    assertTrue(m.contains("hostname:") && m.contains("\\r\\n"), m);
    String env = assertThrows(ConfigException.class, () -> SignetConfig.load(Optional.empty(),
        Map.of("SIGNET_HOSTNAME", "relay.example.com\nX-Injected: 1"))).getMessage();
    assertTrue(env.contains("hostname"), env);
  }

  @Test
  void emptyAndMalformedHostnamesAreRefused() {
    assertTrue(refused("hostname: \"\"\n").contains("hostname:"));
    assertTrue(refused("hostname: \"bad host name!\"\n").contains("hostname:"));
    assertTrue(refused("hostname: \"-relay.example.com\"\n").contains("hostname:"));
    String single = refused("hostname: relay\n");
    assertTrue(single.contains("hostname:") && single.contains("fully qualified"), single);
  }

  @Test
  void hostnameIsKeptAsAsciiLowercaseFqdn() throws Exception {
    assertEquals("mail.example.com", load("hostname: Mail.Example.com\n").hostname());
    assertEquals("mail.xn--bcher-kva.example", load("hostname: mail.b\u00fccher.example\n").hostname());
  }

  @Test
  void networkCoveringEveryAddressIsAnOpenRelayAndRefused() {
    String v4 = refused("clients:\n  networks: [0.0.0.0/0]\n");
    assertTrue(v4.contains("clients.networks") && v4.contains("0.0.0.0/0") && v4.contains("clients.allow-open-relay"), v4);
    String v6 = refused("clients:\n  networks: [\"::1/128\", \"::/0\"]\n");
    assertTrue(v6.contains("clients.networks") && v6.contains("/0"), v6);
  }

  @Test
  void openRelayNetworkIsAcceptedWithTheOverride() throws Exception {
    SignetConfig c = load("clients:\n  networks: [0.0.0.0/0]\n  allow-open-relay: true\n");
    assertEquals(0, c.clients().networks().get(0).prefix());
  }

  @Test
  void expireShorterThanMaxAgeIsRefused() {
    String m = refused("dkim:\n  expire: 1s\n");
    assertTrue(m.contains("dkim.expire") && m.contains("delivery.max-age"), m);
  }

  @Test
  void expireOfAtLeastMaxAgeIsAccepted() throws Exception {
    assertEquals(Optional.of(Duration.ofDays(7)), load("dkim:\n  expire: 7d\n").dkim().expire());
    assertEquals(Optional.of(Duration.ofDays(1)),
        load("dkim:\n  expire: 1d\ndelivery:\n  max-age: 1d\n").dkim().expire());
  }

  @Test
  void oversizedMessageSizeSaysTooLarge() {
    String m = refused("limits:\n  message-size: 99999999999999999999\n");
    assertTrue(m.contains("limits.message-size") && m.contains("too large"), m);
    assertFalse(m.contains("For input string"), m);
    String overflow = refused("limits:\n  message-size: 99999999999GB\n");
    assertTrue(overflow.contains("limits.message-size") && overflow.contains("too large"), overflow);
    String beyondInt = refused("limits:\n  message-size: 3GB\n");
    assertTrue(beyondInt.contains("limits.message-size") && beyondInt.contains("at most 2GiB"), beyondInt);
  }

  @Test
  void oversizedDurationSaysTooLarge() {
    String m = refused("delivery:\n  max-age: 99999999999999999999d\n");
    assertTrue(m.contains("delivery.max-age") && m.contains("too large"), m);
  }
}
