package dev.offload.core.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.guard.KeyResolver;
import dev.offload.core.guard.RateLimit;
import dev.offload.core.guard.RateLimitPolicy;
import dev.offload.core.testing.FakeTicker;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class TrafficReplayTest {
  private static final Backend ORDERS = Backend.builder("orders")
      .instance(URI.create("http://orders-1:8080"))
      .instance(URI.create("http://orders-2:8080"))
      .build();

  /** {@code count} requests for {@code path}, one every {@code everyMillis}, from t=0 (CSV). */
  private static List<String> constant(String method, String path, int count, long everyMillis,
      long fromMillis, double durationMs) {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      lines.add((fromMillis + i * everyMillis) + "," + method + "," + path + ",200," + durationMs);
    }
    return lines;
  }

  private static ReplayReport replay(List<String> lines, Function<FakeTicker, OffloadRouter> router,
      Function<TrafficReplay.Builder, TrafficReplay.Builder> config) throws IOException {
    FakeTicker ticker = new FakeTicker();
    TrafficReplay replay = config.apply(TrafficReplay.builder(router.apply(ticker), ticker))
        .build();
    try (AccessLogReader log = AccessLogReader.of(String.join("\n", lines), LogFormat.CSV)) {
      return replay.run(log);
    }
  }

  @Test
  void aConstantRateThroughTheEdgeCacheFillsOnceAndHitsTheRest() throws IOException {
    ReplayReport report = replay(constant("GET", "/static/app.js", 100, 100, 0, 40),
        ticker -> OffloadRouter.builder().ticker(ticker)
            .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(
                EdgeCache.builder().ticker(ticker).build()))
            .build(),
        b -> b.responseHeaders(e -> Headers.of("Cache-Control", "max-age=3600",
            "Content-Type", "text/javascript")));

    assertThat(report.cacheFills()).isEqualTo(1);
    assertThat(report.cacheHits()).isEqualTo(99);
    assertThat(report.cacheHitRatio()).isEqualTo(0.99);
    assertThat(report.backend(TrafficReplay.HOST).orElseThrow().requests()).isEqualTo(1);
    assertThat(report.backend(TrafficReplay.HOST).orElseThrow().offloadRatio()).isEqualTo(0.99);
  }

  @Test
  void withoutFreshnessFromTheOriginNothingIsCachedAndEveryRequestReachesTheHost()
      throws IOException {
    ReplayReport report = replay(constant("GET", "/static/app.js", 50, 100, 0, 40),
        ticker -> OffloadRouter.builder().ticker(ticker)
            .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(
                EdgeCache.builder().ticker(ticker).build()))
            .build(),
        b -> b);

    assertThat(report.cacheHits()).isZero();
    assertThat(report.backend(TrafficReplay.HOST).orElseThrow().requests()).isEqualTo(50);
  }

  @Test
  void aSpikeMakesALoadBasedStrategyFailOverToTheReplica() throws IOException {
    Backend replica = Backend.of("replica", URI.create("http://replica:8080"));
    List<String> lines = new ArrayList<>(constant("GET", "/api/orders/1", 10, 1000, 0, 100));
    lines.addAll(constant("GET", "/api/orders/1", 20, 0, 20_000, 100)); // 20 at once
    ReplayReport report = replay(lines,
        ticker -> {
          BackendLoad primary = BackendLoad.of(ORDERS);
          BackendLoad secondary = BackendLoad.of(replica);
          return OffloadRouter.builder().ticker(ticker)
              .route(Route.prefix("/api/"), (request, context) -> primary.inFlight() >= 4
                  ? secondary.forward(context) : primary.forward(context))
              .build();
        },
        b -> b.backend(SimulatedBackend.of("orders", 2, 8, ServiceTime.fromLog(Duration.ZERO))));

    BackendReport orders = report.backend("orders").orElseThrow();
    assertThat(orders.requests()).isEqualTo(14);
    assertThat(orders.peakInFlight()).isEqualTo(4);
    assertThat(orders.requestsByInstance()).containsOnlyKeys("http://orders-1:8080",
        "http://orders-2:8080");
    assertThat(report.backend("replica").orElseThrow().requests()).isEqualTo(16);
    assertThat(report.count(Decision.Kind.FORWARD)).isEqualTo(30);
  }

  @Test
  void queueingAtTripleTheTrafficAndTheFewestInstancesThatKeepP99UnderTarget()
      throws IOException {
    List<String> lines = constant("GET", "/api/orders/1", 300, 100, 0, 100);
    Function<FakeTicker, OffloadRouter> router = ticker -> OffloadRouter.builder().ticker(ticker)
        .route(Route.prefix("/api/"), FailoverStrategy.to(ORDERS)).build();
    Function<TrafficReplay.Builder, TrafficReplay.Builder> oneSlot = b -> b
        .backend(SimulatedBackend.of("orders", 1, 1, ServiceTime.fromLog(Duration.ZERO)))
        .p99Target(Duration.ofMillis(150));

    BackendReport asLogged = replay(lines, router, oneSlot).backend("orders").orElseThrow();
    assertThat(asLogged.p99()).isBetween(Duration.ofMillis(99), Duration.ofMillis(101));
    assertThat(asLogged.meanRate()).isBetween(10.0, 10.1);
    assertThat(asLogged.capacity().instances()).isEqualTo(1);

    BackendReport tripled = replay(lines, router, b -> oneSlot.apply(b).timeScale(3))
        .backend("orders").orElseThrow();
    assertThat(tripled.meanRate()).isBetween(30.0, 30.3);
    assertThat(tripled.p99()).isGreaterThan(Duration.ofSeconds(1)); // one slot, 3x its capacity
    assertThat(tripled.peakInFlight()).isGreaterThan(100);
    assertThat(tripled.capacity().instances()).isEqualTo(3);
    assertThat(tripled.capacity().p99()).isLessThanOrEqualTo(Duration.ofMillis(150));
    assertThat(tripled.windows()).isNotEmpty();
    assertThat(tripled.windows().get(tripled.windows().size() - 1).p99())
        .isGreaterThan(tripled.windows().get(0).p99());
  }

  @Test
  void aLatencyOverTheReadTimeoutCompletesAsA504Timeout() throws IOException {
    Backend slow = Backend.builder("slow").instance(URI.create("http://slow:1"))
        .readTimeout(Duration.ofMillis(500)).build();
    ReplayReport report = replay(constant("GET", "/x", 3, 0, 0, 400),
        ticker -> OffloadRouter.builder().ticker(ticker).otherwise(FailoverStrategy.to(slow))
            .build(),
        b -> b.backend(SimulatedBackend.of("slow", 1, 1, ServiceTime.fromLog(Duration.ZERO))));

    BackendReport s = report.backend("slow").orElseThrow();
    assertThat(s.timeouts()).isEqualTo(2); // the 2nd waits 400 ms + 400 ms, the 3rd longer
    assertThat(s.p99()).isBetween(Duration.ofMillis(499), Duration.ofMillis(501));
  }

  @Test
  void countsRejectionsByStatusRateLimitsShedsAndTasksQueued() throws IOException {
    List<String> lines = new ArrayList<>(constant("GET", "/api/a", 10, 10, 0, 1));
    lines.addAll(constant("GET", "/shed", 3, 10, 200, 1));
    lines.addAll(constant("POST", "/tasks", 4, 10, 300, 1));
    lines.addAll(constant("GET", "/forbidden", 2, 10, 400, 1));
    ReplayReport report = replay(lines,
        ticker -> OffloadRouter.builder().ticker(ticker)
            .guard("rate", RateLimit.builder().key(KeyResolver.clientAddress())
                .limit(RateLimitPolicy.of("five", 5, Duration.ofSeconds(1)))
                .appliesTo(Route.prefix("/api/")).ticker(ticker).build())
            .route(Route.prefix("/api/"), OffloadStrategy.passThrough())
            .route(Route.exact("/shed"), OffloadStrategy.reject(503, "shed"))
            .route(Route.post("/tasks"), AsyncTaskStrategy.toQueue("tasks"))
            .otherwise(OffloadStrategy.reject(403, "no"))
            .build(),
        b -> b);

    assertThat(report.rateLimited()).isEqualTo(5);
    assertThat(report.shed()).isEqualTo(3);
    assertThat(report.rejectsByStatus()).containsEntry(403, 2L);
    assertThat(report.tasksQueued()).isEqualTo(4);
    assertThat(report.count(Decision.Kind.PASS_THROUGH)).isEqualTo(5);
    assertThat(report.count(Decision.Kind.REJECT)).isEqualTo(10);
    assertThat(report.requests()).isEqualTo(19);
    assertThat(report.toTable()).contains("rate-limited (429) 5").contains("shed (503) 3")
        .contains("tasks queued 4");
  }

  @Test
  void theSameLogRouterAndSeedGiveTheSameReportAndAnotherSeedAnother() throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      lines.add((i * 7L) + ",GET," + (i % 3 == 0 ? "/static/s" + (i % 5) : "/api/o/" + i)
          + ",200,");
    }
    lines.add(3, "garbage");
    Function<FakeTicker, OffloadRouter> router = ticker -> {
      BackendLoad primary = BackendLoad.of(ORDERS);
      BackendLoad replica = BackendLoad.of(Backend.of("replica", URI.create("http://r:1")));
      return OffloadRouter.builder().ticker(ticker)
          .guard("rate", RateLimit.builder().key(KeyResolver.clientAddress())
              .limit(RateLimitPolicy.of("r", 100, Duration.ofSeconds(1)))
              .appliesTo(Route.prefix("/api/")).ticker(ticker).build())
          .route(Route.get("/static/**"), CdnStrategy.edgeCache(
              EdgeCache.builder().ticker(ticker).build()))
          .route(Route.prefix("/api/"), (request, context) -> primary.inFlight() >= 6
              ? replica.forward(context) : primary.forward(context))
          .build();
    };
    Function<Long, Function<TrafficReplay.Builder, TrafficReplay.Builder>> seeded = seed -> b -> b
        .seed(seed)
        .timeScale(2)
        .backend(SimulatedBackend.of("orders", 1, 4, ServiceTime.exponential(Duration.ofMillis(30))))
        .responseHeaders(e -> Headers.of("Cache-Control", "max-age=1"));

    ReplayReport first = replay(lines, router, seeded.apply(42L));
    ReplayReport second = replay(lines, router, seeded.apply(42L));
    ReplayReport otherSeed = replay(lines, router, seeded.apply(43L));

    assertThat(second).isEqualTo(first);
    assertThat(second.toTable()).isEqualTo(first.toTable());
    assertThat(otherSeed).isNotEqualTo(first);
    assertThat(first.malformed()).containsExactly(
        new MalformedLine(4, "expected 5 fields (timestamp,method,path,status,duration_ms), got 1"));
    assertThat(first.cacheHits()).isPositive();
    assertThat(first.rateLimited()).isPositive();
    assertThat(first.backend("replica").orElseThrow().requests()).isPositive();
  }

  @Test
  void anEntryTheRequestFactoryRefusesIsAMalformedLine() throws IOException {
    ReplayReport report = replay(List.of("0,GET,/ok,200,1", "1,GET,no-slash,200,1",
            "2,GET,/also,200,1"),
        ticker -> OffloadRouter.builder().ticker(ticker)
            .otherwise(OffloadStrategy.passThrough()).build(),
        b -> b.requests(e -> {
          if (!e.target().startsWith("/")) {
            throw new IllegalArgumentException("target must start with '/': " + e.target());
          }
          return OffloadRequest.builder(e.method(), e.target()).build();
        }));

    assertThat(report.requests()).isEqualTo(2);
    assertThat(report.malformed()).singleElement()
        .satisfies(m -> assertThat(m.lineNumber()).isEqualTo(2))
        .satisfies(m -> assertThat(m.reason()).contains("no-slash"));
  }

  @Test
  void badConfigurationIsRefusedNamingTheValue() {
    TrafficReplay.Builder b = TrafficReplay.builder(
        OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build(),
        new FakeTicker());
    assertThatThrownBy(() -> b.timeScale(0)).hasMessageContaining("timeScale").hasMessageContaining("0");
    assertThatThrownBy(() -> b.timeScale(Double.NaN)).hasMessageContaining("NaN");
    assertThatThrownBy(() -> SimulatedBackend.of("x", 0, 1, ServiceTime.fixed(Duration.ZERO)))
        .hasMessageContaining("instances of simulated backend x").hasMessageContaining("0");
    assertThatThrownBy(() -> b.backend(SimulatedBackend.of(TrafficReplay.HOST, 1, 1,
        ServiceTime.fixed(Duration.ZERO)))).hasMessageContaining("host(...)");
    assertThatThrownBy(() -> b.p99Target(Duration.ZERO)).hasMessageContaining("p99Target");
  }
}
