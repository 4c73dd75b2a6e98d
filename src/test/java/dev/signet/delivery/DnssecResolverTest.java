package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.TestBind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/** Secure, insecure and bogus answers from a real signed zone (BIND), validated from its key as trust anchor. */
class DnssecResolverTest {

  @TempDir Path dir;

  private static final MxResolver.Settings QUICK = new MxResolver.Settings(Duration.ofMillis(500), 1);

  @Test
  void answersAreClassifiedSecureInsecureOrBogus() throws Exception {
    try (TestBind bind = TestBind.start(dir, List.of(
        TestBind.signed("signed.test", "www.signed.test. IN A 192.0.2.1", "tampered.signed.test. IN A 192.0.2.7"),
        TestBind.unsigned("unsigned.test", "www.unsigned.test. IN A 192.0.2.2"))
        .stream().map(z -> z.name().equals("signed.test")
            ? z.tampered(t -> t.replace("192.0.2.7", "192.0.2.8")) : z).toList())) {
      DnssecResolver r = new DnssecResolver(List.of(bind.address()),
          Optional.of(bind.writeTrustAnchors(dir.resolve("anchors"))), QUICK, Clock.systemUTC());

      DnssecResolver.Answer secure = r.query("www.signed.test", Type.A);
      assertEquals(DnssecResolver.Security.SECURE, secure.security(), secure.reason());
      assertEquals(1, secure.records().size());

      DnssecResolver.Answer denial = r.query("nothing.signed.test", Type.A);
      assertTrue(denial.secureDenial(), denial.toString());
      assertEquals(Rcode.NXDOMAIN, denial.rcode());

      assertEquals(DnssecResolver.Security.INSECURE, r.query("www.unsigned.test", Type.A).security());

      DnssecResolver.Answer bogus = r.query("tampered.signed.test", Type.A);
      assertEquals(DnssecResolver.Security.BOGUS, bogus.security());
      assertTrue(bogus.records().isEmpty(), "a bogus answer hands out no records");
      assertFalse(bogus.reason().isEmpty());

      assertTrue(r.validatesTrustAnchors());
    }
  }

  @Test
  void aResolverWithoutSignaturesFailsTheTrustAnchorCheck() throws Exception {
    try (TestBind bind = TestBind.start(dir, List.of(TestBind.signed("signed.test")));
        TestDnsServer stripping = TestDnsServer.start()) {
      stripping.add("signed.test. 300 IN SOA ns.signed.test. h.signed.test. 1 3600 600 86400 60");
      DnssecResolver r = new DnssecResolver(List.of(stripping.address()),
          Optional.of(bind.writeTrustAnchors(dir.resolve("anchors"))), QUICK, Clock.systemUTC());

      assertFalse(r.validatesTrustAnchors());
    }
  }

  @Test
  void theShippedRootAnchorsLoad() throws Exception {
    DnssecResolver r = new DnssecResolver(List.of(), Optional.empty());
    assertEquals(List.of("."), r.trustAnchorNames());
  }

  @Test
  void aTrustAnchorFileWithoutKeysIsRefusedNamingTheFile() throws Exception {
    Path file = Files.writeString(dir.resolve("anchors.txt"), "example. IN A 192.0.2.1\n");
    IOException e = assertThrows(IOException.class, () -> new DnssecResolver(List.of(), Optional.of(file)));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }
}
