package dev.offload.core.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.Explanation;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.testing.FakeTicker;
import dev.offload.core.testing.LoadFeeder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class FailoverTest {
  private static final URI A = URI.create("http://127.0.0.1:8081");
  private static final URI B = URI.create("http://127.0.0.1:8082");
  private static final URI C = URI.create("http://127.0.0.1:8083");

  private final FakeTicker ticker = new FakeTicker();
  private final Backend orders = Backend.builder("orders").instance(A).instance(B).build();
  private final Backend replica = Backend.builder("orders-replica").instance(C).build();
  private final LoadFeeder primaryFeed = LoadFeeder.of(orders, ticker);
  private final LoadFeeder replicaFeed = LoadFeeder.of(replica, ticker);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private OffloadRouter router(FailoverStrategy strategy) {
    return OffloadRouter.builder().ticker(ticker)
        .route("orders", Route.prefix("/api/orders"), strategy).build();
  }

  private Failover failover(Load when) {
    return FailoverStrategy.primary(orders).alternative(replica).when(when)
        .meterRegistry(registry);
  }

  private static OffloadRequest get() {
    return OffloadRequest.get("/api/orders/1").build();
  }

  private static OffloadRequest post() {
    return OffloadRequest.post("/api/orders").build();
  }

  @Test
  void failsOverToReplicaWhenPrimaryInFlightExceedsLimit() {
    OffloadRouter router = router(failover(Load.inFlightAbove(3)));
    assertThat(LoadFeeder.nextInstance(router, get())).isIn(A, B);

    primaryFeed.instance(0).inFlight(2);
    primaryFeed.instance(1).inFlight(2);
    assertThat(LoadFeeder.nextInstance(router, get())).isEqualTo(C);
    assertThat(registry.get("offload.failover.switches").tag("to", "alternative").counter()
        .count()).isEqualTo(1);
  }

  @Test
  void failsOverWhenPrimaryP99ExceedsLimitAndExplainShowsTheFiguresAndTheCondition() {
    Failover strategy = failover(
        Load.inFlightAbove(200).or(Load.p99Above(Duration.ofMillis(250))));
    OffloadRouter router = router(strategy);
    primaryFeed.instance(0).succeeded(20, Duration.ofMillis(400));

    Explanation e = router.explain(get());
    assertThat(e.inputs())
        .containsEntry("failover.fired", "p99Above(250ms)")
        .containsEntry("failover.target", "orders-replica")
        .containsEntry("primary.orders.p99", Duration.ofMillis(400).toString())
        .containsEntry("primary.orders.inFlight", "0");
    assertThat(strategy.onAlternative()).as("explain does not switch").isFalse();

    assertThat(LoadFeeder.nextInstance(router, get())).isEqualTo(C);
    assertThat(strategy.onAlternative()).isTrue();
  }

  @Test
  void staysOnThePrimaryWhileItsP99IsBelowTheLimit() {
    OffloadRouter router = router(failover(Load.p99Above(Duration.ofMillis(250))));
    primaryFeed.instance(0).succeeded(20, Duration.ofMillis(100));
    primaryFeed.instance(1).succeeded(20, Duration.ofMillis(100));
    assertThat(LoadFeeder.nextInstance(router, get())).isIn(A, B);
  }

  @Test
  void failsOverWhenPrimaryErrorRateExceedsLimit() {
    OffloadRouter router = router(failover(Load.errorRateAbove(0.2)));
    primaryFeed.instance(0).succeeded(8, Duration.ofMillis(5)).answered(1, 500, Duration.ZERO)
        .succeeded(1, Duration.ofMillis(5));
    assertThat(LoadFeeder.nextInstance(router, get())).as("10% errors").isIn(A, B);
    primaryFeed.instance(1).answered(2, 500, Duration.ZERO).succeeded(1, Duration.ofMillis(5))
        .answered(1, 502, Duration.ZERO);
    assertThat(LoadFeeder.nextInstance(router, get())).as("4 of 14 failed").isEqualTo(C);
  }

  @Test
  void failsOverWhenInFlightReachesTheAdaptiveConcurrencyLimit() {
    Load adaptive = Load.adaptiveLimit();
    OffloadRouter router = router(failover(adaptive));
    primaryFeed.instance(0).inFlight(5);
    assertThat(LoadFeeder.nextInstance(router, get())).as("below the initial limit").isIn(A, B);
    int limit = ((AdaptiveLimit) adaptive).currentLimit(BackendLoad.of(orders));
    assertThat(limit).isPositive();
    primaryFeed.instance(0).inFlight(limit);
    assertThat(LoadFeeder.nextInstance(router, get())).isEqualTo(C);
    assertThat(router.explain(get()).inputs())
        .containsEntry("failover.fired", "adaptiveLimit(gradient2)");
  }

  @Test
  void theAdaptiveLimitLearnsFromCompletionsOnTheRoutersTicker() {
    AdaptiveLimit adaptive = (AdaptiveLimit) Load.adaptiveLimitVegas();
    BackendLoad load = BackendLoad.of(orders);
    int initial = adaptive.currentLimit(load);
    primaryFeed.instance(0).inFlight(initial);
    for (int i = 0; i < 200; i++) {
      ticker.advance(Duration.ofMillis(10));
      primaryFeed.instance(1).succeeded(1, Duration.ofMillis(5));
    }
    assertThat(adaptive.currentLimit(load)).as("fast answers at the limit: it grows")
        .isGreaterThan(initial);
  }

  @Test
  void returnsToThePrimaryOnlyAfterItStayedBelowTheConditionForTheHysteresis() {
    Failover strategy = failover(Load.inFlightAbove(1)).hysteresis(Duration.ofSeconds(5));
    OffloadRouter router = router(strategy);
    primaryFeed.instance(0).inFlight(2);
    assertThat(LoadFeeder.nextInstance(router, get())).isEqualTo(C);

    primaryFeed.instance(0).inFlight(0);
    ticker.advance(Duration.ofSeconds(4));
    assertThat(LoadFeeder.nextInstance(router, get())).as("within the hysteresis").isEqualTo(C);
    primaryFeed.instance(0).inFlight(2);
    assertThat(LoadFeeder.nextInstance(router, get())).isEqualTo(C);
    primaryFeed.instance(0).inFlight(0);
    ticker.advance(Duration.ofSeconds(4));
    assertThat(LoadFeeder.nextInstance(router, get()))
        .as("the clock restarted when the condition fired again").isEqualTo(C);
    ticker.advance(Duration.ofSeconds(1));
    assertThat(LoadFeeder.nextInstance(router, get())).isIn(A, B);
    assertThat(strategy.onAlternative()).isFalse();
    assertThat(registry.get("offload.failover.switches").tag("to", "primary").counter().count())
        .isEqualTo(1);
  }

  @Test
  void readsOnlySendsUnsafeMethodsToThePrimaryAlways() {
    OffloadRouter router = router(failover(Load.inFlightAbove(0)).readsOnly());
    primaryFeed.instance(0).inFlight(1);
    assertThat(LoadFeeder.nextInstance(router, get())).isEqualTo(C);
    assertThat(LoadFeeder.nextInstance(router, OffloadRequest.head("/api/orders").build()))
        .isEqualTo(C);
    assertThat(LoadFeeder.nextInstance(router, post())).isIn(A, B);
    assertThat(LoadFeeder.nextInstance(router,
        OffloadRequest.builder("DELETE", "/api/orders/1").build())).isIn(A, B);
    assertThat(router.explain(post()).inputs())
        .containsEntry("failover.readsOnly", "POST stays on the primary");
  }

  @Test
  void withinTheHysteresisRequestsSpillBackToThePrimaryWhileTheAlternativeIsOverTheCondition() {
    Failover strategy = failover(Load.inFlightAbove(1)).hysteresis(Duration.ofSeconds(5));
    OffloadRouter router = router(strategy);
    primaryFeed.instance(0).inFlight(2);
    assertThat(LoadFeeder.nextInstance(router, get())).isEqualTo(C);

    // the primary has room again, the alternative is now the busy one: use the primary
    primaryFeed.instance(0).inFlight(0);
    replicaFeed.instance(0).inFlight(2);
    assertThat(LoadFeeder.nextInstance(router, get())).isIn(A, B);
    assertThat(strategy.onAlternative()).as("still switched over: no flapping").isTrue();
    // the alternative has room again: within the hysteresis it gets the traffic
    replicaFeed.instance(0).inFlight(0);
    assertThat(LoadFeeder.nextInstance(router, get())).isEqualTo(C);
    assertThat(registry.get("offload.failover.switches").tag("to", "primary").counter().count())
        .isZero();
  }

  @Test
  void shedsTheLowestPriorityAtOnceWhenEveryTargetIsSaturatedAndRaisesTheLevelOverTime() {
    Failover strategy = failover(Load.inFlightAbove(0)).shedWhenSaturated(Priority.by(
        request -> request.path().startsWith("/api/orders/checkout") ? Priority.HIGHEST
            : request.path().startsWith("/api/orders/report") ? Priority.LOWEST
            : Priority.NORMAL));
    OffloadRouter router = router(strategy);
    OffloadRequest report = OffloadRequest.get("/api/orders/report").build();
    OffloadRequest list = OffloadRequest.get("/api/orders/list").build();
    OffloadRequest checkout = OffloadRequest.get("/api/orders/checkout").build();
    primaryFeed.instance(0).inFlight(1);
    assertThat(LoadFeeder.nextInstance(router, report)).as("the replica is free").isEqualTo(C);

    replicaFeed.instance(0).inFlight(1);
    Decision shed = LoadFeeder.next(router, report);
    assertThat(shed).isInstanceOf(Decision.Reject.class);
    assertThat(((Decision.Reject) shed).status()).isEqualTo(503);
    assertThat(((Decision.Reject) shed).headers().first("Retry-After")).contains("1");
    assertThat(LoadFeeder.nextInstance(router, list)).as("normal priority not shed yet")
        .isEqualTo(C);
    for (int i = 0; i < 5; i++) {
      ticker.advance(Duration.ofSeconds(1));
      LoadFeeder.next(router, checkout);
    }
    assertThat(strategy.shedLevel()).isEqualTo(6);
    assertThat(LoadFeeder.next(router, list)).isInstanceOf(Decision.Reject.class);
    for (int i = 0; i < 10; i++) {
      ticker.advance(Duration.ofSeconds(1));
      assertThat(LoadFeeder.nextInstance(router, checkout)).as("the highest is never shed")
          .isEqualTo(C);
    }
    assertThat(registry.get("offload.shed").tag("priority", "0").counter().count()).isEqualTo(1);
    assertThat(registry.get("offload.shed").tag("priority", "5").counter().count()).isEqualTo(1);

    replicaFeed.instance(0).inFlight(0);
    primaryFeed.instance(0).inFlight(0);
    for (int i = 0; i < 9; i++) {
      ticker.advance(Duration.ofSeconds(1));
      LoadFeeder.next(router, checkout);
    }
    assertThat(strategy.shedLevel()).as("falls one step a second without saturation").isZero();
  }

  @Test
  void withoutAnAlternativeThePrimaryOverItsConditionIsSaturated() {
    OffloadRouter router = router(FailoverStrategy.primary(orders).when(Load.inFlightAbove(0))
        .shedWhenSaturated(Priority.by(request -> Priority.LOWEST)));
    assertThat(LoadFeeder.nextInstance(router, get())).isIn(A, B);
    primaryFeed.instance(1).inFlight(1);
    assertThat(LoadFeeder.next(router, get())).isInstanceOf(Decision.Reject.class);
  }

  @Test
  void aPriorityOutOfRangeIsNamed() {
    Priority bad = Priority.by(request -> 12);
    assertThatThrownBy(() -> bad.of(get())).hasMessageContaining("got 12");
  }

  @Test
  void explainDoesNotMoveTheShedLevel() {
    Failover strategy = failover(Load.inFlightAbove(0))
        .shedWhenSaturated(Priority.by(request -> Priority.LOWEST));
    OffloadRouter router = router(strategy);
    primaryFeed.instance(0).inFlight(1);
    replicaFeed.instance(0).inFlight(1);
    Explanation e = router.explain(get());
    assertThat(e.inputs()).containsEntry("shed.level", "1").containsEntry("shed.priority", "0");
    assertThat(strategy.shedLevel()).isZero();
  }

  @Test
  void theAlternativeMustDifferFromThePrimary() {
    assertThatThrownBy(() -> FailoverStrategy.primary(orders).alternative(orders))
        .hasMessageContaining("orders");
    assertThatThrownBy(() -> FailoverStrategy.primary(orders).hysteresis(Duration.ofSeconds(-1)))
        .hasMessageContaining("PT-1S");
    assertThatThrownBy(() -> FailoverStrategy.primary(orders).panicThreshold(1.5))
        .hasMessageContaining("1.5");
  }

  @Test
  void describesItselfLikeTheCodeThatBuiltIt() {
    assertThat(failover(Load.inFlightAbove(200)).readsOnly().describe()).isEqualTo(
        "FailoverStrategy.primary(orders).alternative(orders-replica)"
            + ".when(inFlightAbove(200)).readsOnly()");
  }
}
