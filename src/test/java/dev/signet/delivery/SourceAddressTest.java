package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.testkit.ScriptedMx;
import java.net.InetAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code delivery.source-addresses}: the address outbound connections leave from, and the families used. */
class SourceAddressTest {

  @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();

  private SmtpSender sender(String... sources) throws Exception {
    List<InetAddress> addresses = new java.util.ArrayList<>();
    for (String s : sources) {
      addresses.add(InetAddress.getByName(s));
    }
    SignetConfig.Delivery d = fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty());
    SignetConfig.Delivery withSources = d.toBuilder().sourceAddresses(List.copyOf(addresses)).build();
    return fixture.sender(withSources, DeliveryFixture.fast(null));
  }

  @Test
  void theMxSeesTheConfiguredSourceAddress() throws Exception {
    fixture.mx("dest.test", 10, "mx.dest.test", "127.0.0.2");
    ScriptedMx mx = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port));

    DeliveryResult result = sender("127.0.0.5").deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(InetAddress.getByName("127.0.0.5"), mx.received().get(0).peer());
  }

  @Test
  void anMxAddressOfAFamilyTheListLacksIsNotUsed() throws Exception {
    // The preferred MX has only an IPv6 address; the relay is configured IPv4-only.
    fixture.dns.add("dest.test. 300 IN MX 10 v6.dest.test.", "v6.dest.test. 300 IN AAAA ::1");
    fixture.mx("dest.test", 20, "v4.dest.test", "127.0.0.3");
    ScriptedMx v6 = fixture.track(ScriptedMx.start("::1", fixture.port));
    ScriptedMx v4 = fixture.track(ScriptedMx.start("127.0.0.3", fixture.port));

    DeliveryResult result = sender("127.0.0.5").deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(0, v6.sessions(), "the IPv6 MX must not be tried");
    assertEquals(InetAddress.getByName("127.0.0.5"), v4.received().get(0).peer());
  }

  @Test
  void anIpv6OnlyListReachesTheIpv6Mx() throws Exception {
    fixture.dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.3",
        "mx.dest.test. 300 IN AAAA ::1");
    ScriptedMx v4 = fixture.track(ScriptedMx.start("127.0.0.3", fixture.port));
    ScriptedMx v6 = fixture.track(ScriptedMx.start("::1", fixture.port));

    DeliveryResult result = sender("::1").deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(0, v4.sessions(), "the A record must be skipped although it comes first");
    assertEquals(InetAddress.getByName("::1"), v6.received().get(0).peer());
  }

  @Test
  void noMxAddressOfAConfiguredFamilyDefersWithTheReason() throws Exception {
    fixture.dns.add("dest.test. 300 IN MX 10 v6.dest.test.", "v6.dest.test. 300 IN AAAA ::1");

    DeliveryResult result = sender("127.0.0.5").deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.deferred().size(), result.toString());
    Reply reply = result.deferred().get(0).reply();
    assertEquals("4.4.4", reply.status());
    assertTrue(reply.text().contains("source-addresses (IPv4 only)"), reply.text());
  }

  @Test
  void eachDestinationSticksToOneAddressAndDestinationsSpreadOverAll() throws Exception {
    InetAddress a = InetAddress.getByName("127.0.0.5");
    InetAddress b = InetAddress.getByName("127.0.0.6");
    InetAddress mx = InetAddress.getByName("192.0.2.1");
    SourceAddresses sources = new SourceAddresses(List.of(a, b, InetAddress.getByName("2001:db8::5")));
    Set<InetAddress> used = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      String domain = "d" + i + ".test";
      InetAddress picked = sources.pick(domain, mx).orElseThrow();
      assertEquals(picked, sources.pick(domain.toUpperCase(java.util.Locale.ROOT), mx).orElseThrow());
      used.add(picked);
    }
    assertEquals(Set.of(a, b), used);
  }

  @Test
  void aSmarthostIsReachedFromTheFirstSourceAddress() throws Exception {
    ScriptedMx smarthost = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port));
    SignetConfig.Delivery d = fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.of(
        new SignetConfig.Smarthost(new dev.signet.config.HostPort("127.0.0.2", fixture.port), Optional.empty(),
            Optional.empty(), SignetConfig.SmarthostTls.OPPORTUNISTIC)));
    SignetConfig.Delivery withSources = d.toBuilder()
        .sourceAddresses(List.of(InetAddress.getByName("127.0.0.6"), InetAddress.getByName("127.0.0.5"))).build();

    DeliveryResult result = fixture.sender(withSources, DeliveryFixture.fast(null))
        .deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(InetAddress.getByName("127.0.0.6"), smarthost.received().get(0).peer());
  }

  @Test
  void anAddressThisMachineDoesNotHaveIsRefusedAtStart() throws Exception {
    SignetConfig.Delivery d = fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty());
    SmtpSender.checkSourceAddresses(d.toBuilder()
        .sourceAddresses(List.of(InetAddress.getByName("127.0.0.5"), InetAddress.getByName("::1"))).build());
    java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> SmtpSender.checkSourceAddresses(d.toBuilder()
            .sourceAddresses(List.of(InetAddress.getByName("192.0.2.25"))).build()));
    assertTrue(e.getMessage().startsWith("delivery.source-addresses: 192.0.2.25 is not an address of this machine"),
        e.getMessage());
  }
}
