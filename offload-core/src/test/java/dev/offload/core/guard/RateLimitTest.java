package dev.offload.core.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.AttributeKey;
import dev.offload.core.Decision;
import dev.offload.core.Explanation;
import dev.offload.core.GuardVerdict;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.testing.FakeTicker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RateLimitTest {
  private final FakeTicker ticker = new FakeTicker();
  private final TestContext deciding = TestContext.deciding(ticker);

  private static OffloadRequest from(String ip) {
    return OffloadRequest.get("/api/x").clientAddress(ip).build();
  }

  private static RateLimitPolicy perSecond(long quota) {
    return RateLimitPolicy.of("per-second", quota, Duration.ofSeconds(1));
  }

  private static int admitted(RateLimit limit, OffloadRequest request, TestContext context,
      int times) {
    int admitted = 0;
    for (int i = 0; i < times; i++) {
      if (limit.check(request, context).admitted()) {
        admitted++;
      }
    }
    return admitted;
  }

  private static Headers denialHeaders(GuardVerdict verdict) {
    return verdict.rejection().orElseThrow().headers();
  }

  @Test
  void admitsTheQuotaThenDeniesWith429RetryAfterAndRateLimitFields() {
    RateLimit limit = RateLimit.builder().limit(perSecond(3)).build();
    OffloadRequest request = from("203.0.113.7");
    List<String> remaining = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      GuardVerdict verdict = limit.check(request, deciding);
      assertThat(verdict.admitted()).isTrue();
      remaining.add(verdict.responseHeaders().first("RateLimit").orElseThrow());
      assertThat(verdict.responseHeaders().first("RateLimit-Policy"))
          .contains("\"per-second\";q=3;w=1");
    }
    assertThat(remaining).containsExactly(
        "\"per-second\";r=2;t=1", "\"per-second\";r=1;t=1", "\"per-second\";r=0;t=1");

    GuardVerdict denied = limit.check(request, deciding);
    Decision.Reject reject = denied.rejection().orElseThrow();
    assertThat(reject.status()).isEqualTo(429);
    assertThat(reject.reason()).isEqualTo("rate limit exceeded");
    assertThat(reject.headers().first("Retry-After")).contains("1");
    assertThat(reject.headers().first("RateLimit")).contains("\"per-second\";r=0;t=1");
    assertThat(reject.headers().first("RateLimit-Policy")).contains("\"per-second\";q=3;w=1");
  }

  @Test
  void refillsOnTheRoutersTickerOnly() {
    RateLimit limit = RateLimit.builder().limit(perSecond(2)).build();
    OffloadRequest request = from("203.0.113.7");
    assertThat(admitted(limit, request, deciding, 5)).isEqualTo(2);
    ticker.advance(Duration.ofMillis(499));
    assertThat(limit.check(request, deciding).admitted()).as("half a token").isFalse();
    ticker.advance(Duration.ofMillis(1));
    assertThat(admitted(limit, request, deciding, 5)).as("one token after 500 ms").isEqualTo(1);
    ticker.advance(Duration.ofHours(1));
    assertThat(admitted(limit, request, deciding, 5)).as("refilled to the burst only").isEqualTo(2);
  }

  @Test
  void retryAfterIsWholeSecondsRoundedUpAndAtLeastOne() {
    RateLimit limit = RateLimit.builder()
        .limit(RateLimitPolicy.of("per-minute", 2, Duration.ofMinutes(1)))
        .build();
    OffloadRequest request = from("203.0.113.7");
    admitted(limit, request, deciding, 2);
    assertThat(denialHeaders(limit.check(request, deciding)).first("Retry-After")).contains("30");
    ticker.advance(Duration.ofMillis(29_001));
    assertThat(denialHeaders(limit.check(request, deciding)).first("Retry-After")).contains("1");
    ticker.advance(Duration.ofMillis(998));
    assertThat(denialHeaders(limit.check(request, deciding)).first("Retry-After"))
        .as("1 ms to wait is still 1 s").contains("1");
    assertThat(RateLimit.retryAfterSeconds(1)).isEqualTo(1);
    assertThat(RateLimit.retryAfterSeconds(0)).isEqualTo(1);
    assertThat(RateLimit.retryAfterSeconds(2_000_000_001L)).isEqualTo(3);
  }

  @Test
  void needsATokenOfEveryPolicyAndReportsThePolicyWithTheLeastRemaining() {
    RateLimit limit = RateLimit.builder()
        .limit(RateLimitPolicy.of("per-second", 5, Duration.ofSeconds(1)))
        .limit(RateLimitPolicy.of("per-minute", 7, Duration.ofMinutes(1)))
        .build();
    OffloadRequest request = from("203.0.113.7");
    GuardVerdict first = limit.check(request, deciding);
    assertThat(first.responseHeaders().first("RateLimit")).contains("\"per-second\";r=4;t=1");
    assertThat(first.responseHeaders().first("RateLimit-Policy"))
        .contains("\"per-second\";q=5;w=1, \"per-minute\";q=7;w=60");
    assertThat(admitted(limit, request, deciding, 9)).isEqualTo(4);

    ticker.advance(Duration.ofSeconds(1)); // per-second full again, per-minute has 2 left
    GuardVerdict next = limit.check(request, deciding);
    assertThat(next.responseHeaders().first("RateLimit")).contains("\"per-minute\";r=1;t=52");
    assertThat(limit.check(request, deciding).admitted()).isTrue();
    GuardVerdict denied = limit.check(request, deciding);
    assertThat(denied.admitted()).as("per-minute is empty though per-second is not").isFalse();
    assertThat(denialHeaders(denied).first("RateLimit")).contains("\"per-minute\";r=0;t=60");
    assertThat(denialHeaders(denied).first("Retry-After")).contains("8");
  }

  @Test
  void burstLetsAnIdleClientSpendMoreThanTheQuotaAtOnce() {
    RateLimit limit = RateLimit.builder().limit(perSecond(2).withBurst(6)).build();
    OffloadRequest request = from("203.0.113.7");
    assertThat(admitted(limit, request, deciding, 10)).isEqualTo(6);
    ticker.advance(Duration.ofSeconds(1));
    assertThat(admitted(limit, request, deciding, 10)).isEqualTo(2);
  }

  @Test
  void weightedCostTakesThatManyTokens() {
    RateLimit limit = RateLimit.builder()
        .limit(perSecond(10))
        .cost(request -> request.method().equals("POST") ? 4 : 1)
        .build();
    OffloadRequest post = OffloadRequest.post("/api/x").build();
    OffloadRequest get = OffloadRequest.get("/api/x").build();
    assertThat(admitted(limit, post, deciding, 5)).isEqualTo(2);
    assertThat(admitted(limit, get, deciding, 5)).as("2 tokens left").isEqualTo(2);
  }

  @Test
  void keysAreSeparateAndAForgedForwardedForDoesNotChangeTheClientAddress() {
    RateLimit limit = RateLimit.builder().limit(perSecond(1)).build();
    assertThat(limit.check(from("203.0.113.7"), deciding).admitted()).isTrue();
    assertThat(limit.check(from("203.0.113.8"), deciding).admitted()).isTrue();
    OffloadRequest forged = OffloadRequest.get("/api/x").clientAddress("203.0.113.7")
        .header("X-Forwarded-For", "198.51.100.1").build();
    assertThat(limit.check(forged, deciding).admitted()).isFalse();
  }

  @Test
  void headerKeyFallsBackToTheClientAddressAndCannotImpersonateIt() {
    RateLimit limit = RateLimit.builder()
        .limit(perSecond(1))
        .key(KeyResolver.header("X-Api-Key").orElse(KeyResolver.clientAddress()))
        .build();
    OffloadRequest anonymous = from("203.0.113.7");
    OffloadRequest impersonating = OffloadRequest.get("/api/x").clientAddress("198.51.100.1")
        .header("X-Api-Key", "203.0.113.7").build();
    OffloadRequest repeated = OffloadRequest.get("/api/x").clientAddress("203.0.113.7")
        .header("X-Api-Key", "a").header("X-Api-Key", "b").build();
    assertThat(limit.check(anonymous, deciding).admitted()).isTrue();
    assertThat(limit.check(impersonating, deciding).admitted())
        .as("a key equal to an address is another bucket").isTrue();
    assertThat(limit.check(repeated, deciding).admitted())
        .as("a repeated header counts against the address").isFalse();
  }

  @Test
  void attributeAndRouteKeysCombine() {
    AttributeKey<String> user = AttributeKey.of("user", String.class);
    RateLimit limit = RateLimit.builder()
        .limit(perSecond(1))
        .key(KeyResolver.attribute(user).and(KeyResolver.route("search", Route.prefix("/search"))))
        .build();
    OffloadRequest aliceSearch = OffloadRequest.get("/search/q").attribute(user, "alice").build();
    OffloadRequest bobSearch = OffloadRequest.get("/search/q").attribute(user, "bob").build();
    OffloadRequest aliceElsewhere = OffloadRequest.get("/other").attribute(user, "alice").build();
    assertThat(admitted(limit, aliceSearch, deciding, 3)).isEqualTo(1);
    assertThat(admitted(limit, bobSearch, deciding, 3)).isEqualTo(1);
    assertThat(admitted(limit, aliceElsewhere, deciding, 3)).as("no key: not limited").isEqualTo(3);
  }

  @Test
  void appliesOnlyToItsRoute() {
    RateLimit limit = RateLimit.builder()
        .limit(perSecond(1))
        .appliesTo(Route.prefix("/admin"))
        .build();
    assertThat(admitted(limit, OffloadRequest.get("/admin/users").build(), deciding, 3))
        .isEqualTo(1);
    GuardVerdict outside = limit.check(OffloadRequest.get("/public").build(), deciding);
    assertThat(outside.admitted()).isTrue();
    assertThat(outside.responseHeaders().size()).as("untouched").isZero();
  }

  @Test
  void responseHeadersOnAdmissionCanBeTurnedOff() {
    RateLimit limit = RateLimit.builder().limit(perSecond(1)).responseHeaders(false).build();
    OffloadRequest request = from("203.0.113.7");
    assertThat(limit.check(request, deciding).responseHeaders().size()).isZero();
    assertThat(denialHeaders(limit.check(request, deciding)).first("Retry-After")).contains("1");
  }

  @Test
  void shadowModeCountsButNeverEnforces() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RateLimit limit = RateLimit.builder().name("api").limit(perSecond(2)).shadow(true)
        .meterRegistry(registry).build();
    OffloadRequest request = from("203.0.113.7");
    assertThat(admitted(limit, request, deciding, 5)).isEqualTo(5);
    assertThat(registry.get("offload.guard.decisions").tags("guard", "api", "result", "admitted")
        .counter().count()).isEqualTo(2);
    assertThat(registry.get("offload.guard.decisions")
        .tags("guard", "api", "result", "shadow_limited").counter().count()).isEqualTo(3);
    assertThat(registry.get("offload.guard.decisions").tags("guard", "api", "result", "limited")
        .counter().count()).isZero();
  }

  @Test
  void countsAdmittedAndLimited() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RateLimit limit = RateLimit.builder().name("api").limit(perSecond(2))
        .meterRegistry(registry).build();
    admitted(limit, from("203.0.113.7"), deciding, 5);
    assertThat(registry.get("offload.guard.decisions").tags("guard", "api", "result", "admitted")
        .counter().count()).isEqualTo(2);
    assertThat(registry.get("offload.guard.decisions").tags("guard", "api", "result", "limited")
        .counter().count()).isEqualTo(3);
  }

  @Test
  void explainingReportsAvailabilityAndTakesNoToken() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RateLimit limit = RateLimit.builder().name("api").limit(perSecond(2))
        .meterRegistry(registry).build();
    OffloadRequest request = from("203.0.113.7");
    TestContext explaining = TestContext.explaining(ticker);
    assertThat(admitted(limit, request, explaining, 10)).isEqualTo(10);
    assertThat(limit.estimatedBuckets()).as("no bucket made while explaining").isZero();
    assertThat(admitted(limit, request, deciding, 1)).isEqualTo(1);
    assertThat(limit.check(request, explaining).admitted()).isTrue();
    assertThat(explaining.notes).containsEntry("api.available", 1L);
    assertThat(admitted(limit, request, deciding, 1)).as("the token is still there").isEqualTo(1);
    GuardVerdict wouldDeny = limit.check(request, explaining);
    assertThat(wouldDeny.rejection().orElseThrow().status()).isEqualTo(429);
    assertThat(registry.get("offload.guard.decisions").tags("guard", "api", "result", "admitted")
        .counter().count()).as("explaining counts nothing").isEqualTo(2);
    ticker.advance(Duration.ofSeconds(1));
    assertThat(admitted(limit, request, deciding, 5)).isEqualTo(2);
  }

  @Test
  void throughTheRouterA429CarriesTheFieldsAndExplainDoesNotConsume() {
    RateLimit limit = RateLimit.builder().limit(perSecond(1)).build();
    OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .guard("per-client", limit)
        .otherwise(OffloadStrategy.passThrough())
        .build();
    OffloadRequest request = from("203.0.113.7");
    Explanation explanation = router.explain(request);
    assertThat(explanation.guards()).singleElement()
        .satisfies(step -> assertThat(step.verdict()).isEqualTo("admit"));
    Decision first = router.decide(request);
    assertThat(first).isInstanceOf(Decision.PassThrough.class);
    assertThat(((Decision.PassThrough) first).handle().responseHeaders().first("RateLimit"))
        .contains("\"per-second\";r=0;t=1");
    Decision second = router.decide(request);
    assertThat(second).isInstanceOfSatisfying(Decision.Reject.class, reject -> {
      assertThat(reject.status()).isEqualTo(429);
      assertThat(reject.headers().first("Retry-After")).contains("1");
    });
  }

  @Test
  void oneInstanceRefusesASecondRoutersTicker() {
    RateLimit limit = RateLimit.builder().limit(perSecond(1)).build();
    limit.check(from("203.0.113.7"), deciding);
    assertThatThrownBy(() -> limit.check(from("203.0.113.7"),
        TestContext.deciding(new FakeTicker())))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("one RateLimit per router");
  }

  @Test
  void evictsAtTheCapCountsItAndTheEvictedKeyStartsFresh() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RateLimit limit = RateLimit.builder().name("api").limit(perSecond(1)).maxBuckets(100)
        .meterRegistry(registry).build();
    for (int i = 0; i < 10_000; i++) {
      limit.check(from("10.0." + (i / 256) + "." + (i % 256)), deciding);
    }
    assertThat(limit.estimatedBuckets()).isLessThanOrEqualTo(100);
    assertThat(limit.evictedBuckets()).isGreaterThanOrEqualTo(10_000 - 100);
    assertThat(registry.get("offload.guard.buckets.evicted").tags("guard", "api").counter()
        .count()).isEqualTo(limit.evictedBuckets());
    assertThat(limit.check(from("10.0.0.0"), deciding).admitted())
        .as("an evicted key starts with a full bucket").isTrue();
  }

  @Test
  void idleBucketsExpireOnceTheyWouldBeFullAgain() {
    RateLimit limit = RateLimit.builder()
        .limit(RateLimitPolicy.of("per-minute", 2, Duration.ofMinutes(1))).build();
    for (int i = 0; i < 50; i++) {
      limit.check(from("10.0.0." + i), deciding);
    }
    assertThat(limit.estimatedBuckets()).isEqualTo(50);
    ticker.advance(Duration.ofMinutes(1));
    limit.check(from("10.0.1.1"), deciding); // maintenance runs on the calling thread
    assertThat(limit.estimatedBuckets()).isEqualTo(1);
    assertThatThrownBy(() -> RateLimit.builder()
        .limit(RateLimitPolicy.of("per-minute", 2, Duration.ofMinutes(1)))
        .idleTimeout(Duration.ofSeconds(59)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idleTimeout must be at least PT1M")
        .hasMessageContaining("PT59S");
  }

  @ParameterizedTest(name = "{0} threads")
  @ValueSource(ints = {2, 8})
  void nThreadsOnOneKeyGetExactlyTheAllowedCount(int threads) throws Exception {
    int allowed = 1_000;
    RateLimit limit = RateLimit.builder()
        .limit(RateLimitPolicy.of("per-hour", allowed, Duration.ofHours(1))).build();
    OffloadRequest request = from("203.0.113.7");
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(pool.submit(() -> {
          start.await();
          return admitted(limit, request, deciding, 1_000);
        }));
      }
      start.countDown();
      int total = 0;
      for (Future<Integer> result : results) {
        total += result.get(30, TimeUnit.SECONDS);
      }
      assertThat(total).isEqualTo(allowed);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void builderRefusesBadSettingsNamingThem() {
    assertThatThrownBy(() -> RateLimit.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("limit(");
    assertThatThrownBy(() -> RateLimit.builder().maxBuckets(0))
        .hasMessage("maxBuckets must be at least 1, got 0");
    assertThatThrownBy(() -> RateLimit.builder().limit(perSecond(1)).limit(perSecond(2)))
        .hasMessageContaining("duplicate policy name 'per-second'");
    assertThatThrownBy(() -> RateLimitPolicy.of("x", 0, Duration.ofSeconds(1)))
        .hasMessage("quota must be at least 1, got 0");
    assertThatThrownBy(() -> RateLimitPolicy.of("x", 1, Duration.ofMillis(1500)))
        .hasMessage("window must be whole seconds, got PT1.5S");
    assertThatThrownBy(() -> RateLimitPolicy.of("x", 1, Duration.ZERO))
        .hasMessage("window must be positive, got PT0S");
    assertThatThrownBy(() -> perSecond(1_000_000_001L))
        .hasMessage("quota must be at most one token per nanosecond of the window (1000000000),"
            + " got 1000000001");
    assertThatThrownBy(() -> perSecond(5).withBurst(4))
        .hasMessage("burst must be at least the quota (5), got 4");
    assertThatThrownBy(() -> RateLimitPolicy.of("a\"b", 1, Duration.ofSeconds(1)))
        .hasMessageContaining("policy name");
  }
}
