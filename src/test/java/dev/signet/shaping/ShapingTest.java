package dev.signet.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.TestClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Grouping by provider, limits, and reply-driven backoff, on a clock the test moves. */
class ShapingTest {
  @TempDir Path dir;
  private final TestClock clock = new TestClock(Instant.parse("2026-12-06T10:00:00Z"));

  private Shaping shaping(String yaml) throws Exception {
    Path file = dir.resolve("shaping.yaml");
    Files.writeString(file, yaml);
    return Shaping.load(Optional.of(file), Optional.empty(), clock, null);
  }

  @Test
  void domainsWhoseMxHostsShareAProviderSuffixShareOneGroup() {
    Shaping shaping = Shaping.builtIn(clock);
    Destination a = shaping.destination("gmail.com", List.of("gmail-smtp-in.l.google.com"));
    Destination b = shaping.destination("workspace-customer.example", List.of("aspmx.l.google.com", "alt1.aspmx.l.google.com"));
    Destination c = shaping.destination("contoso.example", List.of("contoso-example.mail.protection.outlook.com"));
    Destination d = shaping.destination("hotmail.com", List.of("hotmail-com.olc.protection.outlook.com"));
    Destination e = shaping.destination("yahoo.com", List.of("mta5.am0.yahoodns.net"));
    assertEquals("google", a.group());
    assertEquals(a.group(), b.group());
    assertEquals("microsoft", c.provider());
    assertEquals("microsoft", d.provider());
    assertEquals("yahoo", e.provider());
  }

  @Test
  void aDomainNoRuleMatchesIsItsOwnGroupLabelledDefault() {
    Shaping shaping = Shaping.builtIn(clock);
    Destination a = shaping.destination("one.example", List.of("mx.one.example"));
    Destination b = shaping.destination("two.example", List.of("mx.one.example"));
    assertEquals("default", a.provider());
    assertNotEquals(a.group(), b.group());
    assertFalse(shaping.destination("notgoogle.example", List.of("mx.evilgoogle.com")).provider().equals("google"),
        "a suffix matches at a label boundary only");
  }

  @Test
  void aDomainOverrideIsAGroupOfItsOwnWithItsProvidersOtherLimits() throws Exception {
    Shaping shaping = shaping("domains:\n  big.example:\n    rate: 2/minute\n");
    Destination d = shaping.destination("big.example", List.of("aspmx.l.google.com"));
    assertEquals("google", d.provider());
    assertEquals("domain:big.example", d.group());
    assertEquals(10, d.limits().connections());
    assertEquals(Optional.of(new Rate(2, Duration.ofMinutes(1))), d.limits().rate());
  }

