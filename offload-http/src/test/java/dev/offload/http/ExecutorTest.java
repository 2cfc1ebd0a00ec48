package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpHandler;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Outcome;
import dev.offload.core.Route;
import dev.offload.core.cache.CachedResponse;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import dev.offload.http.Loopback.Server;
import dev.offload.http.jdk.OffloadHttpHandler;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The executor's own decisions and refusals, through the JDK adapter on loopback. */
class ExecutorTest {
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final AtomicInteger hostCalls = new AtomicInteger();
  private final HttpHandler host = ex -> {
    hostCalls.incrementAndGet();
    Loopback.respond(ex, 200, "host".getBytes(UTF_8));
  };

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private Server gateway(OffloadStrategy strategy) throws IOException {
    return gateway(OffloadExecutor.builder(router(strategy)).build(), host);
  }

  private Server gateway(OffloadExecutor executor, HttpHandler hostHandler) throws IOException {
    Server server = Loopback.gateway(executor, hostHandler);
    closeables.add(server);
    return server;
  }

  private static OffloadRouter router(OffloadStrategy strategy) {
    return OffloadRouter.builder().route("all", Route.prefix("/x/"), strategy).build();
  }

  private static Response exchange(Server gw, String request) throws IOException {
    try (RawClient client = new RawClient(gw.port())) {
      return client.send(request).read(request.startsWith("HEAD"));
    }
  }

