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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What the TLS policy decision costs per delivery once its caches are warm: the MTA-STS TXT check
 * and cached policy, or the DNSSEC-validated MX/A/AAAA/TLSA answers of DANE, plus building the
 * routes. A measurement, not a test: {@code mvn test -Dtest=TlsPolicyLookupBenchmark -Dbench=true}.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class TlsPolicyLookupBenchmark {

  private static final int CALLS = 200_000;

  @Test
  void measure() throws Exception {
    Path dir = Files.createTempDirectory("signet-policy-bench");
    TestCa ca = TestCa.create("Bench Root");
    MxResolver.Settings quick = new MxResolver.Settings(Duration.ofMillis(500), 1);
    try (TestDnsServer dns = TestDnsServer.start();
        TestHttpsServer https = TestHttpsServer.start(ca.issue("mta-sts.sts.test"));
        TestBind bind = TestBind.start(dir, List.of(TestBind.signed("dane.test", "dane.test. IN MX 10 mx.dane.test.",
            "mx.dane.test. IN A 127.0.0.2", "_25._tcp.mx.dane.test. IN TLSA 3 1 1 " + "ab".repeat(32))))) {
      dns.add("sts.test. 300 IN MX 10 mx.sts.test.", "mx.sts.test. 300 IN A 127.0.0.2",
          "plain.test. 300 IN MX 10 mx.plain.test.", "mx.plain.test. 300 IN A 127.0.0.2",
          "mta-sts.sts.test. 300 IN A 127.0.0.1", "_mta-sts.sts.test. 300 IN TXT \"v=STSv1; id=1\"");
      https.serve("/.well-known/mta-sts.txt", "text/plain", "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 86400\n");
      PeerTrust trust = PeerTrust.load(Optional.of(ca.writeRootPem(dir.resolve("ca.pem"))));

      SignetConfig.Delivery plain = delivery(dns.address(), SignetConfig.MtaStsMode.OFF, false);
      TlsPolicies off = new TlsPolicies(plain, Optional.empty(), Optional.empty(), trust, null);

      MtaStsDns stsDns = new MtaStsDns(List.of(dns.address()), quick);
      MtaSts sts = new MtaSts(stsDns::txt, new PolicyFetcher(trust, stsDns::addresses, https.port(), Duration.ofSeconds(2)),
          dir.resolve("cache"), Clock.systemUTC());
      TlsPolicies withSts = new TlsPolicies(delivery(dns.address(), SignetConfig.MtaStsMode.ENFORCE, false),
          Optional.of(sts), Optional.empty(), trust, null);

      Dane dane = new Dane(new DnssecResolver(List.of(bind.address()),
          Optional.of(bind.writeTrustAnchors(dir.resolve("anchors"))), quick, Clock.systemUTC()), 25);
      TlsPolicies withDane = new TlsPolicies(delivery(bind.address(), SignetConfig.MtaStsMode.OFF, true),
          Optional.empty(), Optional.of(dane), trust, null);

      MxResolver mxDns = new MxResolver(List.of(dns.address()), quick, new Random(1));
      MxResolver mxBind = new MxResolver(List.of(bind.address()), quick, new Random(1));
      MxResult.Found plainMx = (MxResult.Found) mxDns.lookup("plain.test");
      MxResult.Found stsMx = (MxResult.Found) mxDns.lookup("sts.test");
      MxResult.Found daneMx = (MxResult.Found) mxBind.lookup("dane.test");

      for (int round = 1; round <= 3; round++) {
        report(round, "no policy (mta-sts off, dane off), plain.test", off, "plain.test", plainMx);
        report(round, "mta-sts enforce, cached policy, sts.test", withSts, "sts.test", stsMx);
        report(round, "mta-sts on, domain without policy, plain.test", withSts, "plain.test", plainMx);
        report(round, "dane, signed MX + TLSA cached, dane.test", withDane, "dane.test", daneMx);
      }
    }
  }

  private static void report(int round, String what, TlsPolicies policies, String domain, MxResult.Found mx) {
    int sink = 0;
    for (int i = 0; i < 20_000; i++) { // warm-up: caches and JIT
      sink += decide(policies, domain, mx);
    }
    long start = System.nanoTime();
    for (int i = 0; i < CALLS; i++) {
      sink += decide(policies, domain, mx);
    }
    double micros = (System.nanoTime() - start) / 1000.0 / CALLS;
    System.out.printf("round %d  %-50s %8.2f us per delivery (routes %d)%n", round, what, micros, sink / (CALLS + 20_000));
  }

  private static int decide(TlsPolicies policies, String domain, MxResult.Found mx) {
    List<Reply> skipped = new ArrayList<>();
    TlsPolicy policy = policies.forDomain(domain);
    return policies.routes(domain, mx, policy, 25, skipped).size();
  }

  private static SignetConfig.Delivery delivery(HostPort dns, SignetConfig.MtaStsMode sts, boolean dane) {
    return SignetConfig.defaults().delivery().toBuilder().dns(List.of(dns)).port(25).mtaSts(sts).dane(dane).build();
  }
}
