package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Ticker;
import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.failover.Load;
import dev.offload.core.failover.RetryBudget;
import dev.offload.http.Loopback.RawBackend;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import dev.offload.http.forward.RetryPolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * Failover and budgeted retries through a real gateway to real backends on loopback, once on the
 * JDK {@code HttpServer} and once on Jetty: a slow primary, a failing one, one that refuses
 * connections.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class FailoverGatewayTest {
  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private Gateway.Running gateway(FailoverStrategy strategy, RetryPolicy retries)
      throws Exception {
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), strategy).build();
    OffloadExecutor executor = OffloadExecutor.builder(router).meterRegistry(registry)
        .forwarding(f -> f.retryPolicy(retries)).build();
    return closer.add(server.start(executor, Gateway.Host.answering("host")));
  }

  private RetryPolicy budget(int minPerSecond) {
    return RetryPolicy.budgeted(RetryBudget.builder(Ticker.systemTicker())
        .minRetriesPerSecond(minPerSecond).meterRegistry(registry).build());
  }

  private static String request(String method, String target) {
    String body = method.equals("POST") ? "Content-Length: 2\r\n\r\nhi" : "\r\n";
    return method + " " + target + " HTTP/1.1\r\nHost: gw\r\n" + body;
  }

  private static Response send(Gateway.Running gw, String method, String target)
      throws Exception {
    try (RawClient client = new RawClient(gw.port())) {
      return client.send(request(method, target)).read();
    }
  }

  @Test
  void aSlowPrimarySendsTheNextRequestToTheAlternativeAndTrafficReturnsWhenItRecovers()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Loopback.Backend slow = closer.add(new Loopback.Backend());
    slow.responder = ex -> {
      try {
        release.await(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Loopback.respond(ex, 200, "primary".getBytes(ISO_8859_1));
    };
    Loopback.Backend alt = closer.add(new Loopback.Backend());
    alt.responder = ex -> Loopback.respond(ex, 200, "replica".getBytes(ISO_8859_1));
    Backend primary = Backend.of("primary", slow.uri());
    Backend replica = Backend.of("replica", alt.uri());
    Gateway.Running gw = gateway(FailoverStrategy.primary(primary).alternative(replica)
        .when(Load.inFlightAbove(0)).hysteresis(Duration.ZERO), RetryPolicy.never());

    CompletableFuture<Response> held = CompletableFuture.supplyAsync(() -> {
      try {
        return send(gw, "GET", "/api/a");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    slow.take(); // the first request is at the primary, in flight
    Response second = send(gw, "GET", "/api/b");
    assertThat(second.bodyText()).isEqualTo("replica");

    release.countDown();
    assertThat(held.get(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS).bodyText())
        .isEqualTo("primary");
    gw.awaitHandled(2);
    assertThat(send(gw, "GET", "/api/c").bodyText()).as("back to the primary")
        .isEqualTo("primary");
  }

  @Test
  void aGetToAnInstanceThatRefusesConnectionsIsRetriedOnAnotherInstance() throws Exception {
    Loopback.Backend live = closer.add(new Loopback.Backend());
    URI refused = URI.create("http://127.0.0.1:" + Loopback.closedPort());
    Backend orders = Backend.builder("orders").instance(refused).instance(live.uri()).build();
    Gateway.Running gw = gateway(FailoverStrategy.primary(orders), budget(3));
    for (int i = 0; i < 6; i++) {
      assertThat(send(gw, "GET", "/api/" + i).status()).isEqualTo(200);
    }
    gw.awaitHandled(6);
    assertThat(live.received).hasSize(6);
    assertThat(registry.find("offload.retries").tag("outcome", "retried").counter())
        .isNotNull();
    assertThat(BackendLoad.of(orders).instance(refused).recentRequests(Ticker.systemTicker()
        .read())).as("the refused attempts were recorded on their instance").isPositive();
  }

  @Test
  void aPostWithoutABodyIsRetriedOnAnotherInstanceWhenTheConnectionWasRefused() throws Exception {
    Loopback.Backend live = closer.add(new Loopback.Backend());
    URI refused = URI.create("http://127.0.0.1:" + Loopback.closedPort());
    Backend refusing = Backend.builder("refusing").instance(refused).instance(live.uri())
        .build();
    Gateway.Running gw = gateway(FailoverStrategy.primary(refusing)
        .balancer(dev.offload.core.failover.Balancer.roundRobin()), budget(3));
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send("POST /api/orders HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\n")
          .read().status()).as("refused, and no body to stream: sent to the other").isEqualTo(200);
    }
    assertThat(live.take().method()).isEqualTo("POST");
  }

  @Test
  void aGetOverItsPerTryTimeoutIsRetriedOnAnotherInstance() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Loopback.Backend stuck = closer.add(new Loopback.Backend());
    stuck.responder = ex -> {
      try {
        release.await(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Loopback.respond(ex, 200, "stuck".getBytes(ISO_8859_1));
    };
    closer.add(release::countDown);
    Loopback.Backend fast = closer.add(new Loopback.Backend());
    fast.responder = ex -> Loopback.respond(ex, 200, "fast".getBytes(ISO_8859_1));
    Backend orders = Backend.builder("orders").instance(stuck.uri()).instance(fast.uri()).build();
    RetryPolicy perTry = RetryPolicy.budgeted(RetryBudget.builder(Ticker.systemTicker()).build(),
        Duration.ofMillis(300));
    Gateway.Running gw = gateway(FailoverStrategy.primary(orders)
        .balancer(dev.offload.core.failover.Balancer.roundRobin()), perTry);
    Response response = send(gw, "GET", "/api/slow");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyText()).isEqualTo("fast");
    assertThat(stuck.take().target()).isEqualTo("/api/slow");
  }

  @Test
  void noRetryStartsOnceTheBackendsCallTimeoutTheDeadlineOfAllAttemptsHasPassed()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    closer.add(release::countDown);
    Loopback.Backend stuck = closer.add(new Loopback.Backend());
    Loopback.Backend other = closer.add(new Loopback.Backend());
    for (Loopback.Backend b : List.of(stuck, other)) {
      b.responder = ex -> {
        try {
          release.await(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        Loopback.respond(ex, 200, "late".getBytes(ISO_8859_1));
      };
    }
    // the per-try timeout is the whole deadline: when the first attempt times out, none is left
    Backend orders = Backend.builder("orders").instance(stuck.uri()).instance(other.uri())
        .callTimeout(Duration.ofMillis(300)).build();
    RetryPolicy perTry = RetryPolicy.budgeted(RetryBudget.builder(Ticker.systemTicker()).build(),
        Duration.ofMillis(300));
    Gateway.Running gw = gateway(FailoverStrategy.primary(orders)
        .balancer(dev.offload.core.failover.Balancer.roundRobin()), perTry);

    Response response = send(gw, "GET", "/api/slow");

    assertThat(response.status()).isEqualTo(504);
    assertThat(stuck.take().target()).isEqualTo("/api/slow");
    assertThat(other.received).as("no retry after the deadline").isEmpty();
  }

  @Test
  void aPostToABackendThatFailsAfterReadingItIsSentAtMostOnce() throws Exception {
    RawBackend failing = closer.add(new RawBackend(socket -> { }));
    Loopback.Backend other = closer.add(new Loopback.Backend());
    Backend orders = Backend.builder("orders").instance(failing.uri()).instance(other.uri())
        .build();
    Gateway.Running gw = gateway(FailoverStrategy.primary(orders)
        .balancer(dev.offload.core.failover.Balancer.roundRobin()), budget(3));
    Response response = send(gw, "POST", "/api/orders");
    assertThat(response.status()).isEqualTo(502);
    gw.awaitHandled(1);
    assertThat(failing.requests).hasSize(1);
    assertThat(other.received).as("a POST that reached a backend is never resent").isEmpty();
  }

  @Test
  void duringAnOutageBackendCallsStayWithinTheBudget() throws Exception {
    RawBackend failing = closer.add(new RawBackend(socket -> { }));
    Backend down = Backend.builder("down").instance(failing.uri()).build();
    BackendLoad.of(down).outlierDetection(dev.offload.core.failover.OutlierDetection.disabled())
        .circuitBreaker(dev.offload.core.failover.CircuitBreakerConfig.disabled());
    Gateway.Running gw = gateway(FailoverStrategy.primary(down), budget(0));
    int offered = 20;
    for (int i = 0; i < offered; i++) {
      assertThat(send(gw, "GET", "/api/" + i).status()).isEqualTo(502);
    }
    gw.awaitHandled(offered);
    assertThat(failing.requests.size()).isGreaterThanOrEqualTo(offered)
        .isLessThanOrEqualTo((int) (offered * (1 + RetryBudget.DEFAULT_RATIO)));
    assertThat(registry.get("offload.retries").tag("outcome", "budget_exhausted").counter()
        .count()).isPositive();
  }
}
