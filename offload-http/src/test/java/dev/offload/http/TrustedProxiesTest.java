package dev.offload.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.net.InetAddresses;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrustedProxiesTest {
  private static String resolve(TrustedProxies trusted, String peer, String... xff) {
    return InetAddresses.toAddrString(
        trusted.resolveClient(InetAddresses.forString(peer), List.of(xff)));
  }

  @Test
  void anUntrustedPeerIsTheClientWhateverItClaims() {
    assertThat(resolve(TrustedProxies.of("10.0.0.0/8"), "192.0.2.1", "203.0.113.9"))
        .isEqualTo("192.0.2.1");
    assertThat(resolve(TrustedProxies.none(), "127.0.0.1", "203.0.113.9")).isEqualTo("127.0.0.1");
  }

  @Test
  void behindTrustedProxiesTheClientIsTheRightmostUntrustedHop() {
    TrustedProxies trusted = TrustedProxies.of("10.0.0.0/8", "2001:db8::/32");
    assertThat(resolve(trusted, "10.0.0.1", "6.6.6.6, 203.0.113.9, 10.9.9.9"))
        .isEqualTo("203.0.113.9");
    assertThat(resolve(trusted, "2001:db8::1", "[2001:db9::5]:443")).isEqualTo("2001:db9::5");
    assertThat(resolve(trusted, "10.0.0.1", "198.51.100.4:8080")).isEqualTo("198.51.100.4");
    assertThat(resolve(trusted, "10.0.0.1", "10.0.0.2")).isEqualTo("10.0.0.2");
  }

  @Test
  void aHopThatIsNotAnAddressStopsTheWalkAtTheTrustedHopThatReportedIt() {
    TrustedProxies trusted = TrustedProxies.of("10.0.0.0/8");
    assertThat(resolve(trusted, "10.0.0.1", "203.0.113.9, unknown, 10.0.0.7"))
        .isEqualTo("10.0.0.7");
  }

  @Test
  void prefixesMaskTheRightBits() {
    TrustedProxies trusted = TrustedProxies.of("192.168.4.0/22", "::1");
    assertThat(trusted.contains(InetAddresses.forString("192.168.7.255"))).isTrue();
    assertThat(trusted.contains(InetAddresses.forString("192.168.8.0"))).isFalse();
    assertThat(trusted.contains(InetAddresses.forString("::1"))).isTrue();
    assertThat(trusted.contains(InetAddresses.forString("::2"))).isFalse();
  }
}
