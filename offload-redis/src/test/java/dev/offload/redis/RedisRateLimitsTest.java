package dev.offload.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.guard.KeyResolver;
import dev.offload.core.guard.RateLimit;
import dev.offload.core.guard.RateLimitPolicy;
import dev.offload.core.testing.FakeTicker;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/** Three gateway instances (three routers, three connections) sharing one real Redis. */
class RedisRateLimitsTest {
  private static final int ADMITTED = 418; // the route's answer when the guard lets a request by

  private final FakeTicker ticker = new FakeTicker();
  /** The fleet's wall clock, fixed unless a test moves it: no refill happens by itself. */
  private final FakeTicker wallClock = new FakeTicker().advance(Duration.ofDays(20_000));
  private final List<AutoCloseable> closing = new ArrayList<>();
  private RedisServer redis;
  private RedisClient client;

  @BeforeEach
  void startRedis() {
    redis = RedisServer.start();
    client = RedisClient.create(redis.uri());
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    client.shutdown();
    redis.close();
  }

  private RedisRateLimits.Builder shared() {
    return RedisRateLimits.builder(client).clock(wallClock);
  }

  private RedisRateLimits open(RedisRateLimits.Builder builder) {
    RedisRateLimits limits = builder.build();
    closing.add(limits);
    return limits;
  }

  private OffloadRouter router(RedisRateLimits buckets, long perMinute) {
    RateLimit limit = RateLimit.builder()
        .name("per-client")
        .key(KeyResolver.header("X-Api-Key"))
        .limit(RateLimitPolicy.of("per-minute", perMinute, Duration.ofMinutes(1)))
        .buckets(buckets)
        .build();
    return OffloadRouter.builder()
        .ticker(ticker)
        .guard("per-client", limit)
        .route("api", Route.prefix("/api/"), OffloadStrategy.reject(ADMITTED, "admitted"))
        .build();
  }

