package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.testing.FakeTicker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the router tells people: explanations of lambdas, logs of failing strategies, names. */
class RouterDiagnosticsTest {
  private final FakeTicker ticker = new FakeTicker();
  private final Logger jul = Logger.getLogger(OffloadRouter.class.getName());
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      records.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void capture() {
    jul.addHandler(capture);
  }

  @AfterEach
  void release() {
    jul.removeHandler(capture);
  }

  @Test
  void aThrowingStrategyLogsOneStackTraceThenACountedSummaryOnTheRoutersTicker() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = OffloadRouter.builder().ticker(ticker).meterRegistry(registry)
        .route("broken", Route.prefix("/"), (request, context) -> {
          throw new IllegalStateException("strategy bug");
        })
        .build();
    for (int i = 0; i < 1000; i++) {
      assertThat(router.decide(OffloadRequest.get("/x").build()))
          .isInstanceOf(Decision.Reject.class);
    }
    assertThat(records).hasSize(1);
    assertThat(records.get(0).getThrown()).hasMessage("strategy bug");
    assertThat(registry.get("offload.strategy.errors").tag("route", "broken").counter().count())
        .as("every failure is still counted").isEqualTo(1000);

    ticker.advance(Duration.ofMinutes(1));
    router.decide(OffloadRequest.get("/x").build());
    assertThat(records).hasSize(2);
    assertThat(records.get(1).getThrown()).isNull();
    assertThat(records.get(1).getMessage()).contains("route 'broken'")
        .contains("1000 times since the last entry");
  }

  @Test
  void explainNamesALambdaStrategyByItsRoute() {
    OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .route("teapot", Route.prefix("/tea"), (request, context) -> Decision.reject(418, "tea"))
        .route("named", Route.prefix("/named"),
            OffloadStrategy.of("brew", (request, context) -> Decision.reject(418, "tea")))
        .build();
    assertThat(router.explain(OffloadRequest.get("/tea").build()).strategy())
        .isEqualTo("lambda OffloadStrategy of route 'teapot'");
    assertThat(router.explain(OffloadRequest.get("/named").build()).strategy())
        .as("a described strategy keeps its description").isEqualTo("brew");
    assertThat(router.toString()).contains("lambda OffloadStrategy of route 'teapot'");
  }

  @Test
  void theTagOfRequestsRefusedBeforeRoutingIsNoRouteName() {
    assertThatThrownBy(() -> OffloadRouter.builder()
        .route(OffloadRouter.BEFORE_ROUTING, Route.prefix("/"), OffloadStrategy.passThrough())
        .build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("before_routing");
  }

  @Test
  void exposesItsTickerAndRegistryForExecutors() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = OffloadRouter.builder().ticker(ticker).meterRegistry(registry)
        .otherwise(OffloadStrategy.passThrough()).build();
    assertThat(router.ticker()).isSameAs(ticker);
    assertThat(router.meterRegistry()).containsSame(registry);
    assertThat(OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build()
        .meterRegistry()).isEmpty();
  }
}