  @Test
  void connectIsNeverTunnelled() throws Exception {
    Server gw = gateway(OffloadStrategy.passThrough());
    // authority-form: the JDK server itself closes the connection without an answer
    try (RawClient client = new RawClient(gw.port())) {
      client.send("CONNECT internal.example:22 HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.closedByServer()).isTrue();
    }
    // any form that reaches the executor is refused with 405
    Response response = exchange(gw, "CONNECT /x/a HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(response.status()).isEqualTo(405);
    assertThat(response.header("Allow")).doesNotContain("CONNECT");
    assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
    assertThat(hostCalls).hasValue(0);
  }

  @Test
  void twoHostHeadersAreRefusedWith400AndClose() throws Exception {
    Server gw = gateway(OffloadStrategy.passThrough());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(
          "GET /x/a HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.bodyText()).contains("more than one Host");
      assertThat(client.closedByServer()).isTrue();
    }
    assertThat(hostCalls).hasValue(0);
  }

  @Test
  void contentLengthWithTransferEncodingIsRefusedWith400AndClose() throws Exception {
    Server gw = gateway(OffloadStrategy.passThrough());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("POST /x/a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x/smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
          .read();
      // JDK 17.0.15 refuses this itself ("Conflicting or malformed headers detected"); the
      // executor's own check (below) covers servers that do not
      assertThat(response.status()).isEqualTo(400);
      assertThat(client.closedByServer()).as("nothing after it is read as a request").isTrue();
    }
    assertThat(hostCalls).hasValue(0);
  }

  @Test
  void theExecutorRefusesAmbiguousFramingWhateverTheServerDid() {
    assertThat(OffloadExecutor.framingError(
        Headers.of("Content-Length", "4", "Transfer-Encoding", "chunked")))
        .isEqualTo("both Content-Length and Transfer-Encoding");
    assertThat(OffloadExecutor.framingError(Headers.of("Host", "a", "Host", "b")))
        .isEqualTo("more than one Host");
    assertThat(OffloadExecutor.framingError(Headers.of("Host", "a, b")))
        .isEqualTo("more than one Host");
    assertThat(OffloadExecutor.framingError(Headers.of("Content-Length", "1", "Content-Length", "1")))
        .isEqualTo("more than one Content-Length");
    assertThat(OffloadExecutor.framingError(Headers.of("Content-Length", "+4")))
        .isEqualTo("invalid Content-Length");
    assertThat(OffloadExecutor.framingError(Headers.of("Transfer-Encoding", "gzip, chunked")))
        .isEqualTo("unsupported Transfer-Encoding");
    assertThat(OffloadExecutor.framingError(Headers.of("Host", "a", "Content-Length", "12")))
        .isNull();
  }

  @Test
  void passThroughReachesTheHostHandlerUntouched() throws Exception {
    CompletableFuture<String> seen = new CompletableFuture<>();
    Server gw = gateway(OffloadExecutor.of(router(OffloadStrategy.passThrough())), ex -> {
      seen.complete(ex.getRequestMethod() + " " + ex.getRequestURI() + " "
          + ex.getRequestHeaders().getFirst("X-Custom") + " "
          + new String(ex.getRequestBody().readAllBytes(), UTF_8));
      Loopback.respond(ex, 201, "made".getBytes(UTF_8));
    });
    Response response = exchange(gw,
        "POST /x/a%20b?q=1 HTTP/1.1\r\nHost: a\r\nX-Custom: v\r\nContent-Length: 4\r\n\r\nbody");
    assertThat(response.status()).isEqualTo(201);
    assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo("POST /x/a%20b?q=1 v body");
  }

  @Test
  void anExceptionFromTheHostHandlerPropagatesUnchanged() throws Exception {
    IllegalStateException thrown = new IllegalStateException("host bug");
    HttpHandler wrapped = OffloadHttpHandler.wrap(router(OffloadStrategy.passThrough()), ex -> {
      throw thrown;
    });
    CompletableFuture<Throwable> caught = new CompletableFuture<>();
    Server gw = new Server(ex -> {
      try {
        wrapped.handle(ex);
      } catch (RuntimeException e) {
        caught.complete(e);
        throw e;
      }
    });
    closeables.add(gw);
    try (RawClient client = new RawClient(gw.port())) {
      client.send("GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(caught.get(10, TimeUnit.SECONDS)).isSameAs(thrown);
    }
  }

  @Test
  void redirectAnswersWithTheLocationAndDecisionHeaders() throws Exception {
    Server gw = gateway((request, context) -> new Decision.Redirect(308,
        URI.create("https://cdn.example/x/app.css"), Headers.of("Cache-Control", "max-age=60")));
    Response response = exchange(gw, "GET /x/app.css HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(308);
    assertThat(response.header("Location")).isEqualTo("https://cdn.example/x/app.css");
    assertThat(response.header("Cache-Control")).isEqualTo("max-age=60");
    assertThat(hostCalls).hasValue(0);
  }

  @Test
  void rejectIsAProblemDocumentWithTheDecisionHeaders() throws Exception {
    Server gw = gateway((request, context) -> new Decision.Reject(429, "slow \"down\"\n",
        Map.of("Retry-After", "7")));
    Response response = exchange(gw, "GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(429);
    assertThat(response.header("Retry-After")).isEqualTo("7");
    assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyText()).isEqualTo("{\"type\":\"about:blank\",\"title\":"
        + "\"Too Many Requests\",\"status\":429,\"detail\":\"slow \\\"down\\\"\\n\"}");
  }

  @Test
  void serveCachedWritesTheResponseAndCompletesTheHandle() throws Exception {
    CachedResponse cached = CachedResponse.of(200, Headers.of("Content-Type", "text/plain"),
        "cached!".getBytes(UTF_8));
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    Server gw = gateway((request, context) ->
        new Decision.ServeCached(cached, DecisionHandle.create(outcome::set)));
    Response response = exchange(gw, "GET /x/robots.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.bodyText()).isEqualTo("cached!");
    assertThat(response.header("Content-Length")).isEqualTo("7");
    Response head = exchange(gw, "HEAD /x/robots.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(head.header("Content-Length")).isEqualTo("7");
    gw.awaitHandled(2);
    assertThat(outcome.get()).isEqualTo(Outcome.SUCCESS);
  }

  @Test
  void offloadWithoutAHandlerIs503AndTheHandleIsDropped() throws Exception {
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    Server gw = gateway((request, context) ->
        new Decision.Offload("images", DecisionHandle.create(outcome::set)));
    Response response = exchange(gw, "POST /x/resize HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.bodyText()).contains("no offload handler configured");
    gw.awaitHandled(1);
    assertThat(outcome.get()).isEqualTo(Outcome.DROPPED);
  }

  @Test
  void aThrowingOffloadHandlerFailsTheHandleAndAnswers500() throws Exception {
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    OffloadExecutor executor = OffloadExecutor.builder(router((request, context) ->
            new Decision.Offload("images", DecisionHandle.create(outcome::set))))
        .offloadHandler((offload, request, exchange) -> {
          throw new IllegalStateException("queue down: secret internals");
        })
        .build();
    Server gw = gateway(executor, host);
    Response response = exchange(gw, "GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.bodyText()).doesNotContain("secret");
    gw.awaitHandled(1);
    assertThat(outcome.get()).isEqualTo(Outcome.FAILURE);
  }

  @Test
  void anOffloadHandlerAnswersAndCompletesTheHandle() throws Exception {
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    OffloadExecutor executor = OffloadExecutor.builder(router((request, context) ->
            new Decision.Offload("images", DecisionHandle.create(outcome::set))))
        .offloadHandler((offload, request, exchange) -> {
          offload.handle().onSuccess();
          exchange.startResponse(202, Headers.of("Location", "/tasks/1"), 0);
          exchange.responseBody().close();
        })
        .build();
    Server gw = gateway(executor, host);
    Response response = exchange(gw, "GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(202);
    assertThat(response.header("Location")).isEqualTo("/tasks/1");
    gw.awaitHandled(1);
    assertThat(outcome.get()).isEqualTo(Outcome.SUCCESS);
  }

  @Test
  void builderRejectsBadSettingsNamingThem() {
    OffloadExecutor.Builder builder = OffloadExecutor.builder(router(OffloadStrategy.passThrough()));
    assertThatThrownBy(() -> builder.maxRequestBodyBytes(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRequestBodyBytes");
    assertThatThrownBy(() -> builder.trustedProxies("10.0.0.0/33"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trustedProxies");
    assertThatThrownBy(() -> builder.trustedProxies("example.com"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trustedProxies");
    assertThatThrownBy(() -> builder.offloadHandler(null))
        .isInstanceOf(NullPointerException.class).hasMessage("offloadHandler");
  }
}
