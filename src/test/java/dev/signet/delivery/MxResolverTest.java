package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

class MxResolverTest {

  private TestDnsServer dns;

  @BeforeEach
  void startDns() throws Exception {
    dns = TestDnsServer.start();
  }

  @AfterEach
  void stopDns() {
    dns.close();
  }

  private MxResolver resolver() {
    return new MxResolver(List.of(dns.address()), new MxResolver.Settings(Duration.ofMillis(400), 1), new Random(1));
  }

  private static List<String> names(MxResult result) {
    return assertInstanceOf(MxResult.Found.class, result).hosts().stream().map(MxHost::name).toList();
  }

  @Test
  void mxHostsComeInPreferenceOrderWithTheirAddresses() throws Exception {
    dns.add("example.com. 300 IN MX 20 backup.example.com.",
        "example.com. 300 IN MX 10 primary.example.com.",
        "primary.example.com. 300 IN A 127.0.0.2",
        "primary.example.com. 300 IN AAAA ::1",
        "backup.example.com. 300 IN A 127.0.0.3");

    MxResult.Found found = assertInstanceOf(MxResult.Found.class, resolver().lookup("example.com"));

    assertEquals(List.of("primary.example.com", "backup.example.com"), names(found));
    assertEquals(List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("::1")),
        found.hosts().get(0).addresses());
    assertEquals(10, found.hosts().get(0).preference());
  }

  @Test
  void equalPreferencesAreShuffled() {
    dns.add("shuffle.test. 300 IN MX 10 a.shuffle.test.", "shuffle.test. 300 IN MX 10 b.shuffle.test.",
        "shuffle.test. 300 IN MX 10 c.shuffle.test.", "shuffle.test. 300 IN MX 5 first.shuffle.test.",
        "a.shuffle.test. 300 IN A 127.0.0.2", "b.shuffle.test. 300 IN A 127.0.0.3",
        "c.shuffle.test. 300 IN A 127.0.0.4", "first.shuffle.test. 300 IN A 127.0.0.5");
    MxResolver resolver = resolver();

    Set<List<String>> orders = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      List<String> order = names(resolver.lookup("shuffle.test"));
      assertEquals("first.shuffle.test", order.get(0));
      orders.add(order);
    }
    assertTrue(orders.size() > 1, "30 lookups always gave the same order of equal preferences: " + orders);
  }

  @Test
  void aDomainWithoutMxIsItsOwnMx() throws Exception {
    dns.add("implicit.test. 300 IN A 127.0.0.7");

    MxResult.Found found = assertInstanceOf(MxResult.Found.class, resolver().lookup("implicit.test"));

    assertEquals(List.of("implicit.test"), names(found));
    assertEquals(List.of(InetAddress.getByName("127.0.0.7")), found.hosts().get(0).addresses());
  }

  @Test
  void nullMxIsAPermanentFailure() {
    dns.add("nomail.test. 300 IN MX 0 .", "nomail.test. 300 IN A 127.0.0.9");

    MxResult result = resolver().lookup("nomail.test");

    assertTrue(assertInstanceOf(MxResult.PermanentFailure.class, result).reason().contains("null MX"), result.toString());
  }

  @Test
  void nxdomainIsAPermanentFailure() {
    MxResult result = resolver().lookup("missing.test");

    assertTrue(assertInstanceOf(MxResult.PermanentFailure.class, result).reason().contains("NXDOMAIN"), result.toString());
  }

  @Test
  void servfailIsATemporaryFailure() {
    dns.add("broken.test. 300 IN MX 10 mx.broken.test.").servfail("broken.test");

    MxResult result = resolver().lookup("broken.test");

    assertTrue(assertInstanceOf(MxResult.TemporaryFailure.class, result).reason().contains("SERVFAIL"), result.toString());
  }

  @Test
  void noAnswerIsATemporaryFailure() {
    dns.add("silent.test. 300 IN MX 10 mx.silent.test.").drop("silent.test");

    MxResult result = resolver().lookup("silent.test");

    assertInstanceOf(MxResult.TemporaryFailure.class, result);
    assertTrue(dns.queries("silent.test", "MX") >= 1);
  }

  @Test
  void anMxHostThatTimesOutMakesTheLookupTemporaryWhenNoOtherHostWorks() {
    dns.add("slowmx.test. 300 IN MX 10 mx.slowmx.test.", "mx.slowmx.test. 300 IN A 127.0.0.2")
        .drop("mx.slowmx.test");

    assertInstanceOf(MxResult.TemporaryFailure.class, resolver().lookup("slowmx.test"));
  }

  @Test
  void mxHostsWithoutAddressesArePermanentFailure() {
    dns.add("dangling.test. 300 IN MX 10 nowhere.dangling.test.");

    assertInstanceOf(MxResult.PermanentFailure.class, resolver().lookup("dangling.test"));
  }

  @Test
  void aCnamedMxTargetIsFollowed() throws Exception {
    dns.add("alias.test. 300 IN MX 10 mail.alias.test.",
        "mail.alias.test. 300 IN CNAME real.alias.test.",
        "real.alias.test. 300 IN A 127.0.0.4");

    MxResult.Found found = assertInstanceOf(MxResult.Found.class, resolver().lookup("alias.test"));

    assertEquals(List.of(InetAddress.getByName("127.0.0.4")), found.hosts().get(0).addresses());
  }

  @Test
  void answersAreCachedForTheirTtl() {
    dns.add("cached.test. 300 IN MX 10 mx.cached.test.", "mx.cached.test. 300 IN A 127.0.0.2");
    MxResolver resolver = resolver();

    resolver.lookup("cached.test");
    resolver.lookup("cached.test");

    assertEquals(1, dns.queries("cached.test", "MX"));
  }

  @Test
  void zeroTtlAnswersAreAskedAgain() {
    dns.add("fresh.test. 0 IN MX 10 mx.fresh.test.", "mx.fresh.test. 0 IN A 127.0.0.2");
    MxResolver resolver = resolver();

    resolver.lookup("fresh.test");
    resolver.lookup("fresh.test");

    assertEquals(2, dns.queries("fresh.test", "MX"));
  }

  @Test
  void resolversDoNotShareACache() {
    dns.add("own.test. 300 IN MX 10 mx.own.test.", "mx.own.test. 300 IN A 127.0.0.2");

    resolver().lookup("own.test");
    resolver().lookup("own.test");

    assertEquals(2, dns.queries("own.test", "MX"));
  }

  @Test
  void largeAnswersFallBackToTcp() throws Exception {
    for (int i = 0; i < 60; i++) {
      dns.add("big.test. 300 IN MX " + i + " mx" + i + ".a-rather-long-label-to-fill-the-udp-packet.big.test.");
    }
    dns.add("mx0.a-rather-long-label-to-fill-the-udp-packet.big.test. 300 IN A 127.0.0.2");

    MxResult.Found found = assertInstanceOf(MxResult.Found.class, resolver().lookup("big.test"));

    assertEquals("mx0.a-rather-long-label-to-fill-the-udp-packet.big.test", found.hosts().get(0).name());
    assertTrue(dns.tcpQueries() >= 1, "the truncated UDP answer was not retried over TCP");
  }

  @Test
  void theTestServerAnswersOverTcpToo() throws Exception {
    dns.add("tcp.test. 300 IN TXT \"hello\"");
    SimpleResolver tcp = new SimpleResolver(new java.net.InetSocketAddress("127.0.0.1", dns.port()));
    tcp.setTCP(true);

    Message response = tcp.send(Message.newQuery(Record.newRecord(Name.fromString("tcp.test."), Type.TXT, 1)));

    assertEquals(List.of("hello"), ((org.xbill.DNS.TXTRecord) response.getSection(1).get(0)).getStrings());
    assertEquals(1, dns.tcpQueries());
  }
}
