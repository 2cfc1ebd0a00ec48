package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Backend;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.InstanceLoad;
import dev.offload.core.testing.FakeTicker;
import dev.offload.core.testing.LoadFeeder;
import dev.offload.http.forward.ActiveHealthCheck;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ActiveHealthCheckTest {
  @RegisterExtension final Closer closer = new Closer();
  private final FakeTicker ticker = new FakeTicker();
  private final OkHttpClient client = new OkHttpClient();
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "health-check-test");
        thread.setDaemon(true);
        return thread;
      });

  @AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  @Test
  void failingChecksEjectAnInstanceAndPassingOnesBringItBackAlsoFromAnOutlierEjection()
      throws Exception {
    Loopback.Backend live = closer.add(new Loopback.Backend());
    live.responder = ex -> Loopback.respond(ex, 503, "down".getBytes(ISO_8859_1));
    Backend orders = Backend.of("orders", live.uri());
    InstanceLoad instance = BackendLoad.of(orders).instance(0);
    try (ActiveHealthCheck check = ActiveHealthCheck.builder(orders, client, scheduler)
        .ticker(ticker).thresholds(2, 2).build()) {
      check.checkNow();
      assertThat(instance.ejected(ticker.read())).as("one failure, threshold 2").isFalse();
      check.checkNow();
      assertThat(instance.ejected(ticker.read())).isTrue();
      assertThat(live.take().target()).isEqualTo("/health");

      live.responder = ex -> Loopback.respond(ex, 200, "up".getBytes(ISO_8859_1));
      LoadFeeder.of(orders, ticker).instance(0).answered(5, 503, Duration.ZERO);
      check.checkNow();
      assertThat(instance.ejected(ticker.read())).as("one pass, threshold 2").isTrue();
      check.checkNow();
      assertThat(instance.ejected(ticker.read()))
          .as("checks passed: back, the outlier ejection too").isFalse();
    }
  }

  @Test
  void anInstanceThatRefusesConnectionsFailsItsChecks() throws Exception {
    Backend orders = Backend.of("orders",
        URI.create("http://127.0.0.1:" + Loopback.closedPort()));
    try (ActiveHealthCheck check = ActiveHealthCheck.builder(orders, client, scheduler)
        .ticker(ticker).thresholds(1, 1).build()) {
      check.checkNow();
      assertThat(BackendLoad.of(orders).instance(0).ejected(ticker.read())).isTrue();
    }
  }

  @Test
  void startRunsTheChecksOnTheSchedulerAndCloseStopsThem() throws Exception {
    Loopback.Backend live = closer.add(new Loopback.Backend());
    Backend orders = Backend.of("orders", live.uri());
    ActiveHealthCheck check = ActiveHealthCheck.builder(orders, client, scheduler)
        .interval(Duration.ofMillis(10)).build();
    check.start();
    assertThat(live.take().target()).isEqualTo("/health");
    assertThat(live.take().target()).isEqualTo("/health");
    assertThatThrownBy(check::start).hasMessageContaining("already started");
    check.close();
    scheduler.shutdown();
    assertThat(scheduler.awaitTermination(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS)).isTrue();
  }

  @Test
  void badSettingsAreNamed() {
    Backend orders = Backend.of("orders", URI.create("http://127.0.0.1:1"));
    assertThatThrownBy(() -> ActiveHealthCheck.builder(orders, client, scheduler).path("health"))
        .hasMessageContaining("'health'");
    assertThatThrownBy(() -> ActiveHealthCheck.builder(orders, client, scheduler)
        .expectedStatuses(300, 200)).hasMessageContaining("300..200");
  }
}
