package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 5321 §4.1.3 literals, strictly; and the addresses no mail goes to whatever DNS says. */
class AddressLiteralTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "[192.0.2.1] | 192.0.2.1",
      "[127.0.0.1] | 127.0.0.1",
      "[255.255.255.255] | 255.255.255.255",
      "[IPv6:2001:db8::1] | 2001:db8:0:0:0:0:0:1",
      "[ipv6:2001:DB8:0:0:8:800:200C:417A] | 2001:db8:0:0:8:800:200c:417a",
      "[IPv6:::1] | 0:0:0:0:0:0:0:1",
      "[IPv6:::] | 0:0:0:0:0:0:0:0",
      "[IPv6:1::] | 1:0:0:0:0:0:0:0",
      "[IPv6:::ffff:192.0.2.7] | 192.0.2.7",
      "[IPv6:64:ff9b::192.0.2.33] | 64:ff9b:0:0:0:0:c000:221",
      "[IPv6:1:2:3:4:5:6:192.0.2.1] | 1:2:3:4:5:6:c000:201",
  })
  void validLiterals(String literal, String address) {
    assertEquals(Optional.of(address), AddressLiteral.parse(literal).map(InetAddress::getHostAddress));
  }

  /** The probe's literals: each was resolved or dialled. None may reach a resolver. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "[IPv6:dead.beef]", "[127.1]", "[2130706433]", "[0]", "[0x7f.0.0.1]", "[256.0.0.1]", "[1.2.3.4.5]", "[1.2.3]",
      "[localhost]", "[example.com]", "[IPv6:1:2:3:4:5:6:7:8:9]", "[IPv6:1::2::3]", "[IPv6:12345::1]",
      "[IPv6:fe80::1%eth0]", "[IPv6:1:2:3:4:5:6:7]", "[IPv6:::1.2.3]", "[IPv6:192.0.2.1]", "[tag:text]", "[]",
      "192.0.2.1", "[ 192.0.2.1]",
  })
  void everythingElseIsNoLiteral(String literal) {
    assertEquals(Optional.empty(), AddressLiteral.parse(literal));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "0.0.0.0 | unspecified", "0.1.2.3 | unspecified", ":: | unspecified", "224.0.0.1 | multicast",
      "ff02::1 | multicast", "255.255.255.255 | broadcast", "169.254.169.254 | link-local", "fe80::1 | link-local",
  })
  void neverDialled(String address, String why) throws Exception {
    assertEquals(Optional.of(why), AddressLiteral.undialable(InetAddress.getByName(address)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "192.0.2.1", "2001:db8::1"})
  void loopbackPrivateAndPublicAddressesStayReachable(String address) throws Exception {
    assertEquals(Optional.empty(), AddressLiteral.undialable(InetAddress.getByName(address)));
  }
}
