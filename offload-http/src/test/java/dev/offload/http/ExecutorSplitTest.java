package dev.offload.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.testing.RecordingExchange;
import java.net.URI;
import org.junit.jupiter.api.Test;

/** The two halves of execute that an event-loop adapter calls: decide, then execute. */
class ExecutorSplitTest {
  private final OffloadExecutor executor = OffloadExecutor.of(OffloadRouter.builder()
      .route(Route.prefix("/api/"), FailoverStrategy.to(Backend.of("b",
          URI.create("http://127.0.0.1:1"))))
      .route(Route.get("/assets/**"), CdnStrategy.redirectTo(URI.create("https://cdn.example")))
      .route(Route.prefix("/admin/"), OffloadStrategy.reject(403, "no"))
      .otherwise(OffloadStrategy.passThrough())
      .build());

  @Test
  void decideRefusesWithoutAskingTheRouterAndReturnsNull() {
    RecordingExchange trace = RecordingExchange.builder("TRACE", "/x").build();

    assertThat(executor.decide(trace)).isNull();
    assertThat(trace.status()).isEqualTo(405);
    assertThat(trace.isRequestBodyOpened()).isFalse();
  }

  @Test
  void onlyAnswersFromMemoryAreNonBlocking() {
    assertThat(executor.decide(RecordingExchange.get("/assets/a.js")).mayBlock()).isFalse();
    assertThat(executor.decide(RecordingExchange.get("/admin/x")).mayBlock()).isFalse();
    assertThat(executor.decide(RecordingExchange.get("/api/x")).mayBlock()).isTrue();
    OffloadExecutor.Decided pass = executor.decide(RecordingExchange.get("/other"));
    assertThat(pass.decision()).isInstanceOf(Decision.PassThrough.class);
    assertThat(pass.mayBlock()).isTrue();
  }

  @Test
  void executeCarriesOutWhatDecideReturned() throws Exception {
    RecordingExchange exchange = RecordingExchange.get("/admin/x");
    OffloadExecutor.Decided decided = executor.decide(exchange);
    assertThat(exchange.isStarted()).isFalse(); // deciding wrote nothing

    executor.execute(decided, exchange, (headers, fill) -> {
      throw new AssertionError("the host must not run for a rejection");
    });

    assertThat(exchange.status()).isEqualTo(403);
  }
}