  @Test
  void theRateIsATokenBucketAcrossAllDomainsOfAProvider() throws Exception {
    Shaping shaping = shaping("providers:\n  google:\n    rate: 3/minute\n");
    List<Destination> domains = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      domains.add(shaping.destination("d" + i + ".example", List.of("aspmx.l.google.com")));
    }
    for (int i = 0; i < 3; i++) {
      assertEquals(Optional.empty(), shaping.admit(domains.get(i)), "token " + i);
    }
    Optional<Hold> held = shaping.admit(domains.get(3));
    assertTrue(held.isPresent(), "the fourth message of the minute waits, whatever its domain");
    assertEquals("google", held.get().provider());
    Instant next = clock.instant().plusSeconds(20); // one token per 20 s
    assertFalse(held.get().until().isBefore(next), held.get().until().toString());
    assertTrue(held.get().until().isBefore(next.plusSeconds(5)), "at most a fifth of the wait as jitter");
    clock.advance(Duration.ofSeconds(20));
    assertEquals(Optional.empty(), shaping.admit(domains.get(3)));
    assertTrue(shaping.admit(domains.get(0)).isPresent());
  }

  @Test
  void connectionsAreCountedPerProviderAndGivenBackOnClose() throws Exception {
    Shaping shaping = shaping("providers:\n  google:\n    connections: 2\n");
    Destination a = shaping.destination("a.example", List.of("aspmx.l.google.com"));
    Destination b = shaping.destination("b.example", List.of("aspmx.l.google.com"));
    Lease first = shaping.open(a).orElseThrow();
    Lease second = shaping.open(b).orElseThrow();
    assertEquals(Optional.empty(), shaping.open(a));
    Hold busy = shaping.busy(a);
    assertTrue(busy.reason().contains("connections 2"), busy.reason());
    first.close();
    first.close(); // twice gives back once
    assertTrue(shaping.open(b).isPresent());
    assertEquals(Optional.empty(), shaping.open(a));
    second.close();
  }

  @Test
  void aSessionCarriesAtMostMessagesPerConnection() throws Exception {
    Shaping shaping = shaping("providers:\n  yahoo:\n    messages-per-connection: 2\n");
    Lease lease = shaping.open(shaping.destination("yahoo.com", List.of("mta6.am0.yahoodns.net"))).orElseThrow();
    lease.sent();
    assertTrue(lease.reusable());
    lease.sent();
    assertFalse(lease.reusable());
  }

  @Test
  void aMatchingReplySuspendsTheProviderUntilTheRuleRunsOut() {
    Shaping shaping = Shaping.builtIn(clock);
    Destination gmail = shaping.destination("gmail.com", List.of("gmail-smtp-in.l.google.com"));
    Destination other = shaping.destination("workspace.example", List.of("aspmx.l.google.com"));
    Destination yahoo = shaping.destination("yahoo.com", List.of("mta5.am0.yahoodns.net"));
    shaping.observe(gmail, 421, "4.7.28", "421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of "
        + "unsolicited mail originating from your IP address. - gsmtp");
    Hold hold = shaping.admit(other).orElseThrow(() -> new AssertionError("every Google domain is suspended"));
    assertTrue(hold.reason().contains("suspended (rule google-unsolicited-rate)"), hold.reason());
    assertFalse(hold.until().isBefore(clock.instant().plus(Duration.ofMinutes(30))));
    assertTrue(shaping.suspended("google"));
    assertEquals(Optional.empty(), shaping.admit(yahoo), "other providers go on");
    clock.advance(Duration.ofMinutes(30).plusSeconds(1));
    assertEquals(Optional.empty(), shaping.admit(other), "restored by itself");
    assertFalse(shaping.suspended("google"));
  }

  @Test
  void repliesOfOtherProvidersOrOtherCodesDoNotTrigger() {
    Shaping shaping = Shaping.builtIn(clock);
    Destination gmail = shaping.destination("gmail.com", List.of("gmail-smtp-in.l.google.com"));
    Destination yahoo = shaping.destination("yahoo.com", List.of("mta5.am0.yahoodns.net"));
    shaping.observe(yahoo, 421, "4.7.28", "421 4.7.28 unusual rate");
    shaping.observe(gmail, 451, "4.3.0", "451 4.3.0 try again later");
    assertEquals(Optional.empty(), shaping.admit(gmail));
    assertEquals(Optional.empty(), shaping.admit(yahoo));
  }

  @Test
  void microsoftThrottlingLowersConnectionsForAWhile() {
    Shaping shaping = Shaping.builtIn(clock);
    Destination outlook = shaping.destination("contoso.example", List.of("contoso-example.mail.protection.outlook.com"));
    shaping.observe(outlook, 451, "4.7.500", "451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719)");
    List<Lease> open = new ArrayList<>();
    for (Optional<Lease> l = shaping.open(outlook); l.isPresent(); l = shaping.open(outlook)) {
      open.add(l.get());
    }
    assertEquals(2, open.size());
    open.forEach(Lease::close);
    clock.advance(Duration.ofMinutes(16));
    for (Optional<Lease> l = shaping.open(outlook); l.isPresent(); l = shaping.open(outlook)) {
      open.add(l.get());
    }
    assertEquals(2 + 10, open.size(), "back to the provider's 10");
  }

  @Test
  void yahooTsCodesSuspendYahoo() {
    Shaping shaping = Shaping.builtIn(clock);
    Destination yahoo = shaping.destination("aol.com", List.of("mx-aol.mail.gm0.yahoodns.net"));
    shaping.observe(yahoo, 421, "4.7.0", "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to "
        + "unexpected volume or user complaints - 4.16.55.1");
    assertTrue(shaping.admit(yahoo).isPresent());
    assertTrue(shaping.suspended("yahoo"));
  }

}
