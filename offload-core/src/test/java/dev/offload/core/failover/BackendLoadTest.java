package dev.offload.core.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.Explanation;
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
import org.junit.jupiter.api.Test;

class BackendLoadTest {
  private static final URI A = URI.create("http://127.0.0.1:8081");
  private static final URI B = URI.create("http://127.0.0.1:8082");

  private final FakeTicker ticker = new FakeTicker();
  private final Backend orders = Backend.builder("orders").instance(A).instance(B).build();
  private final OffloadRouter router = OffloadRouter.builder()
      .ticker(ticker)
      .route("orders", Route.prefix("/api/orders"), FailoverStrategy.to(orders))
      .build();

  @Test
  void oneLoadStatePerBackendObject() {
    assertThat(BackendLoad.of(orders)).isSameAs(BackendLoad.of(orders));
    Backend twin = Backend.builder("orders").instance(A).instance(B).build();
    assertThat(BackendLoad.of(twin)).isNotSameAs(BackendLoad.of(orders));
  }

  @Test
  void completionRecordsFeedTheInstanceThatWasChosen() {
    Decision.Forward forward = (Decision.Forward) router.decide(get());
    InstanceLoad chosen = BackendLoad.of(orders).instance(forward.instance());
    assertThat(chosen.inFlight()).isEqualTo(1);
    ticker.advance(Duration.ofMillis(120));
    forward.handle().complete(Outcome.FAILURE, FailureKind.SERVER_ERROR, 503, 10);

    LoadSnapshot snapshot = chosen.snapshot(ticker.read());
    assertThat(snapshot.inFlight()).isZero();
    assertThat(snapshot.requests()).isEqualTo(1);
    assertThat(snapshot.failures()).isEqualTo(1);
    assertThat(snapshot.p99()).isEqualTo(Duration.ofMillis(120));
    assertThat(snapshot.errorRate()).isEqualTo(1.0);
  }

  @Test
  void balancesToTheInstanceWithFewestInFlightAndShowsItInTheDecision() {
    LoadFeeder.of(orders, ticker).instance(0).inFlight(5);
    for (int i = 0; i < 4; i++) {
      Decision.Forward forward = (Decision.Forward) router.decide(get());
      assertThat(forward.instance()).isEqualTo(B);
      forward.handle().onSuccess();
    }
  }

  @Test
  void idleInstancesShareTheRequestsRoundRobin() {
    List<URI> chosen = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Decision.Forward forward = (Decision.Forward) router.decide(get());
      chosen.add(forward.instance());
      forward.handle().onSuccess();
    }
    assertThat(chosen).containsExactly(A, B, A, B);
  }

  @Test
  void testKitFeedsLatencyStatusAndFailuresIntoTheWindow() {
    LoadFeeder feeder = LoadFeeder.of(orders, ticker);
    feeder.instance(0)
        .succeeded(98, Duration.ofMillis(10))
        .answered(1, 503, Duration.ofMillis(400))
        .failed(1, FailureKind.READ_TIMEOUT, Duration.ofMillis(400))
        .inFlight(7);
    LoadSnapshot a = BackendLoad.of(orders).instance(0).snapshot(ticker.read());
    assertThat(a.inFlight()).isEqualTo(7);
    assertThat(a.requests()).isEqualTo(100);
    assertThat(a.failures()).isEqualTo(2);
    assertThat(a.p50()).isBetween(Duration.ofMillis(10), Duration.ofMillis(13));
    assertThat(a.p99()).isBetween(Duration.ofMillis(400), Duration.ofMillis(400));

    feeder.instance(0).inFlight(0);
    assertThat(BackendLoad.of(orders).instance(0).inFlight()).isZero();
    assertThat(BackendLoad.of(orders).instance(0).snapshot(ticker.read()).requests())
        .as("giving back held slots records nothing").isEqualTo(100);
  }

  @Test
  void completionsLeaveTheWindowAfterItsLength() {
    LoadFeeder.of(orders, ticker).instance(0).succeeded(10, Duration.ofMillis(400));
    ticker.advance(BackendLoad.WINDOW.minusSeconds(1));
    assertThat(BackendLoad.of(orders).instance(0).snapshot(ticker.read()).requests())
        .isEqualTo(10);
    ticker.advance(Duration.ofSeconds(1));
    LoadSnapshot later = BackendLoad.of(orders).instance(0).snapshot(ticker.read());
    assertThat(later.requests()).isZero();
    assertThat(later.p99()).isZero();
  }

  @Test
  void droppedWorkSaysNothingAboutTheBackend() {
    Decision.Forward forward = (Decision.Forward) router.decide(get());
    forward.handle().complete(Outcome.DROPPED, FailureKind.CLIENT_GONE, 0, 0);
    assertThat(BackendLoad.of(orders).instance(forward.instance()).snapshot(ticker.read())
        .requests()).isZero();
  }

  @Test
  void explainReadsTheLoadButTakesNoSlotAndDoesNotMoveTheRoundRobin() {
    LoadFeeder feeder = LoadFeeder.of(orders, ticker);
    feeder.instance(1).inFlight(3);
    Explanation e = router.explain(get());
    assertThat(e.inputs())
        .containsEntry("orders[" + A + "].inFlight", "0")
        .containsEntry("orders[" + B + "].inFlight", "3");
    assertThat(BackendLoad.of(orders).instance(0).inFlight()).isZero();
    assertThat(BackendLoad.of(orders).instance(0).snapshot(ticker.read()).requests())
        .as("the explained decision's handle recorded nothing").isZero();

    feeder.instance(1).inFlight(0);
    for (int i = 0; i < 3; i++) {
      router.explain(get());
    }
    Decision.Forward next = (Decision.Forward) router.decide(get());
    assertThat(next.instance()).as("explain did not advance the round-robin").isEqualTo(A);
    next.handle().onSuccess();
  }

  @Test
  void unknownInstancesAreNamedInTheError() {
    assertThatThrownBy(() -> BackendLoad.of(orders).instance(URI.create("http://127.0.0.1:9")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("orders");
    assertThatThrownBy(() -> BackendLoad.of(orders).instance(2))
        .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("2 instance(s)");
  }

  private static OffloadRequest get() {
    return OffloadRequest.get("/api/orders/1").build();
  }
}
