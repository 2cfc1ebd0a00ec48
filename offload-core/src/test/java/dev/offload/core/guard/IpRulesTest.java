package dev.offload.core.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Decision;
import dev.offload.core.GuardVerdict;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.testing.FakeTicker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpRulesTest {
  private final TestContext deciding = TestContext.deciding(new FakeTicker());

  private static OffloadRequest from(String ip) {
    return OffloadRequest.get("/x").clientAddress(ip).build();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource({
    "10.1.2.3, true", "192.0.2.9, true", "::ffff:10.1.2.3, true", "2001:db8:1::5, true",
    "11.0.0.1, false", "192.0.2.10, false", "2001:db9::1, false", "::1, false"
  })
  void anAllowListDeniesEverythingItDoesNotList(String ip, boolean admitted) {
    IpRules rules = IpRules.allowList()
        .addAll(List.of("10.0.0.0/8", "192.0.2.9", "2001:db8::/32")).build();
    GuardVerdict verdict = rules.check(from(ip), deciding);
    assertThat(verdict.admitted()).isEqualTo(admitted);
    if (!admitted) {
      Decision.Reject reject = verdict.rejection().orElseThrow();
      assertThat(reject.status()).isEqualTo(403);
      assertThat(reject.reason()).isEqualTo("client address not allowed");
    }
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource({
    "203.0.113.7, false", "::ffff:203.0.113.200, false", "2001:db8:bad::1, false",
    "203.0.114.1, true", "2001:db8:bae::1, true", "127.0.0.1, true"
  })
  void aDenyListDeniesWhatItListsOnly(String ip, boolean admitted) {
    IpRules rules = IpRules.denyList().add("203.0.113.0/24").add("2001:db8:bad::/48").build();
    GuardVerdict verdict = rules.check(from(ip), deciding);
    assertThat(verdict.admitted()).isEqualTo(admitted);
    if (!admitted) {
      assertThat(verdict.rejection().orElseThrow().reason()).isEqualTo("client address denied");
    }
  }

  @Test
  void slashZeroListsEveryAddressOfItsFamily() {
    IpRules ipv4Only = IpRules.allowList().add("0.0.0.0/0").build();
    assertThat(ipv4Only.check(from("198.51.100.1"), deciding).admitted()).isTrue();
    assertThat(ipv4Only.check(from("2001:db8::1"), deciding).admitted()).isFalse();
    assertThat(IpRules.allowList().build().check(from("127.0.0.1"), deciding).admitted())
        .as("an empty allow list denies everyone").isFalse();
  }

  @Test
  void aForgedForwardedForDoesNotChangeTheAddressChecked() {
    IpRules rules = IpRules.denyList().add("203.0.113.7").build();
    OffloadRequest forged = OffloadRequest.get("/x").clientAddress("203.0.113.7")
        .header("X-Forwarded-For", "10.0.0.1").build();
    assertThat(rules.check(forged, deciding).admitted()).isFalse();
  }

  @Test
  void refusesABadNetworkNamingIt() {
    assertThatThrownBy(() -> IpRules.denyList().add("10.0.0.1/8"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10.0.0.0/8");
    assertThatThrownBy(() -> IpRules.denyList().add("localhost"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'localhost'");
  }

  @Test
  void addedFirstItDeniesBeforeALaterGuardRunsAndIsCounted() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    IpRules rules = IpRules.denyList().add("203.0.113.0/24").name("ip")
        .meterRegistry(registry).build();
    RateLimit limit = RateLimit.builder()
        .limit(RateLimitPolicy.of("s", 1, java.time.Duration.ofSeconds(1))).build();
    OffloadRouter router = OffloadRouter.builder().ticker(new FakeTicker())
        .guard("ip", rules).guard("rate", limit)
        .otherwise(OffloadStrategy.passThrough()).build();
    Decision decision = router.decide(from("203.0.113.7"));
    assertThat(decision).isInstanceOfSatisfying(Decision.Reject.class,
        reject -> assertThat(reject.status()).isEqualTo(403));
    assertThat(limit.estimatedBuckets()).as("the rate limit never ran").isZero();
    router.explain(from("203.0.113.7"));
    router.decide(from("198.51.100.1"));
    assertThat(registry.get("offload.guard.decisions").tags("guard", "ip", "result", "denied")
        .counter().count()).as("explain is not counted").isEqualTo(1);
    assertThat(registry.get("offload.guard.decisions").tags("guard", "ip", "result", "admitted")
        .counter().count()).isEqualTo(1);
  }
}
