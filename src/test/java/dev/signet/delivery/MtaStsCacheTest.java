package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.TestCa;
import dev.signet.testkit.TestHttpsServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MTA-STS policy cache on virtual time: refresh before expiry, expiry, counts, the fetch's size limit. */
class MtaStsCacheTest {

  private static final TestCa CA = TestCa.create("Cache Test Root");
  private static final String PATH = "/.well-known/mta-sts.txt";

  @TempDir Path tmp;
  private TestDnsServer dns;
  private TestHttpsServer host;
  private Instant now = Instant.parse("2026-12-06T10:00:00Z");
  private MtaSts sts;

  private final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  };

  @BeforeEach
  void start() throws Exception {
    dns = TestDnsServer.start();
    host = TestHttpsServer.start(CA.issue("mta-sts.dest.test"));
    dns.add("mta-sts.dest.test. 300 IN A 127.0.0.1", "_mta-sts.dest.test. 0 IN TXT \"v=STSv1; id=1\"");
    host.serve(PATH, "text/plain", "version: STSv1\nmode: enforce\nmx: mx.dest.test\nmax_age: 1000\n");
    MtaStsDns lookups = new MtaStsDns(List.of(dns.address()), new MxResolver.Settings(Duration.ofMillis(500), 1));
    PeerTrust trust = PeerTrust.load(Optional.of(CA.writeRootPem(tmp.resolve("ca.pem"))));
    sts = new MtaSts(lookups::txt, new PolicyFetcher(trust, lookups::addresses, host.port(), Duration.ofSeconds(2)),
        tmp.resolve("cache"), clock);
  }

  @AfterEach
  void stop() {
    host.close();
    dns.close();
  }

  @Test
  void aCachedPolicyIsNotFetchedAgainWhileItsIdStays() {
    assertTrue(sts.policy("dest.test").isPresent());
    now = now.plusSeconds(100);
    assertTrue(sts.policy("dest.test").isPresent());
    sts.refreshDue();
    assertEquals(1, host.requests());
  }

  @Test
  void theBackgroundRefreshFetchesAHalfSpentPolicyAgain() {
    sts.policy("dest.test");
    host.serve(PATH, "text/plain", "version: STSv1\nmode: testing\nmx: mx.dest.test\nmax_age: 1000\n");
    now = now.plusSeconds(600); // past half of max_age

    sts.refreshDue();

    assertEquals(2, host.requests());
    assertEquals(MtaStsPolicy.Mode.TESTING, sts.policy("dest.test").orElseThrow().policy().mode());
    assertEquals(Instant.parse("2026-12-06T10:10:00Z"), sts.policy("dest.test").orElseThrow().fetched());
  }

  @Test
  void aPolicyPastItsMaxAgeNoLongerAppliesWhenTheDomainWithdrewItsRecord() {
    sts.policy("dest.test");
    dns.remove("_mta-sts.dest.test");
    now = now.plusSeconds(999);
    assertTrue(sts.policy("dest.test").isPresent(), "still valid without the TXT record (RFC 8461 §5.1)");
    now = now.plusSeconds(2);
    assertTrue(sts.policy("dest.test").isEmpty(), "expired");
  }

  @Test
  void aFailedFetchIsNotRepeatedForEveryDeliveryButRetriedLater() {
    host.serve(PATH, "text/html", "<html>maintenance</html>");
    assertTrue(sts.policy("dest.test").isEmpty());
    assertTrue(sts.policy("dest.test").isEmpty());
    assertEquals(1, host.requests(), "the second delivery does not fetch again");

    host.serve(PATH, "text/plain", "version: STSv1\nmode: enforce\nmx: mx.dest.test\nmax_age: 1000\n");
    now = now.plus(MtaSts.RETRY_FETCH).plusSeconds(1);
    assertTrue(sts.policy("dest.test").isPresent());
    assertEquals(2, host.requests());
  }

  @Test
  void countsArePerMode() {
    sts.policy("dest.test");
    assertEquals(1, sts.counts().get(MtaStsPolicy.Mode.ENFORCE));
    assertEquals(0, sts.counts().get(MtaStsPolicy.Mode.TESTING));
  }

  @Test
  void aPolicyOver64KilobytesIsRefused() {
    host.serve(PATH, "text/plain", "version: STSv1\nmode: enforce\nmx: mx.dest.test\nmax_age: 1000\n"
        + "x: " + "y".repeat(70_000) + "\n");
    assertTrue(sts.policy("dest.test").isEmpty());
  }

  @Test
  void theCacheFileHoldsIdFetchTimeAndPolicy() throws Exception {
    sts.policy("dest.test");
    String file = Files.readString(tmp.resolve("cache/dest.test"));
    assertTrue(file.startsWith("id: 1\nfetched: " + now.getEpochSecond() + "\n\nversion: STSv1\n"), file);
  }
}
