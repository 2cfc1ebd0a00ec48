package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import dev.offload.http.testing.RecordingExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link RecordingExchange}: its defaults, its contract checks, and driving the executor. */
class RecordingExchangeTest {
  private static final HostHandler<RuntimeException> NO_HOST = (headers, fill) -> {
    throw new AssertionError("the request was not expected to pass through");
  };

  @Test
  void buildsARequestWithLoopbackPeerHostAndContentLengthByDefault() throws IOException {
    RecordingExchange exchange = RecordingExchange.builder("POST", "/api/jobs?x=1")
        .header("Content-Type", "text/plain")
        .body("hello")
        .build();

    assertThat(exchange.method()).isEqualTo("POST");
    assertThat(exchange.requestTarget()).isEqualTo("/api/jobs?x=1");
    assertThat(exchange.protocol()).isEqualTo("HTTP/1.1");
    assertThat(exchange.remoteAddress().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    assertThat(exchange.remoteAddress().getPort()).isPositive();
    assertThat(exchange.isSecure()).isFalse();
    assertThat(exchange.requestHeaders().first("Host")).hasValue("localhost");
    assertThat(exchange.requestHeaders().first("Content-Length")).hasValue("5");
    assertThat(exchange.requestHeaders().first("Content-Type")).hasValue("text/plain");
    assertThat(exchange.isRequestBodyOpened()).isFalse();
    try (InputStream in = exchange.requestBody()) {
      assertThat(new String(in.readAllBytes(), UTF_8)).isEqualTo("hello");
    }
    assertThat(exchange.isRequestBodyOpened()).isTrue();
    assertThat(exchange.isStarted()).isFalse();
  }

  @Test
  void keepsTheHostAndFramingGivenAndTakesPeerProtocolAndTls() throws Exception {
    InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName("203.0.113.7"), 4711);
    RecordingExchange exchange = RecordingExchange.builder("PUT", "/u")
        .header("Host", "api.example")
        .header("Transfer-Encoding", "chunked")
        .body(new byte[] {1, 2, 3})
        .protocol("HTTP/1.0")
        .remoteAddress(peer)
        .secure(true)
        .build();

    assertThat(exchange.requestHeaders().all("Host")).containsExactly("api.example");
    assertThat(exchange.requestHeaders().contains("Content-Length")).isFalse();
    assertThat(exchange.protocol()).isEqualTo("HTTP/1.0");
    assertThat(exchange.remoteAddress()).isEqualTo(peer);
    assertThat(exchange.isSecure()).isTrue();
    assertThat(RecordingExchange.builder("GET", "/").withoutHost().build().requestHeaders()
        .contains("Host")).isFalse();
  }

