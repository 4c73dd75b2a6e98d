package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.cli.OpsRig.Run;
import dev.signet.config.HostPort;
import dev.signet.delivery.TestDnsServer;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.KeyRing;
import dev.signet.testkit.TestBind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code signet dns --check}'s DNSSEC lines against a real BIND serving a DNSSEC-signed zone (its
 * key-signing key is the trust anchor), an unsigned one, and a signed one with a broken signature.
 */
class DnsDoctorDnssecTest {

  @TempDir Path dir;
  private Path keys;
  /** Everything a receiver looks up about example.com mail, published correctly. */
  private final List<String> records = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    keys = dir.resolve("keys");
    OpsRig.installKey(keys, "rsa2048.pem", "example.com", "rsa2026");
    for (DnsRecord r : KeyRing.load(keys).all().stream().map(DnsRecord::of).toList()) {
      StringBuilder line = new StringBuilder(r.name() + " IN TXT");
      r.strings().forEach(s -> line.append(" \"").append(s).append('"'));
      records.add(line.toString());
    }
    records.addAll(List.of("example.com. IN TXT \"v=spf1 ip4:127.0.0.5 -all\"",
        "mail.example.com. IN TXT \"v=spf1 ip4:127.0.0.5 -all\"",
        "mail.example.com. IN A 127.0.0.5",
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@example.com\""));
  }

  private static TestBind.Zone reverse() {
    return TestBind.unsigned("0.0.127.in-addr.arpa", "5.0.0.127.in-addr.arpa. IN PTR mail.example.com.");
  }

  private TestBind bind(TestBind.Zone... zones) throws Exception {
    Path zoneDir = Files.createDirectories(dir.resolve("bind"));
    return TestBind.start(zoneDir, List.of(zones));
  }

  private Run check(HostPort server, Path anchors, String... extra) throws Exception {
    return check("", server, anchors, extra);
  }

  private Run check(String dkim, HostPort server, Path anchors, String... extra) throws Exception {
    Path config = Files.writeString(dir.resolve("signet.yaml"), "hostname: mail.example.com\ndkim:\n  keys: " + keys
        + "\n" + dkim + "delivery:\n  dns: [\"" + server + "\"]\n  source-addresses: [127.0.0.5]\n"
        + "  dnssec:\n    trust-anchor: " + anchors + "\n");
    List<String> args = new ArrayList<>(List.of("dns", "--check", "--config", config.toString()));
    args.addAll(List.of(extra));
    return OpsRig.signet(args.toArray(String[]::new));
  }

  /** The table's DNSSEC lines, the padding between the columns made two spaces. */
  private static List<String> dnssecLines(Run run) {
    return run.out().lines().filter(l -> l.matches("^. dnssec .*")).map(l -> l.replaceAll(" {2,}", "  ")).toList();
  }

  @Test
  void aSignedZoneIsSecure() throws Exception {
    try (TestBind bind = bind(TestBind.signed("example.com", records.toArray(String[]::new)), reverse())) {
      Run run = check(bind.address(), bind.writeTrustAnchors(dir.resolve("anchors")));
      assertEquals(0, run.exit(), run.out() + run.err());
      assertEquals(List.of(
          "✔ dnssec example.com.  secure: DKIM rsa2026, SPF and DMARC validate",
          "✔ dnssec mail.example.com.  secure: SPF validates"), dnssecLines(run), run.out());
      assertTrue(run.out().contains("checks passed\n") && !run.out().contains("note"), run.out());
    }
  }

  @Test
  void anUnsignedZoneIsANoteThatDoesNotFailTheCheck() throws Exception {
    // The trust anchor is another zone's key: example.com lies outside it, so its answers are insecure.
    try (TestBind bind = bind(TestBind.unsigned("example.com", records.toArray(String[]::new)), reverse(),
        TestBind.signed("anchor.test"))) {
      Run run = check(bind.address(), bind.writeTrustAnchors(dir.resolve("anchors")));
      assertEquals(0, run.exit(), run.out() + run.err());
      assertEquals(List.of(
          "ℹ dnssec example.com.  insecure: DKIM rsa2026, SPF and DMARC are not DNSSEC-signed "
              + "(receivers take the answers unverified; signing the zone protects them from forgery)",
          "ℹ dnssec mail.example.com.  insecure: SPF is not DNSSEC-signed "
              + "(receivers take the answers unverified; signing the zone protects them from forgery)"),
          dnssecLines(run), run.out());
      assertTrue(run.out().lines().noneMatch(l -> l.startsWith("✘")), run.out());
      assertTrue(run.out().endsWith("checks passed (2 notes)\n"), run.out());
    }
  }

  @Test
  void anUnsignedSubdomainUnderASignedParentIsPartlyInsecure() throws Exception {
    // news.example.com is delegated without a DS record: provably unsigned (RFC 4035 §5.2). Its mail
    // has no DMARC record of its own, so receivers use example.com's, which validates.
    List<String> parent = new ArrayList<>(records);
    parent.add("news.example.com. IN NS ns.example.com.");
    try (TestBind bind = bind(TestBind.signed("example.com", parent.toArray(String[]::new)),
        TestBind.unsigned("news.example.com", "news.example.com. IN TXT \"v=spf1 ip4:127.0.0.5 -all\""), reverse())) {
      Run run = check("  subdomains: true\n", bind.address(), bind.writeTrustAnchors(dir.resolve("anchors")),
          "--from", "example.com,news.example.com");
      assertEquals(0, run.exit(), run.out() + run.err());
      assertEquals(List.of(
          "✔ dnssec example.com.  secure: DKIM rsa2026, SPF and DMARC validate",
          "✔ dnssec mail.example.com.  secure: SPF validates",
          "ℹ dnssec news.example.com.  partly insecure: DMARC (example.com) validates; SPF and DMARC are not "
              + "DNSSEC-signed"), dnssecLines(run), run.out());
    }
  }

  @Test
  void aBrokenSignatureIsAnErrorWithWhatToFix() throws Exception {
    // The DMARC record is changed after signing: its signature no longer holds.
    TestBind.Zone tampered = TestBind.signed("example.com", records.toArray(String[]::new))
        .tampered(zone -> zone.replace("p=reject", "p=none"));
    try (TestBind bind = bind(tampered, reverse())) {
      Path anchors = bind.writeTrustAnchors(dir.resolve("anchors"));
      Run run = check(bind.address(), anchors);
      assertEquals(1, run.exit(), run.out() + run.err());
      String[] lines = run.out().replaceAll(" {2,}", "  ").split("\n");
      int at = List.of(lines).indexOf(dnssecLines(run).get(0));
      assertEquals("✘ dnssec example.com.  BOGUS: the DMARC record at _dmarc.example.com. fails validation (Positive "
          + "response has failed ANSWER rrset): validating receivers get a DNS error instead of it", lines[at]);
      assertEquals("  -> re-sign the zone example.com. (its keys validate, but the signature over "
          + "_dmarc.example.com. TXT is missing, expired or does not match the record)", lines[at + 1]);
      assertEquals("✔ dnssec mail.example.com.  secure: SPF validates", lines[at + 2]);

      Run json = check(bind.address(), anchors, "--json");
      assertEquals(1, json.exit(), json.out());
      Process python = new ProcessBuilder("python3", "-c", """
          import json, sys
          findings = json.load(sys.stdin)
          dnssec = {f["name"]: f for f in findings if f["check"] == "dnssec"}
          bogus, host = dnssec["example.com."], dnssec["mail.example.com."]
          assert (bogus["ok"], bogus["level"]) == (False, "fail"), bogus
          assert bogus["detail"].startswith("BOGUS: the DMARC record at _dmarc.example.com."), bogus
          assert bogus["fix"].startswith("re-sign the zone example.com. "), bogus
          assert (host["ok"], host["level"], host["fix"]) == (True, "pass", None), host
          print(len(dnssec))
          """).start();
      python.getOutputStream().write(json.out().getBytes(StandardCharsets.UTF_8));
      python.getOutputStream().close();
      String result = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      String errors = new String(python.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, python.waitFor(), errors + "\n" + json.out());
      assertEquals("2", result);
    }
  }

  @Test
  void aKeyTheParentsDsDoesNotNameIsAnErrorAtTheParent() throws Exception {
    // news.example.com's key-signing key is changed after the DS record in example.com was made from it:
    // a key rolled without updating the parent.
    List<String> parent = new ArrayList<>(records);
    parent.add("news.example.com. IN NS ns.example.com.");
    TestBind.Zone child = TestBind.signed("news.example.com", "news.example.com. IN TXT \"v=spf1 ip4:127.0.0.5 -all\"")
        .delegated().tampered(zone -> Pattern.compile("(DNSKEY\\s+257 3 13 \\(\\s+)([A-Za-z0-9+/])").matcher(zone)
            .replaceFirst(m -> m.group(1) + (m.group(2).equals("Q") ? "R" : "Q")));
    try (TestBind bind = bind(child, TestBind.signed("example.com", parent.toArray(String[]::new)), reverse())) {
      Run run = check("  subdomains: true\n", bind.address(), bind.writeTrustAnchors(dir.resolve("anchors")),
          "--from", "example.com,news.example.com");
      assertEquals(1, run.exit(), run.out() + run.err());
      String[] lines = run.out().replaceAll(" {2,}", "  ").split("\n");
      int at = List.of(lines).indexOf(dnssecLines(run).get(2));
      assertTrue(lines[at].startsWith("✘ dnssec news.example.com.  BOGUS: the SPF record at news.example.com. fails "
          + "validation ("), lines[at]);
      assertEquals("  -> the DNSKEY set of news.example.com. does not validate from the DS record at its parent: "
          + "publish there the DS of the zone's current key-signing key (dnssec-dsfromkey), or sign with the key "
          + "the DS names", lines[at + 1]);
      assertEquals("✔ dnssec example.com.  secure: DKIM rsa2026, SPF and DMARC validate", dnssecLines(run).get(0));
    }
  }

  @Test
  void aResolverThatStripsDnssecGivesOneNoteNotABogusDomain() throws Exception {
    // The records come from a server without DNSSEC, while the trust anchor says example.com is signed.
    try (TestBind bind = bind(TestBind.signed("example.com", records.toArray(String[]::new)));
        TestDnsServer plain = TestDnsServer.start()) {
      records.forEach(r -> plain.add(r.replaceFirst(" IN ", " 300 IN ")));
      plain.add("5.0.0.127.in-addr.arpa. 300 IN PTR mail.example.com.");
      Run run = check(plain.address(), bind.writeTrustAnchors(dir.resolve("anchors")));
      assertEquals(0, run.exit(), run.out() + run.err());
      assertEquals(List.of("ℹ dnssec example.com.  not checked: the DNSKEY set of trust anchor "
          + "example.com. does not validate through the delivery.dns resolvers, which strip DNSSEC records or do "
          + "not answer for it; point delivery.dns at a resolver that passes DNSSEC through (DANE needs one too)"),
          dnssecLines(run), run.out());
      assertTrue(run.out().lines().noneMatch(l -> l.startsWith("✘")), run.out());
    }
  }

  @Test
  void aMissingTrustAnchorFileIsNamed() throws Exception {
    try (TestDnsServer plain = TestDnsServer.start()) {
      Path missing = dir.resolve("no-such-anchors");
      Run run = check(plain.address(), missing);
      assertEquals(1, run.exit(), run.out());
      assertTrue(run.err().contains("delivery.dnssec.trust-anchor " + missing + ": no such file"), run.err());
    }
  }
}
