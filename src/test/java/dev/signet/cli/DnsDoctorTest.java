package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.cli.OpsRig.Run;
import dev.signet.delivery.TestDnsServer;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.KeyRing;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code signet dns --check} as a doctor: SPF, DMARC and reverse DNS served by a real DNS server on
 * loopback, each check once passing and once failing with its message and the record to publish.
 */
class DnsDoctorTest {

  @TempDir Path dir;
  private TestDnsServer dns;
  private Path keys;
  private Path config;

  @BeforeEach
  void setUp() throws Exception {
    dns = TestDnsServer.start();
    keys = dir.resolve("keys");
    OpsRig.installKey(keys, "rsa2048.pem", "example.com", "rsa2026");
    writeConfig("");
    for (DnsRecord r : KeyRing.load(keys).all().stream().map(DnsRecord::of).toList()) {
      StringBuilder line = new StringBuilder(r.name() + " 300 IN TXT");
      r.strings().forEach(s -> line.append(" \"").append(s).append('"'));
      dns.add(line.toString());
    }
    // A sender with everything in order: the baseline each test breaks one thing of.
    dns.add("example.com. 300 IN TXT \"v=spf1 ip4:127.0.0.5 -all\"",
        "mail.example.com. 300 IN TXT \"v=spf1 ip4:127.0.0.5 -all\"",
        "mail.example.com. 300 IN A 127.0.0.5",
        "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@example.com\"",
        "5.0.0.127.in-addr.arpa. 300 IN PTR mail.example.com.");
  }

  @AfterEach
  void tearDown() {
    dns.close();
  }

  private void writeConfig(String extra) throws Exception {
    config = dir.resolve("signet.yaml");
    Files.writeString(config, "hostname: mail.example.com\ndkim:\n  keys: " + keys + "\n" + extra
        + "delivery:\n  dns: [\"" + dns.address() + "\"]\n  source-addresses: [127.0.0.5]\n");
  }

  private Run check(String... extra) {
    List<String> args = new ArrayList<>(List.of("dns", "--check", "--config", config.toString()));
    args.addAll(List.of(extra));
    return OpsRig.signet(args.toArray(String[]::new));
  }

  private void replace(String name, String... lines) {
    dns.remove(name);
    dns.add(lines);
  }