  /** Three instances' batched buckets (5 unsynced tokens, synchronised at least once a minute). */
  private List<RedisRateLimits> batchedFleet() {
    List<RedisRateLimits> shared = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      shared.add(open(shared().batched(5, Duration.ofMinutes(1))));
    }
    return shared;
  }

  /**
   * Sends {@code count} requests for {@code apiKey} at once from 12 threads, spread over the
   * fleet's instances in turn, and returns their statuses.
   */
  private static List<Integer> atOnce(List<OffloadRouter> fleet, int count, String apiKey)
      throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(12);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Integer>> answers = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        OffloadRouter instance = fleet.get(i % fleet.size());
        answers.add(threads.submit(() -> {
          go.await();
          return status(instance.decide(request(apiKey)));
        }));
      }
      go.countDown();
      List<Integer> statuses = new ArrayList<>();
      for (Future<Integer> answer : answers) {
        statuses.add(answer.get(30, TimeUnit.SECONDS));
      }
      return statuses;
    } finally {
      threads.shutdownNow();
    }
  }

  private static OffloadRequest request(String apiKey) {
    return OffloadRequest.get("/api/orders").header("X-Api-Key", apiKey).build();
  }

  private static int status(Decision decision) {
    return ((Decision.Reject) decision).status();
  }

  @Test
  void aGlobalLimitHoldsAcrossThreeInstancesExactlyUnderConcurrency() throws Exception {
    List<OffloadRouter> fleet = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      fleet.add(router(open(shared().exact(Duration.ofSeconds(5))), 20));
    }
    List<Integer> statuses = atOnce(fleet, 90, "key-1");
    assertThat(statuses.stream().filter(st -> st == ADMITTED)).hasSize(20);
    assertThat(statuses.stream().filter(st -> st == 429)).hasSize(70);
    assertThat(status(fleet.get(0).decide(request("key-2"))))
        .as("another key has its own bucket").isEqualTo(ADMITTED);
  }

  @Test
  void exactModeRefillsOnTheSharedClockAndIsNamedInExplain() {
    OffloadRouter a = router(open(shared().exact(Duration.ofSeconds(5))), 60);
    OffloadRouter b = router(open(shared().exact(Duration.ofSeconds(5))), 60);
    for (int i = 0; i < 60; i++) {
      assertThat(status((i % 2 == 0 ? a : b).decide(request("k")))).isEqualTo(ADMITTED);
    }
    Decision.Reject limited = (Decision.Reject) b.decide(request("k"));
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.headers().first("Retry-After")).contains("1");
    wallClock.advance(Duration.ofSeconds(1)); // one token back, for the whole fleet
    assertThat(status(a.decide(request("k")))).isEqualTo(ADMITTED);
    assertThat(status(b.decide(request("k")))).isEqualTo(429);
    assertThat(a.explain(request("k")).toString()).contains("redis, exact (waits up to 5000ms)");
  }

  @Test
  void batchedModeNeverWaitsAndStaysWithinItsDocumentedBound() throws Exception {
    List<RedisRateLimits> shared = batchedFleet();
    List<OffloadRouter> fleet = shared.stream().map(limits -> router(limits, 20)).toList();
    int admitted = 0;
    for (int i = 0; i < 90; i++) {
      if (status(fleet.get(i % 3).decide(request("hot"))) == ADMITTED) {
        admitted++;
      }
      shared.get(i % 3).synced().get(5, TimeUnit.SECONDS); // requests one round-trip apart
    }
    // at most 5 unsynced tokens per instance beyond the 20 in Redis
    assertThat(admitted).isBetween(20, 20 + 3 * 5);
    for (OffloadRouter instance : fleet) {
      assertThat(status(instance.decide(request("hot")))).isEqualTo(429);
    }
  }

  @Test
  void aConcurrentBurstOnAColdKeyStaysWithinTheCreditOfEachInstance() throws Exception {
    List<RedisRateLimits> shared = batchedFleet();
    List<OffloadRouter> fleet = shared.stream().map(limits -> router(limits, 20)).toList();
    int admitted = (int) atOnce(fleet, 300, "burst").stream().filter(st -> st == ADMITTED).count();
    // then one request at a time, one round-trip apart, until the limit shows everywhere
    for (int i = 0; i < 60; i++) {
      for (RedisRateLimits limits : shared) {
        limits.synced().get(5, TimeUnit.SECONDS);
      }
      admitted += status(fleet.get(i % 3).decide(request("burst"))) == ADMITTED ? 1 : 0;
    }
    // 20 in Redis, plus per instance at most 5 batched locally and 5 on credit: never 300, nor
    // 3 x 20; and what the burst left (refused beyond the credit) is taken afterwards
    assertThat(admitted).isBetween(20, 20 + 3 * (5 + 5));
    for (RedisRateLimits limits : shared) {
      limits.synced().get(5, TimeUnit.SECONDS);
    }
    for (OffloadRouter instance : fleet) {
      assertThat(status(instance.decide(request("burst")))).isEqualTo(429);
    }
  }

  @Test
  void aKeyLivesInOneClusterSlotAndALongKeyIsHashed() {
    assertThat(new String(RedisRateLimits.redisKey("per-client", "alice"), StandardCharsets.UTF_8))
        .isEqualTo("offload:rl:{per-client:alice}");
    String hostile = "x".repeat(10_000);
    assertThat(new String(RedisRateLimits.redisKey("g", hostile), StandardCharsets.UTF_8))
        .startsWith("offload:rl:{g:sha256:").hasSizeLessThan(100);
  }

  @Test
  void whenRedisIsAwayEachFallbackDecidesAndTheLimitResumesWhenItIsBack() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter local = router(open(shared().exact(Duration.ofSeconds(5))
        .commandTimeout(Duration.ofMillis(200)).meterRegistry(registry)), 3);
    OffloadRouter closed = router(open(shared().exact(Duration.ofSeconds(5))
        .commandTimeout(Duration.ofMillis(200))
        .fallback(RedisRateLimits.Fallback.FAIL_CLOSED)), 3);
    OffloadRouter open = router(open(shared().exact(Duration.ofSeconds(5))
        .commandTimeout(Duration.ofMillis(200))
        .fallback(RedisRateLimits.Fallback.FAIL_OPEN)), 3);
    assertThat(status(local.decide(request("k")))).isEqualTo(ADMITTED);

    redis.kill();
    // the local fallback: this instance's own buckets, the same policy (3 per minute)
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      statuses.add(status(local.decide(request("k"))));
    }
    assertThat(statuses).containsExactly(ADMITTED, ADMITTED, ADMITTED, 429);
    Decision.Reject refused = (Decision.Reject) closed.decide(request("k"));
    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.reason()).isEqualTo("rate limiter unavailable");
    for (int i = 0; i < 5; i++) {
      assertThat(status(open.decide(request("k")))).isEqualTo(ADMITTED);
    }
    assertThat(registry.get("offload.redis.fallbacks").tag("mode", "local").counter().count())
        .isEqualTo(4);
    double failed = registry.find("offload.redis.commands").tag("operation", "ratelimit.consume")
        .counters().stream().filter(c -> !"success".equals(c.getId().getTag("outcome")))
        .mapToDouble(c -> c.count()).sum();
    assertThat(failed).as("commands that timed out or failed").isGreaterThanOrEqualTo(1);

    CountDownLatch reconnected = new CountDownLatch(3); // the three instances' connections
    Disposable watching = client.getResources().eventBus().get()
        .filter(event -> event instanceof ConnectionActivatedEvent)
        .subscribe(event -> reconnected.countDown());
    try {
      redis.restart(); // an empty Redis (no persistence here): full buckets again
      assertThat(reconnected.await(60, TimeUnit.SECONDS)).as("Lettuce reconnected").isTrue();
    } finally {
      watching.dispose();
    }
    ticker.advance(RedisRateLimits.DEFAULT_RETRY_INTERVAL);
    for (int i = 0; i < 3; i++) {
      assertThat(status(local.decide(request("k2")))).isEqualTo(ADMITTED);
    }
    assertThat(status(local.decide(request("k2")))).isEqualTo(429);
    assertThat(registry.get("offload.redis.fallbacks").tag("mode", "local").counter().count())
        .as("decided on Redis again, not by the fallback").isEqualTo(4);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      assertThat(c.sync().keys("*")).containsExactly("offload:rl:{per-client:header:x-api-key:k2}");
    }
  }

  @Test
  void badSettingsAreRefusedByName() {
    assertThatThrownBy(() -> RedisRateLimits.builder(client).batched(-1, Duration.ofSeconds(1)))
        .hasMessageContaining("maxUnsyncedTokens").hasMessageContaining("-1");
    assertThatThrownBy(() -> RedisRateLimits.builder(client).exact(Duration.ZERO))
        .hasMessageContaining("timeout");
  }
}