  @Test
  void builderRefusesAnUnresolvedPeerAndALowerCaseProtocol() {
    assertThatThrownBy(() -> RecordingExchange.builder("GET", "/")
        .remoteAddress(InetSocketAddress.createUnresolved("client.example", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("remoteAddress")
        .hasMessageContaining("unresolved");
    assertThatThrownBy(() -> RecordingExchange.builder("GET", "/").protocol("http/1.1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("protocol")
        .hasMessageContaining("'http/1.1'");
  }

  @Test
  void recordsStatusHeadersAndBody() throws IOException {
    RecordingExchange exchange = RecordingExchange.get("/");
    exchange.startResponse(200, Headers.of("Content-Type", "text/plain; charset=ISO-8859-1"), 4);
    try (OutputStream out = exchange.responseBody()) {
      out.write("caf".getBytes(UTF_8));
      out.write(0xe9); // é in ISO-8859-1
    }

    assertThat(exchange.status()).isEqualTo(200);
    assertThat(exchange.responseHeaders().first("Content-Type"))
        .hasValue("text/plain; charset=ISO-8859-1");
    assertThat(exchange.declaredContentLength()).isEqualTo(4);
    assertThat(exchange.responseBytes()).containsExactly('c', 'a', 'f', 0xe9);
    assertThat(exchange.bodyText()).isEqualTo("café");
    assertThat(exchange.isClosed()).isTrue();
    assertThat(exchange.isAborted()).isFalse();
  }

  @Test
  void startingTheResponseTwiceIsRefusedNamingBothStatuses() throws IOException {
    RecordingExchange exchange = RecordingExchange.get("/");
    exchange.startResponse(200, Headers.empty(), 0);

    assertThatThrownBy(() -> exchange.startResponse(500, Headers.empty(), 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("startResponse(500, ...) called, but startResponse(200, ...) was already "
            + "called on this exchange: a response is started exactly once");
    assertThat(exchange.status()).isEqualTo(200);
  }

  @Test
  void responseBodyBeforeStartResponseIsRefused() {
    RecordingExchange exchange = RecordingExchange.get("/");

    assertThatThrownBy(exchange::responseBody)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("responseBody() called before startResponse(): send the status and headers "
            + "first");
    assertThatThrownBy(exchange::status)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("no response was started on this exchange");
  }

  @Test
  void openingTheRequestBodyTwiceIsRefused() throws IOException {
    RecordingExchange exchange = RecordingExchange.builder("POST", "/").body("x").build();
    exchange.requestBody().close();

    assertThatThrownBy(exchange::requestBody)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("requestBody() was already opened on this exchange");
  }

  @Test
  void startingAfterAbortIsRefusedAndWritesFail() throws IOException {
    RecordingExchange exchange = RecordingExchange.get("/");
    exchange.abort();

    assertThat(exchange.isAborted()).isTrue();
    assertThatThrownBy(() -> exchange.startResponse(200, Headers.empty(), 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("startResponse(200, ...) called after abort(): the exchange is over");

    RecordingExchange started = RecordingExchange.get("/");
    started.startResponse(200, Headers.empty(), -1);
    OutputStream out = started.responseBody();
    out.write('a');
    started.abort(); // safe after startResponse too
    assertThatThrownBy(() -> out.write('b'))
        .isInstanceOf(IOException.class)
        .hasMessage("the exchange was aborted");
    assertThat(started.responseBytes()).containsExactly('a');
  }

  @Test
  void bodyLongerOrShorterThanTheDeclaredLengthFails() throws IOException {
    RecordingExchange longer = RecordingExchange.get("/");
    longer.startResponse(200, Headers.empty(), 2);
    OutputStream out = longer.responseBody();
    assertThatThrownBy(() -> out.write("abc".getBytes(UTF_8)))
        .isInstanceOf(IOException.class)
        .hasMessage("too many bytes for the response body: Content-Length 2 was declared and 3 "
            + "would be written");

    RecordingExchange shorter = RecordingExchange.get("/");
    shorter.startResponse(200, Headers.empty(), 2);
    OutputStream short0 = shorter.responseBody();
    short0.write('a');
    assertThatThrownBy(short0::close)
        .isInstanceOf(IOException.class)
        .hasMessage("response body closed after 1 bytes but Content-Length 2 was declared");
  }

  @Test
  void keepsNoBodyForHeadOr204() throws IOException {
    RecordingExchange head = RecordingExchange.builder("HEAD", "/").build();
    head.startResponse(200, Headers.empty(), 5);
    try (OutputStream out = head.responseBody()) {
      out.write("hello".getBytes(UTF_8));
    }
    assertThat(head.responseBytes()).isEmpty();
    assertThat(head.declaredContentLength()).isEqualTo(5);
    assertThat(head.isClosed()).isTrue();

    RecordingExchange noContent = RecordingExchange.get("/");
    noContent.startResponse(204, Headers.empty(), -1);
    noContent.responseBody().close();
    assertThat(noContent.responseBytes()).isEmpty();
    assertThat(noContent.isClosed()).isTrue();
  }

  @Test
  void executorOffloadsWithTheOffloadHandlerAndCompletesTheHandle() throws IOException {
    FakeTicker ticker = new FakeTicker();
    AtomicReference<Completion> completed = new AtomicReference<>();
    OffloadRouter router = OffloadRouter.builder()
        .ticker(ticker)
        .otherwise((request, context) ->
            new Decision.Offload("images", DecisionHandle.create(context.ticker(), completed::set)))
        .build();
    OffloadExecutor executor = OffloadExecutor.builder(router)
        .offloadHandler((offload, request, exchange) -> {
          byte[] body = request.body().open().readAllBytes(); // what a queue would store
          ticker.advance(Duration.ofMillis(7));
          offload.handle().complete(Outcome.SUCCESS, FailureKind.NONE, 202, 0);
          exchange.startResponse(202,
              Headers.of("Location", "/tasks/" + offload.queue() + "/" + body.length), 0);
          exchange.responseBody().close();
        })
        .build();
    RecordingExchange exchange = RecordingExchange.builder("POST", "/api/images")
        .header("Content-Type", "image/png")
        .body(new byte[] {1, 2, 3, 4})
        .build();

    executor.execute(exchange, NO_HOST);

    assertThat(exchange.status()).isEqualTo(202);
    assertThat(exchange.responseHeaders().first("Location")).hasValue("/tasks/images/4");
    assertThat(exchange.isClosed()).isTrue();
    assertThat(exchange.isAborted()).isFalse();
    assertThat(exchange.isRequestBodyOpened()).isTrue();
    assertThat(completed.get()).isEqualTo(new Completion(Outcome.SUCCESS, FailureKind.NONE, 202,
        Duration.ofMillis(7).toNanos(), 0));
  }

  @Test
  void anOffloadAnswerCarriesTheGuardsResponseHeadersOverTheHandlersOwn() throws IOException {
    OffloadRouter router = OffloadRouter.builder()
        .guard("limit", (request, context) -> GuardVerdict.admit()
            .withResponseHeaders(Headers.of("RateLimit", "limit=10, remaining=9")))
        .otherwise((request, context) ->
            new Decision.Offload("images", DecisionHandle.create(context.ticker())))
        .build();
    OffloadExecutor executor = OffloadExecutor.builder(router)
        .offloadHandler((offload, request, exchange) -> {
          offload.handle().onSuccess();
          exchange.startResponse(202, Headers.of("Location", "/tasks/1", "RateLimit", "stale"), 0);
          exchange.responseBody().close();
        })
        .build();
    RecordingExchange exchange = RecordingExchange.get("/api/images");

    executor.execute(exchange, NO_HOST);

    assertThat(exchange.status()).isEqualTo(202);
    assertThat(exchange.responseHeaders().all("RateLimit")).containsExactly("limit=10, remaining=9");
    assertThat(exchange.responseHeaders().first("Location")).hasValue("/tasks/1");
  }

  @Test
  void executorRejectsWithAProblemDocumentWithoutReadingTheBody() throws IOException {
    OffloadRouter router = OffloadRouter.builder()
        .otherwise(OffloadStrategy.reject(429, "slow down"))
        .build();
    RecordingExchange exchange = RecordingExchange.builder("POST", "/x").body("ignored").build();

    OffloadExecutor.of(router).execute(exchange, NO_HOST);

    assertThat(exchange.status()).isEqualTo(429);
    assertThat(exchange.responseHeaders().first("Content-Type"))
        .hasValue("application/problem+json");
    // the body was left unread, so the executor asks the server to close the connection
    assertThat(exchange.responseHeaders().first("Connection")).hasValue("close");
    assertThat(exchange.bodyText()).contains("\"status\":429").contains("slow down");
    assertThat(exchange.isRequestBodyOpened()).isFalse();
  }

  @Test
  void executorRunsTheHostOnPassThroughWithTheGuardsHeaders() throws IOException {
    FakeTicker ticker = new FakeTicker();
    AtomicReference<Completion> completed = new AtomicReference<>();
    OffloadRouter router = OffloadRouter.builder()
        .ticker(ticker)
        .guard("rate", (request, context) -> GuardVerdict.admit()
            .withResponseHeaders(Headers.of("RateLimit", "limit=10, remaining=9")))
        .otherwise((request, context) ->
            new Decision.PassThrough(DecisionHandle.create(context.ticker(), completed::set)))
        .build();
    RecordingExchange exchange = RecordingExchange.get("/page");

    OffloadExecutor.of(router).execute(exchange, (HostHandler<RuntimeException>) (headers, fill) -> {
      ticker.advance(Duration.ofMillis(40));
      try {
        exchange.startResponse(200, headers.toBuilder().set("Content-Type", "text/plain").build(),
            2);
        try (OutputStream out = exchange.responseBody()) {
          out.write("ok".getBytes(UTF_8));
        }
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      return new HostHandler.HostResponse(200, 2);
    });

    assertThat(exchange.status()).isEqualTo(200);
    assertThat(exchange.responseHeaders().first("RateLimit")).hasValue("limit=10, remaining=9");
    assertThat(exchange.bodyText()).isEqualTo("ok");
    assertThat(completed.get()).isEqualTo(new Completion(Outcome.SUCCESS, FailureKind.NONE, 200,
        Duration.ofMillis(40).toNanos(), 2));
  }

  @Test
  void executorRefusesAnHttp11RequestWithoutHost() throws IOException {
    OffloadRouter router = OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build();
    RecordingExchange exchange = RecordingExchange.builder("GET", "/").withoutHost().build();

    OffloadExecutor.of(router).execute(exchange, NO_HOST);

    assertThat(exchange.status()).isEqualTo(400);
    assertThat(exchange.bodyText()).contains("missing Host");
  }
}