  /** The output line of a failed check containing {@code text}, and the fix line after it. */
  private static String failed(Run run, String text) {
    String[] lines = run.out().split("\n");
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].startsWith("✘") && lines[i].contains(text)) {
        return lines[i] + (i + 1 < lines.length && lines[i + 1].contains("-> ") ? "\n" + lines[i + 1] : "");
      }
    }
    throw new AssertionError("no failed check saying '" + text + "' in\n" + run.out());
  }

  private static void passed(Run run, String text) {
    assertTrue(run.out().lines().anyMatch(l -> l.startsWith("✔") && l.contains(text)),
        "no passed check saying '" + text + "' in\n" + run.out());
  }

  @Test
  void aCorrectSetupPassesEveryCheck() {
    Run run = check();
    assertEquals(0, run.exit(), run.out() + run.err());
    assertTrue(run.out().lines().noneMatch(l -> l.startsWith("✘")), run.out());
    passed(run, "published key matches the key on disk");
    passed(run, "127.0.0.5 passes");
    passed(run, "ends in -all");
    passed(run, "valid record, policy p=reject");
    passed(run, "DKIM d=example.com aligns with From example.com");
    passed(run, "PTR mail.example.com resolves back to 127.0.0.5 and is the hostname");
    assertTrue(run.out().contains("checks passed"), run.out());
  }

  @Test
  void missingSpfIsReportedWithTheRecordToPublish() {
    dns.remove("example.com");
    Run run = check();
    assertEquals(1, run.exit(), run.out());
    assertTrue(failed(run, "no SPF record").contains("-> example.com. IN TXT \"v=spf1 ip4:127.0.0.5 ~all\""),
        run.out());
  }

  @Test
  void twoSpfRecordsAreAnError() {
    dns.add("example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.1 -all\"");
    Run run = check();
    assertEquals(1, run.exit(), run.out());
    failed(run, "2 SPF records");
  }

  @Test
  void spfSyntaxErrorsAreNamed() {
    replace("example.com", "example.com. 300 IN TXT \"v=spf1 ip4:127.0.0 -all\"");
    Run run = check();
    assertTrue(failed(run, "syntax error").contains("127.0.0"), run.out());
  }

  @Test
  void moreThanTenLookupTermsAreAnError() {
    StringBuilder terms = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      terms.append(" a:h").append(i).append(".example.com");
    }
    replace("example.com", "example.com. 300 IN TXT \"v=spf1 ip4:127.0.0.5 include:_spf.example.com -all\"");
    dns.add("_spf.example.com. 300 IN TXT \"v=spf1" + terms + " ~all\"");
    Run run = check();
    failed(run, "11 DNS-querying terms");

    dns.remove("_spf.example.com").add("_spf.example.com. 300 IN TXT \"v=spf1 a:h1.example.com ~all\"");
    passed(check(), "2 of 10 DNS-querying terms");
  }

  @Test
  void anAddressFailingARecordOverTheLookupLimitIsFixedByAPlainRecordNotByAddingToIt() {
    StringBuilder terms = new StringBuilder();
    for (int i = 0; i < 11; i++) {
      terms.append(" a:h").append(i).append(".example.com");
      dns.add("h" + i + ".example.com. 300 IN A 192.0.2." + (i + 1));
    }
    replace("example.com", "example.com. 300 IN TXT \"v=spf1" + terms + " -all\"");
    Run run = check();
    failed(run, "11 DNS-querying terms");
    assertTrue(failed(run, "127.0.0.5 gets permerror").endsWith("-> example.com. IN TXT \"v=spf1 ip4:127.0.0.5 ~all\""),
        run.out());
  }

  @Test
  void moreThanTwoVoidLookupsAreAnError() {
    replace("example.com",
        "example.com. 300 IN TXT \"v=spf1 a:nx1.example.com a:nx2.example.com a:nx3.example.com ip4:127.0.0.5 -all\"");
    Run run = check();
    failed(run, "3 void lookups");
  }

  @Test
  void aSourceAddressTheRecordDoesNotAuthorizeFailsWithTheFixedRecord() {
    replace("example.com", "example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.1 -all\"");
    Run run = check();
    assertEquals(1, run.exit(), run.out());
    assertTrue(failed(run, "127.0.0.5 gets fail").contains("-> example.com. IN TXT \"v=spf1 ip4:192.0.2.1 ip4:127.0.0.5 -all\""),
        run.out());
  }

  @Test
  void spfIsEvaluatedThroughTheConfiguredDnsServer() {
    replace("example.com", "example.com. 300 IN TXT \"v=spf1 include:_spf.example.com -all\"");
    dns.add("_spf.example.com. 300 IN TXT \"v=spf1 a:out.example.com -all\"", "out.example.com. 300 IN A 127.0.0.5");
    Run run = check();
    passed(run, "127.0.0.5 passes");
    assertTrue(dns.queries("out.example.com", "A") > 0, "the include's a: went to our server");
  }

  @Test
  void anSpfRecordThatLetsEveryonePassFails() {
    replace("example.com", "example.com. 300 IN TXT \"v=spf1 ip4:127.0.0.5 +all\"");
    Run run = check();
    assertTrue(failed(run, "ends in +all").contains("-> example.com. IN TXT \"v=spf1 ip4:127.0.0.5 ~all\""), run.out());
  }

  @Test
  void theHostnameNeedsSpfForBounces() {
    dns.remove("mail.example.com").add("mail.example.com. 300 IN A 127.0.0.5");
    Run run = check();
    assertTrue(failed(run, "no SPF record").contains("mail.example.com."), run.out());
  }

  @Test
  void missingDmarcIsReportedWithASuggestion() {
    dns.remove("_dmarc.example.com");
    Run run = check();
    assertEquals(1, run.exit(), run.out());
    assertTrue(failed(run, "no DMARC record").contains("-> _dmarc.example.com. IN TXT \"v=DMARC1; p=none;"),
        run.out());
  }

  @Test
  void dmarcWithoutPolicyIsASyntaxError() {
    replace("_dmarc.example.com", "_dmarc.example.com. 300 IN TXT \"v=DMARC1; rua=mailto:d@example.com\"");
    failed(check(), "no policy");
    replace("_dmarc.example.com", "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=block\"");
    failed(check(), "p=block is not none, quarantine or reject");
  }

  @Test
  void reportsToAnotherDomainNeedItsAuthorization() {
    replace("_dmarc.example.com", "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=none; rua=mailto:agg@reports.test\"");
    Run run = check();
    assertTrue(failed(run, "rua agg@reports.test is on another domain")
        .contains("-> example.com._report._dmarc.reports.test. IN TXT \"v=DMARC1\""), run.out());

    dns.add("example.com._report._dmarc.reports.test. 300 IN TXT \"v=DMARC1\"");
    passed(check(), "rua agg@reports.test is authorized by example.com._report._dmarc.reports.test.");
  }

  @Test
  void strictDkimAlignmentFailsWhenSubdomainsAreSignedWithTheParentsKey() throws Exception {
    writeConfig("  subdomains: true\n");
    dns.add("news.example.com. 300 IN TXT \"v=spf1 ip4:127.0.0.5 -all\"");
    replace("_dmarc.example.com", "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject; adkim=s\"");
    Run run = check("--from", "news.example.com");
    assertTrue(failed(run, "adkim=s but mail from news.example.com is signed d=example.com")
        .contains("-> _dmarc.example.com. IN TXT \"v=DMARC1; p=reject; adkim=r\""), run.out());

    replace("_dmarc.example.com", "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject\"");
    passed(check("--from", "news.example.com"), "DKIM d=example.com aligns with From news.example.com (adkim=r)");
  }

  @Test
  void strictSpfAlignmentFailsWhenTheEnvelopeSenderDomainDiffers() {
    dns.add("bounces.example.com. 300 IN TXT \"v=spf1 ip4:127.0.0.5 -all\"");
    replace("_dmarc.example.com", "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject; aspf=s\"");
    Run run = check("--mail-from", "bounces.example.com");
    assertTrue(failed(run, "aspf=s but the envelope sender domain bounces.example.com")
        .contains("aspf=r"), run.out());

    replace("_dmarc.example.com", "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject\"");
    passed(check("--mail-from", "bounces.example.com"), "SPF for envelope sender bounces.example.com aligns (aspf=r)");
  }

  @Test
  void aFromDomainWithoutAKeyCannotAlign() {
    dns.add("other.test. 300 IN TXT \"v=spf1 ip4:127.0.0.5 -all\"",
        "_dmarc.other.test. 300 IN TXT \"v=DMARC1; p=reject\"");
    Run run = check("--from", "other.test");
    failed(run, "no key signs mail from other.test");
  }

  @Test
  void aSourceAddressWithoutPtrFails() {
    dns.remove("5.0.0.127.in-addr.arpa");
    Run run = check();
    assertEquals(1, run.exit(), run.out());
    assertTrue(failed(run, "no PTR record for 127.0.0.5")
        .contains("-> 5.0.0.127.in-addr.arpa. IN PTR mail.example.com."), run.out());
  }

  @Test
  void aPtrThatDoesNotResolveBackFails() {
    dns.remove("mail.example.com").add("mail.example.com. 300 IN TXT \"v=spf1 ip4:127.0.0.5 -all\"",
        "mail.example.com. 300 IN A 127.0.0.6");
    Run run = check();
    assertTrue(failed(run, "does not resolve back to 127.0.0.5").contains("-> mail.example.com. IN A 127.0.0.5"),
        run.out());
  }

  @Test
  void aPtrNamingAnotherHostThanTheHostnameFails() {
    replace("5.0.0.127.in-addr.arpa", "5.0.0.127.in-addr.arpa. 300 IN PTR out.example.com.");
    dns.add("out.example.com. 300 IN A 127.0.0.5");
    Run run = check();
    failed(run, "PTR out.example.com forward-confirms but the relay says EHLO mail.example.com");
  }

  @Test
  void jsonOutputIsValidJsonWithOneObjectPerCheck() throws Exception {
    dns.remove("_dmarc.example.com");
    Run run = check("--json");
    assertEquals(1, run.exit(), run.out());
    // An outside parser: Python's json module.
    Process python = new ProcessBuilder("python3", "-c", """
        import json, sys
        findings = json.load(sys.stdin)
        bad = [f for f in findings if not f["ok"]]
        assert all(set(f) == {"check", "name", "ok", "level", "detail", "fix"} for f in findings)
        assert all(f["ok"] == (f["level"] != "fail") for f in findings)
        print(len(findings), len(bad), bad[0]["check"], bad[0]["fix"])
        """).start();
    python.getOutputStream().write(run.out().getBytes(StandardCharsets.UTF_8));
    python.getOutputStream().close();
    String result = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    String errors = new String(python.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, python.waitFor(), errors + "\n" + run.out());
    assertTrue(result.matches("\\d+ 1 dmarc _dmarc\\.example\\.com\\. IN TXT \"v=DMARC1; p=none;.*"), result);
  }
}
