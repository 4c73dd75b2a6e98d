package dev.signet.events;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BounceRulesTest {
  private final BounceRules rules = BounceRules.shipped();

  private String classify(String status, String text) {
    return rules.classify(status, text).label();
  }

  @Test
  void realWorldRepliesGetTheirClass() {
    assertEquals("invalid-recipient", classify("5.1.1", "550 5.1.1 The email account that you tried to reach does not exist."));
    assertEquals("invalid-recipient", classify("5.0.0", "550 Requested action not taken: mailbox unavailable (user unknown)"));
    assertEquals("invalid-recipient", classify("5.1.10", "domain x.test does not accept mail (null MX, RFC 7505)"));
    assertEquals("mailbox-full", classify("5.2.2", "552 5.2.2 The email account that you tried to reach is over quota."));
    assertEquals("mailbox-full", classify("4.0.0", "452 Mailbox full"));
    assertEquals("spam-related", classify("5.7.1", "550 5.7.1 Service unavailable; Client host blocked using Spamhaus"));
    assertEquals("spam-related", classify("5.0.0", "554 Message rejected as spam"));
    assertEquals("rate-limited", classify("4.7.28", "421 4.7.28 Our system has detected an unusual rate of unsolicited mail"));
    assertEquals("rate-limited", classify("4.0.0", "421 Too many connections from your IP, slow down"));
    assertEquals("message-too-large", classify("5.3.4", "552 5.3.4 Message size exceeds fixed maximum message size"));
    assertEquals("dns-failure", classify("5.1.2", "domain nowhere.test does not exist (NXDOMAIN)"));
    assertEquals("dns-failure", classify("4.4.3", "MX lookup for x.test failed: SERVFAIL"));
    assertEquals("tls-failure", classify("4.7.5", "TLS with mx.test:25 failed: handshake"));
    assertEquals("tls-failure", classify("4.7.4", "TLS is required, but mx.test does not offer STARTTLS"));
    assertEquals("connection-failure", classify("4.4.1", "cannot connect to mx1.dnsmadeeasy.test:25: Connection refused"));
    assertEquals("expired", classify("4.4.7", "expired after 9 attempts: 451 4.4.1 cannot connect"));
    assertEquals("policy", classify("5.7.26", "550 5.7.26 Unauthenticated email is not accepted from this domain (DMARC)"));
    assertEquals("policy", classify("5.0.0", "554 Relay access denied"));
    assertEquals("other", classify("5.0.0", "554 Transaction failed"));
  }

  @Test
  void statusPatternsMatchWholeParts() {
    // 5.1.10 is not 5.1.1: parts are compared as numbers, not as string prefixes.
    assertEquals("invalid-recipient", classify("5.1.10", "gone"));
    assertEquals("other", classify("5.1.100", "weird"));
  }

  @Test
  void anOperatorsFileReplacesTheShippedRules(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("rules.yaml");
    Files.writeString(file, "rules:\n  - class: policy\n    status: 5.1.1\n    text: 'kept out'\n"
        + "  - {class: mailbox-full, text: 'bucket'}\n");
    BounceRules mine = BounceRules.load(Optional.of(file));
    assertEquals(BounceClass.POLICY, mine.classify("5.1.1", "550 5.1.1 kept out"));
    assertEquals(BounceClass.OTHER, mine.classify("5.1.1", "550 5.1.1 no such user"));
    assertEquals(BounceClass.MAILBOX_FULL, mine.classify("4.0.0", "the bucket overflows"));
  }

  @Test
  void aBadRulesFileIsAnErrorNamingTheRule(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("rules.yaml");
    Files.writeString(file, "rules:\n  - {class: policy, status: 5.1.1}\n  - {class: nonsense, text: x}\n");
    IOException e = assertThrows(IOException.class, () -> BounceRules.load(Optional.of(file)));
    assertTrue(e.getMessage().contains("rules[1]") && e.getMessage().contains("nonsense"), e.getMessage());
    Files.writeString(file, "rules:\n  - {class: policy}\n");
    e = assertThrows(IOException.class, () -> BounceRules.load(Optional.of(file)));
    assertTrue(e.getMessage().contains("needs status, text or both"), e.getMessage());
    Files.writeString(file, "rules:\n  - {class: policy, text: '(unclosed'}\n");
    e = assertThrows(IOException.class, () -> BounceRules.load(Optional.of(file)));
    assertTrue(e.getMessage().contains("regular expression"), e.getMessage());
    IOException missing = assertThrows(IOException.class, () -> BounceRules.load(Optional.of(dir.resolve("none"))));
    assertTrue(missing.getMessage().contains("events.bounce-rules"), missing.getMessage());
  }

  @Test
  void confCopyIsTheShippedFile() throws IOException {
    try (InputStream in = BounceRules.class.getResourceAsStream("bounce-rules.yaml")) {
      assertArrayEquals(in.readAllBytes(), Files.readAllBytes(Path.of("conf/bounce-rules.yaml")),
          "conf/bounce-rules.yaml must be a copy of src/main/resources/dev/signet/events/bounce-rules.yaml");
    }
  }
}
