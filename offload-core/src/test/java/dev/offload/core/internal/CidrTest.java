package dev.offload.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {
  private static InetAddress ip(String literal) {
    return InetAddresses.forString(literal);
  }

  @ParameterizedTest(name = "{0} contains {1}: {2}")
  @CsvSource({
    "0.0.0.0/0, 203.0.113.7, true",
    "0.0.0.0/0, 255.255.255.255, true",
    "0.0.0.0/0, ::1, false",
    "::/0, 2001:db8::1, true",
    "::/0, 10.0.0.1, false",
    "10.0.0.0/8, 10.255.255.255, true",
    "10.0.0.0/8, 11.0.0.0, false",
    "192.0.2.7/32, 192.0.2.7, true",
    "192.0.2.7/32, 192.0.2.6, false",
    "192.0.2.7, 192.0.2.7, true",
    "192.0.2.7, 192.0.2.8, false",
    "172.16.0.0/12, 172.31.255.255, true",
    "172.16.0.0/12, 172.32.0.0, false",
    "2001:db8::/32, 2001:db8:ffff::1, true",
    "2001:db8::/32, 2001:db9::1, false",
    "2001:db8::1/128, 2001:db8::1, true",
    "2001:db8::1/128, 2001:db8::2, false",
    "::1, ::1, true",
    "2001:db8:0:0:8000::/65, 2001:db8::8000:0:0:1, true",
    "2001:db8:0:0:8000::/65, 2001:db8::7fff:0:0:1, false",
    // IPv4-mapped IPv6 is its IPv4 address, in a rule and in a client address
    "::ffff:10.0.0.0/104, 10.1.2.3, true",
    "::ffff:10.0.0.0/104, 11.1.2.3, false",
    "10.0.0.0/8, ::ffff:10.1.2.3, true",
    "::ffff:192.0.2.7, 192.0.2.7, true",
  })
  void matchesAddressesInsideTheNetworkOnly(String cidr, String address, boolean contained) {
    assertThat(Cidr.parse(cidr).contains(ip(address))).isEqualTo(contained);
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0/8",
    "example.com/8", "fe80::1%eth0/64", "::ffff:10.0.0.0/95", "10.0.0.0/0008"
  })
  void refusesWhatIsNotANetwork(String cidr) {
    assertThatThrownBy(() -> Cidr.parse(cidr))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(cidr.isEmpty() ? "''" : cidr);
  }

  @ParameterizedTest
  @CsvSource({"10.0.0.1/8, 10.0.0.0/8", "2001:db8::1/32, 2001:db8::/32",
      "::ffff:10.0.0.1/104, ::ffff:10.0.0.0/104"})
  void refusesBitsAfterThePrefixAndNamesTheNetworkMeant(String cidr, String meant) {
    assertThatThrownBy(() -> Cidr.parse(cidr))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bits set after the prefix")
        .hasMessageContaining(meant);
  }
}
