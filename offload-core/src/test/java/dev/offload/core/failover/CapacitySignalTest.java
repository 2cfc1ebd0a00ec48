package dev.offload.core.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.offload.core.Backend;
import dev.offload.core.testing.FakeTicker;
import dev.offload.core.testing.LoadFeeder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CapacitySignalTest {
  private final FakeTicker ticker = new FakeTicker();
  private final Backend orders = Backend.builder("orders")
      .instance(URI.create("http://127.0.0.1:9001"))
      .instance(URI.create("http://127.0.0.1:9002"))
      .build();

  @Test
  void littlesLawOverTheWindowGivesTheInstancesNeededRoundedUp() {
    // 500 completions in the 10 s window = 50/s, each 200 ms: 10 requests held at once
    LoadFeeder feeder = LoadFeeder.of(orders, ticker);
    feeder.instance(0).succeeded(300, Duration.ofMillis(200));
    feeder.instance(1).succeeded(200, Duration.ofMillis(200));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CapacitySignal signal = CapacitySignal.builder(orders).concurrencyPerInstance(4)
        .smoothing(Duration.ZERO).ticker(ticker).meterRegistry(registry).build();

    assertThat(signal.measuredConcurrency(ticker.read())).isCloseTo(10.0, within(1e-6));
    assertThat(signal.desiredInstances()).isEqualTo(3); // 10 / 4 = 2.5, rounded up
    assertThat(registry.get("offload.backend.capacity.desired").tag("backend", "orders")
        .gauge().value()).isEqualTo(3.0);
  }

  @Test
  void noTrafficAsksForTheMinimum() {
    CapacitySignal signal = CapacitySignal.builder(orders).concurrencyPerInstance(4)
        .minInstances(2).ticker(ticker).build();

    assertThat(signal.measuredConcurrency(ticker.read())).isZero();
    assertThat(signal.desiredInstances()).isEqualTo(2);
  }

  @Test
  void theSignalFollowsABurstSlowlyAndForgetsItWhenTheWindowEmpties() {
    CapacitySignal signal = CapacitySignal.builder(orders).concurrencyPerInstance(1)
        .smoothing(Duration.ofSeconds(30)).minInstances(0).ticker(ticker).build();
    assertThat(signal.smoothedConcurrency()).isZero();

    LoadFeeder.of(orders, ticker).instance(0).succeeded(500, Duration.ofMillis(200)); // 10 held
    assertThat(signal.smoothedConcurrency()).as("no time passed").isZero();
    ticker.advance(Duration.ofSeconds(1));
    double expected = 10 * (1 - Math.exp(-1.0 / 30));
    assertThat(signal.smoothedConcurrency()).isCloseTo(expected, within(1e-6));
    assertThat(signal.desiredInstances()).isEqualTo(1); // 0.33 held, rounded up

    ticker.advance(Duration.ofSeconds(20)); // the burst left the 10 s window: measured 0
    double decayed = expected * Math.exp(-20.0 / 30);
    assertThat(signal.smoothedConcurrency()).isCloseTo(decayed, within(1e-6));
  }

  @Test
  void settingsAreCheckedNamingTheValue() {
    assertThatThrownBy(() -> CapacitySignal.builder(orders).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("orders")
        .hasMessageContaining("concurrencyPerInstance");
    assertThatThrownBy(() -> CapacitySignal.builder(orders).concurrencyPerInstance(0))
        .hasMessageContaining("got 0.0");
    assertThatThrownBy(() -> CapacitySignal.builder(orders).minInstances(-1))
        .hasMessageContaining("got -1");
    assertThatThrownBy(() -> CapacitySignal.builder(orders).smoothing(Duration.ofSeconds(-1)))
        .hasMessageContaining("PT-1S");
  }
}
