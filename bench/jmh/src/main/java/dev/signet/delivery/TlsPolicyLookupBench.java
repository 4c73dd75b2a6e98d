package dev.signet.delivery;

import dev.signet.config.HostPort;
import dev.signet.config.SignetConfig;
import dev.signet.testkit.TestBind;
import dev.signet.testkit.TestCa;
import dev.signet.testkit.TestHttpsServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the TLS policy decision costs per delivery once its caches are warm: {@code TlsPolicies.forDomain}
 * plus {@code routes} for one domain with one MX. Cases: no policy (MTA-STS and DANE off); MTA-STS
 * enforced with the domain's policy cached (the TXT check answered from the DNS cache); MTA-STS on for a
 * domain that publishes none (negative answer cached); DANE with the DNSSEC-validated MX, A, AAAA and
 * TLSA answers cached. DNS comes from the test kit's DNS server and a signed zone served by BIND 9
 * ({@code named}, which must be installed), the MTA-STS policy from an HTTPS server with a private CA,
 * all on loopback. The first calls of the warm-up fill the caches.
 *
 * <p>In package {@code delivery} because the policy classes are not public; it uses Signet's test kit
 * (the {@code tests} jar). Not part of {@code run.sh}'s default suite:
 * {@code java -jar bench/jmh/target/benchmarks.jar TlsPolicyLookupBench}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class TlsPolicyLookupBench {
  @Param({"no-policy", "mta-sts", "mta-sts-no-policy", "dane"})
  public String policy;

  private final List<AutoCloseable> servers = new ArrayList<>();
  private TlsPolicies policies;
  private String domain;
  private MxResult.Found mx;

  @Setup(Level.Trial)
  public void start() throws Exception {
    Path dir = Files.createTempDirectory("signet-policy-bench");
    MxResolver.Settings quick = new MxResolver.Settings(Duration.ofMillis(500), 1);
    TestCa ca = TestCa.create("Bench Root");
    PeerTrust trust = PeerTrust.load(Optional.of(ca.writeRootPem(dir.resolve("ca.pem"))));
    if (policy.equals("dane")) {
      TestBind bind = track(TestBind.start(dir, List.of(TestBind.signed("dane.test",
          "dane.test. IN MX 10 mx.dane.test.", "mx.dane.test. IN A 127.0.0.2",
          "_25._tcp.mx.dane.test. IN TLSA 3 1 1 " + "ab".repeat(32)))));
      Dane dane = new Dane(new DnssecResolver(List.of(bind.address()),
          Optional.of(bind.writeTrustAnchors(dir.resolve("anchors"))), quick, Clock.systemUTC()), 25);
      policies = new TlsPolicies(delivery(bind.address(), SignetConfig.MtaStsMode.OFF, true), Optional.empty(),
          Optional.of(dane), trust, null);
      domain = "dane.test";
      mx = (MxResult.Found) new MxResolver(List.of(bind.address()), quick, new Random(1)).lookup(domain);
      return;
    }
    TestDnsServer dns = track(TestDnsServer.start());
    dns.add("sts.test. 300 IN MX 10 mx.sts.test.", "mx.sts.test. 300 IN A 127.0.0.2",
        "plain.test. 300 IN MX 10 mx.plain.test.", "mx.plain.test. 300 IN A 127.0.0.2",
        "mta-sts.sts.test. 300 IN A 127.0.0.1", "_mta-sts.sts.test. 300 IN TXT \"v=STSv1; id=1\"");
    if (policy.equals("no-policy")) {
      policies = new TlsPolicies(delivery(dns.address(), SignetConfig.MtaStsMode.OFF, false), Optional.empty(),
          Optional.empty(), trust, null);
    } else {
      TestHttpsServer https = track(TestHttpsServer.start(ca.issue("mta-sts.sts.test")));
      https.serve("/.well-known/mta-sts.txt", "text/plain",
          "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 86400\n");
      MtaStsDns stsDns = new MtaStsDns(List.of(dns.address()), quick);
      MtaSts sts = new MtaSts(stsDns::txt, new PolicyFetcher(trust, stsDns::addresses, https.port(),
          Duration.ofSeconds(2)), dir.resolve("cache"), Clock.systemUTC());
      policies = new TlsPolicies(delivery(dns.address(), SignetConfig.MtaStsMode.ENFORCE, false), Optional.of(sts),
          Optional.empty(), trust, null);
    }
    domain = policy.equals("mta-sts") ? "sts.test" : "plain.test";
    mx = (MxResult.Found) new MxResolver(List.of(dns.address()), quick, new Random(1)).lookup(domain);
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    for (AutoCloseable server : servers) {
      server.close();
    }
    servers.clear();
  }

  /** One delivery's decision: the domain's policy, then the routes it allows (their count, so JMH keeps the work). */
  @Benchmark
  public int decide() {
    List<Reply> skipped = new ArrayList<>();
    TlsPolicy chosen = policies.forDomain(domain);
    return policies.routes(domain, mx, chosen, 25, skipped).size();
  }

  private <T extends AutoCloseable> T track(T server) {
    servers.add(server);
    return server;
  }

  private static SignetConfig.Delivery delivery(HostPort dns, SignetConfig.MtaStsMode sts, boolean dane) {
    return SignetConfig.defaults().delivery().toBuilder().dns(List.of(dns)).port(25).mtaSts(sts).dane(dane).build();
  }
}
