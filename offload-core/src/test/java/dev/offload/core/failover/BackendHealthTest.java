package dev.offload.core.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.FailureKind;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Outcome;
import dev.offload.core.Route;
import dev.offload.core.testing.FakeTicker;
import dev.offload.core.testing.LoadFeeder;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BackendHealthTest {
  private static final URI A = URI.create("http://127.0.0.1:8081");
  private static final URI B = URI.create("http://127.0.0.1:8082");
  private static final URI C = URI.create("http://127.0.0.1:8083");

  private final FakeTicker ticker = new FakeTicker();
  private final Backend orders = Backend.builder("orders").instance(A).instance(B).build();
  private final Backend replica = Backend.builder("orders-replica").instance(C).build();
  private final LoadFeeder feed = LoadFeeder.of(orders, ticker);
  private final OutlierDetection noJitter = OutlierDetection.builder()
      .baseEjectionTime(Duration.ofSeconds(30))
      .maxEjectionPercent(50)
      .jitter(Duration.ZERO, () -> 0)
      .build();

  private OffloadRouter router(FailoverStrategy strategy) {
    return OffloadRouter.builder().ticker(ticker)
        .route("orders", Route.prefix("/api/orders"), strategy).build();
  }

  private static OffloadRequest get() {
    return OffloadRequest.get("/api/orders/1").build();
  }

  private List<URI> next(OffloadRouter router, int count) {
    List<URI> chosen = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      chosen.add(LoadFeeder.nextInstance(router, get()));
    }
    return chosen;
  }

  @Test
  void fiveConsecutive5xxEjectAnInstanceForTheBaseTimeThenItReturnsByItself() {
    BackendLoad.of(orders).outlierDetection(noJitter);
    OffloadRouter router = router(FailoverStrategy.primary(orders));
    feed.instance(0).answered(4, 503, Duration.ofMillis(1));
    assertThat(BackendLoad.of(orders).instance(0).ejected(ticker.read())).isFalse();
    feed.instance(0).answered(1, 500, Duration.ofMillis(1));
    assertThat(BackendLoad.of(orders).instance(0).ejected(ticker.read())).isTrue();
    assertThat(next(router, 6)).containsOnly(B);

    ticker.advance(Duration.ofSeconds(30).minusNanos(1));
    assertThat(next(router, 4)).containsOnly(B);
    ticker.advance(Duration.ofNanos(1));
    assertThat(next(router, 20)).contains(A, B);
    assertThat(BackendLoad.of(orders).ejections()).isEqualTo(1);
  }

  @Test
  void aSuccessBreaksTheRunOfFailures() {
    BackendLoad.of(orders).outlierDetection(noJitter);
    feed.instance(0).answered(4, 503, Duration.ZERO).succeeded(1, Duration.ZERO)
        .answered(4, 503, Duration.ZERO);
    assertThat(BackendLoad.of(orders).instance(0).ejected(ticker.read())).isFalse();
  }

  @Test
  void theSecondEjectionLastsTwiceTheBaseAndEjectionsAreCappedAtTheMaximum() {
    BackendLoad.of(orders).outlierDetection(OutlierDetection.builder()
        .baseEjectionTime(Duration.ofSeconds(30)).maxEjectionTime(Duration.ofSeconds(45))
        .maxEjectionPercent(50).jitter(Duration.ZERO, () -> 0).build());
    InstanceLoad a = BackendLoad.of(orders).instance(0);
    feed.instance(0).answered(5, 503, Duration.ZERO);
    ticker.advance(Duration.ofSeconds(30));
    assertThat(a.ejected(ticker.read())).isFalse();
    feed.instance(0).answered(5, 503, Duration.ZERO);
    ticker.advance(Duration.ofSeconds(44));
    assertThat(a.ejected(ticker.read())).as("capped at 45 s, not 60").isTrue();
    ticker.advance(Duration.ofSeconds(1));
    assertThat(a.ejected(ticker.read())).isFalse();
    assertThat(a.timesEjected()).isEqualTo(2);
  }

  @Test
  void jitterFromTheInjectedSourceLengthensTheEjection() {
    BackendLoad.of(orders).outlierDetection(OutlierDetection.builder()
        .maxEjectionPercent(50).jitter(Duration.ofSeconds(10), () -> 0.5).build());
    feed.instance(0).answered(5, 503, Duration.ZERO);
    ticker.advance(Duration.ofSeconds(34));
    assertThat(BackendLoad.of(orders).instance(0).ejected(ticker.read())).isTrue();
    ticker.advance(Duration.ofSeconds(1));
    assertThat(BackendLoad.of(orders).instance(0).ejected(ticker.read())).isFalse();
  }

  @Test
  void consecutiveGatewayFailuresEjectWithTheirOwnThreshold() {
    BackendLoad.of(orders).outlierDetection(OutlierDetection.builder()
        .consecutive5xx(100).consecutiveGatewayFailures(3).maxEjectionPercent(50).build());
    feed.instance(1).failed(2, FailureKind.CONNECT_REFUSED).answered(1, 500, Duration.ZERO);
    assertThat(BackendLoad.of(orders).instance(1).ejected(ticker.read()))
        .as("a 500 is not a gateway failure").isFalse();
    feed.instance(1).failed(2, FailureKind.READ_TIMEOUT).answered(1, 504, Duration.ZERO);
    assertThat(BackendLoad.of(orders).instance(1).ejected(ticker.read())).isTrue();
  }

  @Test
  void aFailurePercentageOverTheWindowEjects() {
    BackendLoad.of(orders).outlierDetection(OutlierDetection.builder()
        .consecutive5xx(100).consecutiveGatewayFailures(100).failurePercentage(50, 20)
        .maxEjectionPercent(50).build());
    BackendLoad.of(orders).circuitBreaker(CircuitBreakerConfig.disabled());
    for (int i = 0; i < 9; i++) {
      feed.instance(0).succeeded(1, Duration.ZERO).answered(1, 500, Duration.ZERO);
    }
    feed.instance(0).succeeded(1, Duration.ZERO);
    assertThat(BackendLoad.of(orders).instance(0).ejected(ticker.read()))
        .as("19 completions, below the minimum").isFalse();
    feed.instance(0).answered(1, 500, Duration.ZERO);
    assertThat(BackendLoad.of(orders).instance(0).ejected(ticker.read())).isTrue();
  }

  @Test
  void atMostTheMaximumShareIsEjectedButAlwaysOne() {
    BackendLoad.of(orders).outlierDetection(OutlierDetection.builder().maxEjectionPercent(10)
        .build());
    feed.instance(0).answered(5, 503, Duration.ZERO);
    feed.instance(1).answered(5, 503, Duration.ZERO);
    assertThat(BackendLoad.of(orders).ejectedCount(ticker.read())).isEqualTo(1);
  }

  @Test
  void panicModeSpreadsOverAllInstancesWhenTooFewAreHealthyAndThereIsNoAlternative() {
    BackendLoad.of(orders).outlierDetection(OutlierDetection.builder().maxEjectionPercent(100)
        .build());
    BackendLoad.of(orders).circuitBreaker(CircuitBreakerConfig.disabled());
    OffloadRouter router = router(FailoverStrategy.primary(orders).panicThreshold(0.6));
    feed.instance(0).answered(5, 503, Duration.ZERO);
    assertThat(next(router, 20)).as("1 of 2 healthy is below 0.6: panic").contains(A, B);
    assertThat(router.explain(get()).inputs()).containsEntry("failover.panic", "orders");
  }

  @Test
  void anUnhealthyPrimaryFailsOverToTheAlternative() {
    BackendLoad.of(orders).outlierDetection(OutlierDetection.builder().maxEjectionPercent(100)
        .build());
    BackendLoad.of(orders).circuitBreaker(CircuitBreakerConfig.disabled());
    OffloadRouter router = router(FailoverStrategy.primary(orders).alternative(replica));
    feed.instance(0).answered(5, 503, Duration.ZERO);
    feed.instance(1).failed(5, FailureKind.CONNECT_REFUSED);
    assertThat(next(router, 3)).containsOnly(C);
    assertThat(router.explain(get()).inputs())
        .containsEntry("failover.fired", "unhealthy: 2 of 2 ejected");
  }

  @Test
  void theCircuitOpensOnTheFailureRateThenLetsABoundedNumberOfProbesThroughAndCloses() {
    BackendLoad load = BackendLoad.of(orders).outlierDetection(OutlierDetection.disabled())
        .circuitBreaker(CircuitBreakerConfig.builder().failureRate(0.5, 10)
            .openDuration(Duration.ofSeconds(5)).halfOpenProbes(2).build());
    OffloadRouter router = router(FailoverStrategy.primary(orders));
    feed.instance(0).succeeded(5, Duration.ZERO).answered(4, 500, Duration.ZERO);
    assertThat(load.circuitState(ticker.read())).isEqualTo(CircuitState.CLOSED);
    feed.instance(1).answered(1, 500, Duration.ZERO);
    assertThat(load.circuitState(ticker.read())).isEqualTo(CircuitState.OPEN);
    Decision open = LoadFeeder.next(router, get());
    assertThat(open).isInstanceOf(Decision.Reject.class);
    assertThat(((Decision.Reject) open).reason()).contains("circuit open");

    ticker.advance(Duration.ofSeconds(5));
    assertThat(load.circuitState(ticker.read())).isEqualTo(CircuitState.HALF_OPEN);
    assertThat(router.explain(get()).decision()).isInstanceOf(Decision.Forward.class);
    Decision.Forward probe1 = (Decision.Forward) router.decide(get());
    Decision.Forward probe2 = (Decision.Forward) router.decide(get());
    assertThat(router.decide(get())).as("only two probes").isInstanceOf(Decision.Reject.class);
    probe1.handle().onSuccess();
    assertThat(load.circuitState(ticker.read())).isEqualTo(CircuitState.HALF_OPEN);
    probe2.handle().onSuccess();
    assertThat(load.circuitState(ticker.read())).isEqualTo(CircuitState.CLOSED);
    assertThat(next(router, 3)).hasSize(3);
  }

  @Test
  void aBackendSheddingLoadWith503DoesNotOpenTheCircuit() {
    BackendLoad load = BackendLoad.of(orders).outlierDetection(OutlierDetection.disabled())
        .circuitBreaker(CircuitBreakerConfig.builder().failureRate(0.5, 10).build());
    OffloadRouter router = router(FailoverStrategy.primary(orders));
    feed.instance(0).succeeded(5, Duration.ZERO).answered(20, 503, Duration.ZERO);

    assertThat(load.circuitState(ticker.read())).isEqualTo(CircuitState.CLOSED);
    assertThat(LoadFeeder.next(router, get())).isInstanceOf(Decision.Forward.class);
    assertThat(load.errorRate(ticker.read())).as("still counted as failures").isEqualTo(0.8);
  }

  @Test
  void aFailedProbeOpensTheCircuitAgainAndAnOpenPrimaryFailsOver() {
    BackendLoad load = BackendLoad.of(orders).outlierDetection(OutlierDetection.disabled())
        .circuitBreaker(CircuitBreakerConfig.builder().failureRate(0.5, 4)
            .openDuration(Duration.ofSeconds(5)).halfOpenProbes(1).build());
    OffloadRouter router = router(FailoverStrategy.primary(orders).alternative(replica));
    feed.instance(0).answered(4, 500, Duration.ZERO);
    assertThat(next(router, 2)).containsOnly(C);
    ticker.advance(Duration.ofSeconds(5));
    ticker.advance(Failover.DEFAULT_HYSTERESIS);
    Decision.Forward probe = (Decision.Forward) router.decide(get());
    assertThat(probe.instance()).isIn(A, B);
    assertThat(LoadFeeder.nextInstance(router, get())).as("the one probe is out").isEqualTo(C);
    probe.handle().complete(Outcome.FAILURE, FailureKind.SERVER_ERROR, 500, 0);
    assertThat(load.circuitState(ticker.read())).isEqualTo(CircuitState.OPEN);
  }

  @Test
  void aDroppedProbeIsGivenBackSoTheCircuitCannotStickHalfOpen() {
    BackendLoad load = BackendLoad.of(orders).outlierDetection(OutlierDetection.disabled())
        .circuitBreaker(CircuitBreakerConfig.builder().failureRate(0.5, 4)
            .openDuration(Duration.ofSeconds(5)).halfOpenProbes(1).build());
    OffloadRouter router = router(FailoverStrategy.primary(orders));
    feed.instance(0).answered(4, 500, Duration.ZERO);
    ticker.advance(Duration.ofSeconds(5));
    assertThat(LoadFeeder.nextInstance(router, get())).as("the probe, dropped").isIn(A, B);
    Decision.Forward probe = (Decision.Forward) router.decide(get());
    probe.handle().onSuccess();
    assertThat(load.circuitState(ticker.read())).isEqualTo(CircuitState.CLOSED);
  }

  @Test
  void powerOfTwoChoicesTakesTheInstanceWithFewerInFlight() {
    AtomicInteger draws = new AtomicInteger();
    OffloadRouter router = router(FailoverStrategy.primary(orders)
        .balancer(Balancer.powerOfTwoChoices(bound -> draws.getAndIncrement() % bound)));
    feed.instance(0).inFlight(3);
    assertThat(next(router, 5)).containsOnly(B);
    feed.instance(0).inFlight(0);
    feed.instance(1).inFlight(1);
    assertThat(next(router, 5)).containsOnly(A);
  }

  @Test
  void powerOfTwoChoicesBreaksTiesOnTheLatencyEwma() {
    OffloadRouter router = router(FailoverStrategy.primary(orders));
    feed.instance(0).succeeded(5, Duration.ofMillis(50));
    feed.instance(1).succeeded(5, Duration.ofMillis(5));
    assertThat(next(router, 5)).containsOnly(B);
  }

  @Test
  void roundRobinAndWeightsTakeTheInstancesInTurn() {
    assertThat(next(router(FailoverStrategy.primary(orders).balancer(Balancer.roundRobin())), 4))
        .containsExactly(A, B, A, B);
    assertThat(next(router(FailoverStrategy.primary(orders).balancer(Balancer.weighted(3, 1))),
        8)).containsExactly(A, A, A, B, A, A, A, B);
  }

  @Test
  void badSettingsAreNamed() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Balancer.weighted(0, 1))
        .hasMessageContaining("[0, 1]");
    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> OutlierDetection.builder().consecutive5xx(0)).hasMessageContaining("consecutive5xx");
    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> CircuitBreakerConfig.builder().failureRate(1.5, 3)).hasMessageContaining("1.5");
  }
}
