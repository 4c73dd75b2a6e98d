package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.cli.OpsRig.Run;
import dev.signet.delivery.TestDnsServer;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code signet dns [--check]} against a real DNS server on loopback. */
class DnsCommandTest {

  @TempDir Path dir;
  private TestDnsServer dns;
  private Path keys;
  private Path config;

  @BeforeEach
  void setUp() throws Exception {
    dns = TestDnsServer.start();
    keys = dir.resolve("keys");
    install("example.com", "rsa2048.pem", "rsa2026.pem");
    install("example.com", "ed25519.pem", "ed2026.pem");
    config = dir.resolve("signet.yaml");
    Files.writeString(config, "dkim:\n  keys: " + keys + "\ndelivery:\n  dns: [\"" + dns.address() + "\"]\n"
        + "hostname: mail.example.com\n");
  }

  @AfterEach
  void tearDown() {
    dns.close();
  }

  private void install(String domain, String fixture, String name) throws Exception {
    Path target = keys.resolve(domain).resolve(name);
    Files.createDirectories(target.getParent());
    Files.copy(Path.of("src/test/resources/keys/example.com/" + fixture), target);
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
  }

  private List<DnsRecord> records() throws Exception {
    return KeyRing.load(keys).all().stream().map(DnsRecord::of).toList();
  }

  private void publish(DnsRecord record) {
    StringBuilder line = new StringBuilder(record.name() + " 300 IN TXT");
    record.strings().forEach(s -> line.append(" \"").append(s).append('"'));
    dns.add(line.toString());
  }

  @Test
  void printsEverySelectorWithSpfAndDmarcSuggestions() throws Exception {
    Run run = OpsRig.signet("dns", "--config", config.toString());
    assertEquals(0, run.exit(), run.err());
    for (DnsRecord record : records()) {
      assertTrue(run.out().contains(record.zoneLine()), "missing " + record.name() + " in\n" + run.out());
    }
    assertTrue(run.out().contains("example.com. IN TXT \"v=spf1 a:mail.example.com ~all\""), run.out());
    assertTrue(run.out().contains("_dmarc.example.com. IN TXT \"v=DMARC1; p=none;"), run.out());
  }

  @Test
  void theSuggestedSpfListsTheSourceAddresses() throws Exception {
    Files.writeString(config, Files.readString(config).replace("delivery:\n",
        "delivery:\n  source-addresses: [192.0.2.25, \"2001:db8::25\"]\n"));
    Run run = OpsRig.signet("dns", "--config", config.toString());
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("example.com. IN TXT \"v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 ~all\""), run.out());
  }

  @Test
  void ipv6AddressesAreWrittenInTheirShortForm() throws Exception {
    assertEquals("2001:db8::25", DnsCommand.text(java.net.InetAddress.getByName("2001:db8:0:0:0:0:0:25")));
    assertEquals("::1", DnsCommand.text(java.net.InetAddress.getByName("::1")));
    assertEquals("2001:db8:0:1:1:1:1:1", DnsCommand.text(java.net.InetAddress.getByName("2001:db8:0:1:1:1:1:1")));
    assertEquals("2001:db8::1:0:0:1", DnsCommand.text(java.net.InetAddress.getByName("2001:db8:0:0:1:0:0:1")));
    assertEquals("192.0.2.25", DnsCommand.text(java.net.InetAddress.getByName("192.0.2.25")));
  }

  @Test
  void checkPassesWhenEveryRecordIsPublished() throws Exception {
    records().forEach(this::publish);
    // No source-addresses: SPF and reverse DNS must cover the hostname's own address.
    dns.add("example.com. 300 IN TXT \"v=spf1 a:mail.example.com -all\"",
        "mail.example.com. 300 IN TXT \"v=spf1 a -all\"",
        "mail.example.com. 300 IN A 127.0.0.7",
        "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=quarantine\"",
        "7.0.0.127.in-addr.arpa. 300 IN PTR mail.example.com.");
    Run run = OpsRig.signet("dns", "--check", "--config", config.toString());
    assertEquals(0, run.exit(), run.out() + run.err());
    assertTrue(run.out().contains("127.0.0.7 passes") && run.out().contains("all 15 checks passed (1 note)"), run.out());
  }

  @Test
  void checkReportsAMissingRecord() throws Exception {
    List<DnsRecord> records = records();
    publish(records.get(0));
    Run run = OpsRig.signet("dns", "--check", "--config", config.toString());
    assertEquals(1, run.exit(), run.out());
    assertTrue(run.out().contains("MISSING") && run.out().contains(records.get(1).name()), run.out());
  }

  @Test
  void checkReportsAPublishedKeyThatDiffersFromDisk() throws Exception {
    List<DnsRecord> records = records();
    SigningKey ed = KeyRing.load(keys).all().stream()
        .filter(k -> k.algorithm() == SigningKey.Algorithm.ED25519_SHA256).findFirst().orElseThrow();
    SigningKey rsa = KeyRing.load(keys).all().stream()
        .filter(k -> k.algorithm() == SigningKey.Algorithm.RSA_SHA256).findFirst().orElseThrow();
    // The RSA selector's name with the Ed25519 key's record: a key from another selector or an old key.
    publish(new DnsRecord(DnsRecord.of(rsa).name(), DnsRecord.of(ed).strings()));
    publish(DnsRecord.of(ed));
    Run run = OpsRig.signet("dns", "--check", "--config", config.toString());
    assertEquals(1, run.exit(), run.out());
    assertTrue(run.out().contains("MISMATCH") && run.out().contains(DnsRecord.of(rsa).name()), run.out());
    assertEquals(2, records.size());
  }

  @Test
  void checkReportsARecordSplitIntoSeveralTxtRecords() throws Exception {
    SigningKey rsa = KeyRing.load(keys).all().stream()
        .filter(k -> k.algorithm() == SigningKey.Algorithm.RSA_SHA256).findFirst().orElseThrow();
    DnsRecord record = DnsRecord.of(rsa);
    records().stream().filter(r -> !r.name().equals(record.name())).forEach(this::publish);
    // The classic mistake: each quoted string published as a TXT record of its own.
    for (String part : record.strings()) {
      dns.add(record.name() + " 300 IN TXT \"" + part + "\"");
    }
    Run run = OpsRig.signet("dns", "--check", "--config", config.toString());
    assertEquals(1, run.exit(), run.out());
    assertTrue(run.out().contains("SPLIT"), run.out());
  }

  @Test
  void noKeysIsAClearError() throws Exception {
    Files.writeString(config, "dkim:\n  keys: " + dir.resolve("empty") + "\n");
    Files.createDirectories(dir.resolve("empty"));
    Run run = OpsRig.signet("dns", "--config", config.toString());
    assertEquals(1, run.exit());
    assertTrue(run.err().contains("no keys in"), run.err());
  }
}
