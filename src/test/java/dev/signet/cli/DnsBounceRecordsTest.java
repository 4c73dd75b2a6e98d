package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code signet dns} says what the relay's bounces need: SPF for the HELO name and a key for their From domain. */
class DnsBounceRecordsTest {
  @TempDir Path dir;

  private String dns(String... settings) throws Exception {
    Path keys = dir.resolve("keys");
    OpsRig.installKey(keys, "rsa2048.pem", "example.com", "s1");
    Path config = Files.writeString(dir.resolve("signet.yaml"),
        "dkim.keys: " + keys + "\n" + String.join("\n", settings) + "\n");
    OpsRig.Run run = OpsRig.signet("dns", "--config", config.toString());
    assertEquals(0, run.exit(), run.err());
    return run.out();
  }

  @Test
  void bouncesFromTheHostnameAreSignedWithTheParentDomainsKey() throws Exception {
    String out = dns("hostname: relay.example.com");
    assertTrue(out.contains("; Bounces (DSNs): MAIL FROM:<>, From: MAILER-DAEMON@relay.example.com"), out);
    assertTrue(out.contains("relay.example.com. IN TXT \"v=spf1 a -all\""), out);
    assertTrue(out.contains("; DKIM for bounces: signed with d=example.com s=s1"), out);
  }

  @Test
  void aBounceDomainWithoutKeysSaysBouncesGoUnsignedAndHowToFixIt() throws Exception {
    String out = dns("hostname: mx1.other.test");
    assertTrue(out.contains("no key for mx1.other.test or a parent domain, so bounces go out unsigned"), out);
    assertTrue(out.contains("signet keygen --domain mx1.other.test"), out);
    String configured = dns("hostname: mx1.other.test", "bounce.from: example.com");
    assertTrue(configured.contains("From: MAILER-DAEMON@example.com, EHLO mx1.other.test"), configured);
    assertTrue(configured.contains("; DKIM for bounces: signed with d=example.com s=s1"), configured);
  }
}
