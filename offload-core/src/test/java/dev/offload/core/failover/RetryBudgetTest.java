package dev.offload.core.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Backend;
import dev.offload.core.FailureKind;
import dev.offload.core.testing.FakeTicker;
import dev.offload.core.testing.LoadFeeder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryBudgetTest {
  private static final URI A = URI.create("http://127.0.0.1:8081");
  private static final URI B = URI.create("http://127.0.0.1:8082");

  private final FakeTicker ticker = new FakeTicker();
  private final Backend orders = Backend.builder("orders").instance(A).instance(B).build();
  private final LoadFeeder feed = LoadFeeder.of(orders, ticker);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void allowsTheMinimumPerSecondOfTheWindowWithoutTraffic() {
    RetryBudget budget = RetryBudget.builder(ticker).minRetriesPerSecond(2).build();
    BackendLoad load = BackendLoad.of(orders);
    int allowed = 0;
    for (int i = 0; i < 50; i++) {
      if (budget.tryAcquire(load)) {
        allowed++;
      }
    }
    assertThat(allowed).isEqualTo(2 * BackendLoad.WINDOW.toSeconds());
  }

  @Test
  void allowsTheRatioOfTheBackendsCompletionsAndRefillsAsTheWindowMoves() {
    RetryBudget budget = RetryBudget.builder(ticker).ratio(0.2).minRetriesPerSecond(0)
        .meterRegistry(registry).build();
    BackendLoad load = BackendLoad.of(orders);
    feed.instance(0).succeeded(60, Duration.ofMillis(1));
    feed.instance(1).succeeded(40, Duration.ofMillis(1));
    assertThat(budget.available(load)).isEqualTo(20);
    for (int i = 0; i < 20; i++) {
      assertThat(budget.tryAcquire(load)).isTrue();
    }
    assertThat(budget.tryAcquire(load)).isFalse();
    assertThat(registry.get("offload.retries").tag("outcome", "retried").counter().count())
        .isEqualTo(20);
    assertThat(registry.get("offload.retries").tag("outcome", "budget_exhausted").counter()
        .count()).isEqualTo(1);

    ticker.advance(BackendLoad.WINDOW);
    feed.instance(0).succeeded(10, Duration.ofMillis(1));
    assertThat(budget.available(load)).as("old retries and completions left the window")
        .isEqualTo(2);
  }

  @Test
  void aRetryGoesToAnotherInstanceNotEjectedAndTheFailureIsRecorded() {
    RetryBudget budget = RetryBudget.builder(ticker).build();
    BackendLoad load = BackendLoad.of(orders);
    assertThat(budget.retryTarget(load, A, FailureKind.CONNECT_REFUSED)).isEqualTo(B);
    assertThat(load.instance(A).errorRate(ticker.read())).isEqualTo(1.0);
    feed.instance(1).failed(5, FailureKind.CONNECT_REFUSED);
    assertThat(load.instance(B).ejected(ticker.read())).isTrue();
    assertThat(budget.retryTarget(load, A, FailureKind.CONNECT_REFUSED))
        .as("no other healthy instance: the same").isEqualTo(A);
  }

  @Test
  void badSettingsAreNamed() {
    assertThatThrownBy(() -> RetryBudget.builder(ticker).ratio(2)).hasMessageContaining("2.0");
    assertThatThrownBy(() -> RetryBudget.builder(ticker).minRetriesPerSecond(-1))
        .hasMessageContaining("-1");
  }
}
