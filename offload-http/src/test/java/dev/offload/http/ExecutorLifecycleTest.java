package dev.offload.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.testing.FakeTicker;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import dev.offload.http.forward.Forwarder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * The executor's life and what it tells: one meter registry (the router's), closing, backend
 * failures in the log but not in the client's answer, refusals counted before routing.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class ExecutorLifecycleTest {
  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final FakeTicker ticker = new FakeTicker();
  private final Logger jul = Logger.getLogger(Forwarder.class.getName());
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

  /** A router with the registry; the executor is given none. */
  private OffloadExecutor executor(URI backend) {
    OffloadRouter router = OffloadRouter.builder().ticker(ticker).meterRegistry(registry)
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("orders", backend)))
        .build();
    return closer.add(OffloadExecutor.of(router));
  }

  private static String get(String target) {
    return "GET " + target + " HTTP/1.1\r\nHost: gw.example\r\n\r\n";
  }

  @Test
  void forwardingMetricsGoToTheRoutersRegistryWithoutASecondMention() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = closer.add(server.start(executor(b.uri()), Gateway.Host.answering("h")));
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(get("/api/x")).read().status()).isEqualTo(200);
    }
    gw.awaitHandled(1);
    assertThat(registry.get("offload.forward.requests").tag("backend", "orders")
        .tag("outcome", "success").timer().count()).isEqualTo(1);
  }

  @Test
  void backendFailuresAreLoggedWithBackendAndInstanceOnceButTheClientSeesNeither()
      throws Exception {
    URI dead = URI.create("http://127.0.0.1:" + Loopback.closedPort());
    Gateway.Running gw = closer.add(server.start(executor(dead), Gateway.Host.answering("h")));
    for (int i = 0; i < 3; i++) {
      try (RawClient client = new RawClient(gw.port())) {
        Response response = client.send(get("/api/x")).read();
        assertThat(response.status()).isEqualTo(502);
        assertThat(response.bodyText()).contains("the backend is unreachable")
            .doesNotContain("orders").doesNotContain("127.0.0.1")
            .doesNotContain(Integer.toString(dead.getPort()));
      }
    }
    gw.awaitHandled(3);
    assertThat(records).hasSize(1);
    LogRecord first = records.get(0);
    assertThat(first.getLevel()).isEqualTo(Level.WARNING);
    assertThat(first.getMessage()).contains("backend 'orders'").contains(dead.toString())
        .contains("CONNECT_REFUSED");
    assertThat(first.getThrown()).isNotNull();

    ticker.advance(Duration.ofMinutes(1));
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(get("/api/x")).read().status()).isEqualTo(502);
    }
    gw.awaitHandled(1);
    assertThat(records).hasSize(2);
    assertThat(records.get(1).getMessage()).contains("3 times since the last entry");
  }

  @Test
  void aClosedExecutorAnswersForwards503AndStillServesTheRest() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    OffloadExecutor executor = executor(b.uri());
    Gateway.Running gw = closer.add(server.start(executor, Gateway.Host.answering("host")));
    executor.close();
    executor.close(); // idempotent
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.bodyText()).contains("shutting down");
    }
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(get("/other")).read().bodyText()).isEqualTo("host");
    }
    gw.awaitHandled(2);
    assertThat(b.received).isEmpty();
  }

  @Test
  void closingLeavesAnOkHttpClientPassedInAlone() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(server != Gateway.NETTY,
        "the Netty gateway forwards on Netty's client, not on the OkHttp client");
    Loopback.Backend b = closer.add(new Loopback.Backend());
    okhttp3.OkHttpClient mine = new okhttp3.OkHttpClient();
    OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("orders", b.uri())))
        .build();
    OffloadExecutor executor = closer.add(
        OffloadExecutor.builder(router).forwarding(f -> f.okHttpClient(mine)).build());
    Gateway.Running gw = closer.add(server.start(executor, Gateway.Host.answering("h")));
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(get("/api/x")).read().status()).isEqualTo(200);
    }
    gw.awaitHandled(1);
    assertThat(mine.connectionPool().idleConnectionCount()).isEqualTo(1);
    executor.close();
    assertThat(mine.connectionPool().idleConnectionCount())
        .as("the pool of a client passed in is its owner's").isEqualTo(1);
    assertThat(mine.dispatcher().executorService().isShutdown()).isFalse();
    mine.connectionPool().evictAll();
  }

  @Test
  void requestsRefusedBeforeRoutingAreCountedUnderTheirOwnTag() throws Exception {
    Gateway.Running gw = closer.add(server.start(
        executor(URI.create("http://127.0.0.1:" + Loopback.closedPort())),
        Gateway.Host.answering("h")));
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("TRACE /api/x HTTP/1.1\r\nHost: gw.example\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(405);
    }
    gw.awaitHandled(1);
    assertThat(registry.get("offload.decisions").tag("route", OffloadRouter.BEFORE_ROUTING)
        .tag("decision", "reject").counter().count()).isEqualTo(1);
  }
}
