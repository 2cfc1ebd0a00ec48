package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Completion;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.GuardVerdict;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Outcome;
import dev.offload.core.testing.FakeTicker;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * A pass-through's {@link DecisionHandle} is completed with what the host's own handler did,
 * measured on the router's ticker, and the headers admitting guards asked for reach the client:
 * through both adapters, on real sockets.
 */
class PassThroughHandleTest {
  private static final String GET = "GET /page HTTP/1.1\r\nHost: a\r\n\r\n";

  private final FakeTicker ticker = new FakeTicker();
  private final CompletableFuture<Completion> completion = new CompletableFuture<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  /** Passes everything through with a handle that reports its completion to {@link #completion}. */
  private OffloadStrategy recordingPassThrough() {
    return (request, context) ->
        new Decision.PassThrough(DecisionHandle.create(context.ticker(), completion::complete));
  }

  private Gateway.Running start(Gateway server, OffloadRouter router, Gateway.Host host)
      throws Exception {
    Gateway.Running running = server.start(OffloadExecutor.of(router), host);
    closeables.add(running);
    return running;
  }

  private Gateway.Running start(Gateway server, Gateway.Host host) throws Exception {
    return start(server,
        OffloadRouter.builder().ticker(ticker).otherwise(recordingPassThrough()).build(), host);
  }

  private static Response get(Gateway.Running gw) throws Exception {
    try (RawClient client = new RawClient(gw.port())) {
      return client.send(GET).read();
    }
  }

  private Completion awaitCompletion() throws Exception {
    return completion.get(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void completesSuccessWithTheHostsStatusBytesAndLatencyOnTheRoutersTicker(Gateway server)
      throws Exception {
    Gateway.Running gw = start(server, request -> {
      ticker.advance(Duration.ofMillis(300)); // the host at work, on the router's clock
      return new Gateway.Reply(201, "hello".getBytes(UTF_8));
    });

    Response response = get(gw);

    assertThat(response.status()).isEqualTo(201);
    assertThat(response.bodyText()).isEqualTo("hello");
    Completion done = awaitCompletion();
    assertThat(done.outcome()).isEqualTo(Outcome.SUCCESS);
    assertThat(done.failure()).isEqualTo(FailureKind.NONE);
    assertThat(done.status()).isEqualTo(201);
    assertThat(done.latencyNanos()).isEqualTo(Duration.ofMillis(300).toNanos());
    // the JDK adapter counts the body bytes the host wrote; the servlet adapter cannot tell (0).
    // When it learns to, this expectation becomes 5 for both.
    assertThat(done.bytes()).isEqualTo(server == Gateway.JDK ? 5 : 0);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void aHostAnswering503CompletesAsAServerErrorFailure(Gateway server) throws Exception {
    Gateway.Running gw = start(server,
        request -> new Gateway.Reply(503, "busy".getBytes(UTF_8)));

    Response response = get(gw);

    assertThat(response.status()).isEqualTo(503);
    assertThat(response.bodyText()).isEqualTo("busy");
    Completion done = awaitCompletion();
    assertThat(done.outcome()).isEqualTo(Outcome.FAILURE);
    assertThat(done.failure()).isEqualTo(FailureKind.SERVER_ERROR);
    assertThat(done.status()).isEqualTo(503);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void anAdmittingGuardsResponseHeadersReachTheClientOnAPassThrough(Gateway server)
      throws Exception {
    OffloadRouter router = OffloadRouter.builder()
        .ticker(ticker)
        .guard("rate-limit", (request, context) -> GuardVerdict.admit()
            .withResponseHeaders(Headers.of("RateLimit", "limit=10, remaining=9")))
        .otherwise(recordingPassThrough())
        .build();
    Gateway.Running gw = start(server, router, Gateway.Host.answering("host"));

    Response response = get(gw);

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyText()).isEqualTo("host");
    assertThat(response.headers("RateLimit")).containsExactly("limit=10, remaining=9");
    assertThat(awaitCompletion().outcome()).isEqualTo(Outcome.SUCCESS);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void aHostHandlerThatThrowsCompletesAsAnInternalErrorAndTheExceptionPropagates(Gateway server)
      throws Exception {
    RuntimeException boom = new IllegalStateException("the host's handler failed");
    Gateway.Running gw = start(server, request -> {
      ticker.advance(Duration.ofMillis(20));
      throw boom;
    });

    try (RawClient client = new RawClient(gw.port())) {
      client.send(GET);
      // what the client gets is the container's business (the JDK server closes the
      // connection, Jetty answers 500): the assertions are on the handle and the exception
      Completion done = awaitCompletion();
      assertThat(done.outcome()).isEqualTo(Outcome.FAILURE);
      assertThat(done.failure()).isEqualTo(FailureKind.INTERNAL_ERROR);
      assertThat(done.status()).isEqualTo(Completion.NO_STATUS);
      assertThat(done.latencyNanos()).isEqualTo(Duration.ofMillis(20).toNanos());
      assertThat(gw.awaitThrown()).as("rethrown unchanged to the server").isSameAs(boom);
    }
  }
}
