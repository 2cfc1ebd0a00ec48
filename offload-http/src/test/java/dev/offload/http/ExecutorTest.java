package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.CachedResponse;
import dev.offload.core.Completion;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Outcome;
import dev.offload.core.Route;
import dev.offload.core.failover.BackendLoad;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Received;
import dev.offload.http.Loopback.Response;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * The executor's own decisions and refusals on loopback, each through both adapters: the JDK
 * {@code HttpServer} and embedded Jetty 12.
 */
class ExecutorTest {
  @RegisterExtension final Closer closer = new Closer();
  private final AtomicInteger hostCalls = new AtomicInteger();
  private final Gateway.Host host = request -> {
    hostCalls.incrementAndGet();
    return new Gateway.Reply(200, "host".getBytes(UTF_8));
  };


  private Gateway.Running gateway(Gateway server, OffloadStrategy strategy) throws Exception {
    return gateway(server, OffloadExecutor.builder(router(strategy)).build(), host);
  }

  private Gateway.Running gateway(Gateway server, OffloadExecutor executor, Gateway.Host hostHandler)
      throws Exception {
    Gateway.Running running = server.start(executor, hostHandler);
    closer.add(running);
    return running;
  }

  private static OffloadRouter router(OffloadStrategy strategy) {
    return OffloadRouter.builder().route("all", Route.prefix("/x/"), strategy).build();
  }

  private static Response exchange(Gateway.Running gw, String request) throws Exception {
    try (RawClient client = new RawClient(gw.port())) {
      return client.send(request).read(request.startsWith("HEAD"));
    }
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void connectIsNeverTunnelled(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, OffloadStrategy.passThrough());
    // authority-form, the form CONNECT has (RFC 9110 section 9.3.6): neither server lets it
    // reach a handler. The JDK server closes the connection without an answer; Jetty answers
    // 400 itself and keeps the connection (there was no body, so its framing is not in doubt).
    try (RawClient client = new RawClient(gw.port())) {
      Response response =
          client.send("CONNECT internal.example:22 HTTP/1.1\r\nHost: x\r\n\r\n").readOrClosed();
      if (server == Gateway.JDK) {
        assertThat(response).isNull();
      } else {
        assertThat(response).isNotNull();
        assertThat(response.status()).isEqualTo(400);
      }
    }
    // origin-form: the JDK server hands it to the executor, which refuses it with 405 and
    // closes; Jetty refuses a CONNECT without an authority itself (400) and closes
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("CONNECT /x/a HTTP/1.1\r\nHost: x\r\n\r\n").read();
      if (server == Gateway.JDK) {
        assertThat(response.status()).isEqualTo(405);
        assertThat(response.header("Allow")).doesNotContain("CONNECT");
        assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
      } else {
        assertThat(response.status()).isEqualTo(400);
      }
      assertThat(client.closedByServer()).isTrue();
    }
    assertThat(hostCalls).as("never tunnelled, never passed to the host").hasValue(0);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void traceIsRefusedAndNeverReachesTheBackendOrTheHost(Gateway server) throws Exception {
    Loopback.Backend backend = new Loopback.Backend();
    closer.add(backend);
    dev.offload.core.Backend target = dev.offload.core.Backend.of("b", backend.uri());
    Gateway.Running gw = gateway(server, (request, context) ->
        BackendLoad.of(target).forward(context));
    for (String path : List.of("/x/a", "/elsewhere")) { // forwarded, passed through
      try (RawClient client = new RawClient(gw.port())) {
        Response response = client.send("TRACE " + path + " HTTP/1.1\r\nHost: a\r\n"
            + "Cookie: session=secret\r\nAuthorization: Bearer secret\r\n\r\n").read();
        assertThat(response.status()).isEqualTo(405);
        assertThat(response.header("Allow")).doesNotContain("TRACE").doesNotContain("CONNECT");
        assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(response.bodyText()).doesNotContain("secret");
        assertThat(client.closedByServer()).isTrue();
      }
    }
    gw.awaitHandled(2);
    assertThat(backend.received).isEmpty();
    assertThat(hostCalls).hasValue(0);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void aHostWithUserinfoIsRefusedWith400AndCloseAndNeverRelayed(Gateway server)
      throws Exception {
    Loopback.Backend backend = new Loopback.Backend();
    closer.add(backend);
    dev.offload.core.Backend target = dev.offload.core.Backend.of("b", backend.uri());
    Gateway.Running gw = gateway(server, (request, context) ->
        BackendLoad.of(target).forward(context));
    for (String path : List.of("/x/a", "/elsewhere")) { // forwarded, passed through
      try (RawClient client = new RawClient(gw.port())) {
        Response response = client.send("GET " + path + " HTTP/1.1\r\n"
            + "Host: a@127.0.0.1:18099\r\n\r\n").read();
        assertThat(response.status()).isEqualTo(400);
        if (server == Gateway.JDK) {
          assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
          assertThat(response.bodyText()).contains("invalid Host");
        } // Jetty 12 refuses it itself, before any filter runs; HostHeaderTest covers the rest
        assertThat(client.closedByServer()).isTrue();
      }
    }
    assertThat(backend.received).isEmpty();
    assertThat(hostCalls).hasValue(0);
    // a valid one, an IPv6 literal with a port, is not refused
    Response ok = exchange(gw, "GET /x/a HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
    assertThat(ok.status()).isEqualTo(200);
    assertThat(backend.take().header("X-Forwarded-Host")).isEqualTo("[::1]:8080");
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void twoHostHeadersAreRefusedWith400AndClose(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, OffloadStrategy.passThrough());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("GET /x/a HTTP/1.1\r\nHost: a.example\r\n"
          + "Host: b.example\r\n\r\nGET /x/smuggled HTTP/1.1\r\nHost: a\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(400);
      // the JDK server passes both fields to the executor, which refuses them; Jetty refuses
      // them itself ("Duplicate Host Header") before any filter runs
      assertThat(response.bodyText())
          .contains(server == Gateway.JDK ? "more than one Host" : "Duplicate Host Header");
      assertThat(client.closedByServer()).as("nothing after it is read as a request").isTrue();
    }
    assertThat(hostCalls).hasValue(0);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void contentLengthWithTransferEncodingIsRefusedWith400AndClose(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, OffloadStrategy.passThrough());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("POST /x/a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x/smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
          .read();
      // both servers refuse this themselves, before the adapter runs (JDK 17.0.15: "Conflicting
      // or malformed headers detected"; Jetty 12: "Transfer-Encoding and Content-Length"); the
      // executor's own check (below) covers servers that do not
      assertThat(response.status()).isEqualTo(400);
      assertThat(client.closedByServer()).as("nothing after it is read as a request").isTrue();
    }
    assertThat(hostCalls).as("neither the POST nor the smuggled GET reached the host").hasValue(0);
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

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void passThroughReachesTheHostHandlerUntouched(Gateway server) throws Exception {
    CompletableFuture<Received> seen = new CompletableFuture<>();
    Gateway.Running gw = gateway(server, OffloadExecutor.of(router(OffloadStrategy.passThrough())),
        request -> {
          seen.complete(request);
          return new Gateway.Reply(201, "made".getBytes(UTF_8));
        });
    Response response = exchange(gw,
        "POST /x/a%20b?q=1 HTTP/1.1\r\nHost: a\r\nX-Custom: v\r\nContent-Length: 4\r\n\r\nbody");
    assertThat(response.status()).isEqualTo(201);
    assertThat(response.bodyText()).isEqualTo("made");
    Received received = seen.get(10, TimeUnit.SECONDS);
    assertThat(received.method()).isEqualTo("POST");
    assertThat(received.target()).isEqualTo("/x/a%20b?q=1");
    assertThat(received.header("X-Custom")).isEqualTo("v");
    assertThat(new String(received.body(), UTF_8)).isEqualTo("body");
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void anExceptionFromTheHostHandlerPropagatesUnchanged(Gateway server) throws Exception {
    IllegalStateException thrown = new IllegalStateException("host bug");
    Gateway.Running gw = gateway(server, OffloadExecutor.of(router(OffloadStrategy.passThrough())),
        request -> {
          throw thrown;
        });
    try (RawClient client = new RawClient(gw.port())) {
      client.send("GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n");
      // what the server makes of it (JDK: closes the connection; Jetty: a 500) is its own
      assertThat(gw.awaitThrown()).isSameAs(thrown);
    }
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void redirectAnswersWithTheLocationAndDecisionHeaders(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, (request, context) -> new Decision.Redirect(308,
        URI.create("https://cdn.example/x/app.css"), Headers.of("Cache-Control", "max-age=60")));
    Response response = exchange(gw, "GET /x/app.css HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(308);
    assertThat(response.header("Location")).isEqualTo("https://cdn.example/x/app.css");
    assertThat(response.header("Cache-Control")).isEqualTo("max-age=60");
    assertThat(hostCalls).hasValue(0);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void rejectIsAProblemDocumentWithTheDecisionHeaders(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, (request, context) -> Decision.reject(429, "slow \"down\"\n",
        Headers.of("Retry-After", "7")));
    Response response = exchange(gw, "GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(429);
    assertThat(response.header("Retry-After")).isEqualTo("7");
    assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyText()).isEqualTo("{\"type\":\"about:blank\",\"title\":"
        + "\"Too Many Requests\",\"status\":429,\"detail\":\"slow \\\"down\\\"\\n\"}");
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void aConnectionCloseFieldInTheAnswerClosesTheConnection(Gateway server) throws Exception {
    // ServerExchange.startResponse: Connection: close asks the adapter to close after the
    // response. No request body is left unread here, so nothing else would make a server close.
    Gateway.Running gw = gateway(server, (request, context) ->
        Decision.reject(503, "shedding load", Headers.of("Connection", "close")));
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(client.closedByServer()).isTrue();
    }
  }

  /** A load-shedding reject must not hold a thread while a slow client trickles its body. */
  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void aRejectLeavingTheBodyUnreadClosesAtOnceWithoutWaitingForTheBody(Gateway server)
      throws Exception {
    Gateway.Running gw = gateway(server, (request, context) ->
        Decision.reject(429, "slow down", Headers.of("Retry-After", "1")));
    try (RawClient client = new RawClient(gw.port())) {
      // 100 of the 5000 body bytes announced, and the client holds back the rest
      client.send("POST /x/a HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n")
          .send(new byte[100]);
      Response response = client.read();
      assertThat(response.status()).isEqualTo(429);
      assertThat(response.header("Connection")).isEqualTo("close");
      gw.awaitHandled(1); // the server's thread is free while the client is still connected
      assertThat(client.closedByServer()).isTrue();
    }
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void serveCachedWritesTheResponseAndCompletesTheHandle(Gateway server) throws Exception {
    CachedResponse cached = CachedResponse.of(200, Headers.of("Content-Type", "text/plain"),
        "cached!".getBytes(UTF_8));
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    Gateway.Running gw = gateway(server, (request, context) ->
        new Decision.ServeCached(cached, DecisionHandle.create(context.ticker(), c -> outcome.set(c.outcome()))));
    Response response = exchange(gw, "GET /x/robots.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.bodyText()).isEqualTo("cached!");
    assertThat(response.header("Content-Length")).isEqualTo("7");
    Response head = exchange(gw, "HEAD /x/robots.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(head.header("Content-Length")).isEqualTo("7");
    gw.awaitHandled(2);
    assertThat(outcome.get()).isEqualTo(Outcome.SUCCESS);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void offloadWithoutAHandlerIs503AndTheHandleIsDropped(Gateway server) throws Exception {
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    Gateway.Running gw = gateway(server, (request, context) ->
        new Decision.Offload("images", DecisionHandle.create(context.ticker(), c -> outcome.set(c.outcome()))));
    Response response = exchange(gw, "POST /x/resize HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.bodyText()).contains("no offload handler configured");
    gw.awaitHandled(1);
    assertThat(outcome.get()).isEqualTo(Outcome.DROPPED);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void aThrowingOffloadHandlerFailsTheHandleAndAnswers500(Gateway server) throws Exception {
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    OffloadExecutor executor = OffloadExecutor.builder(router((request, context) ->
            new Decision.Offload("images", DecisionHandle.create(context.ticker(), c -> outcome.set(c.outcome())))))
        .offloadHandler((offload, request, exchange) -> {
          throw new IllegalStateException("queue down: secret internals");
        })
        .build();
    Gateway.Running gw = gateway(server, executor, host);
    Response response = exchange(gw, "GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.bodyText()).doesNotContain("secret");
    gw.awaitHandled(1);
    assertThat(outcome.get()).isEqualTo(Outcome.FAILURE);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void anOffloadHandlerThrowingACheckedExceptionUndeclaredFailsTheHandleAndAnswers500(
      Gateway server) throws Exception {
    AtomicReference<Completion> completion = new AtomicReference<>();
    OffloadExecutor executor = OffloadExecutor.builder(router((request, context) ->
            new Decision.Offload("images", DecisionHandle.create(context.ticker(), completion::set))))
        .offloadHandler((offload, request, exchange) -> sneakyThrow(
            new java.util.concurrent.TimeoutException("queue broker timed out")))
        .build();
    Gateway.Running gw = gateway(server, executor, host);
    Response response = exchange(gw, "GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(500);
    gw.awaitHandled(1);
    assertThat(completion.get().outcome()).isEqualTo(Outcome.FAILURE);
    assertThat(completion.get().failure()).isEqualTo(FailureKind.INTERNAL_ERROR);
  }

  @SuppressWarnings("unchecked")
  private static <E extends Exception> void sneakyThrow(Exception e) throws E {
    throw (E) e;
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void anOffloadHandlerAnswersAndCompletesTheHandle(Gateway server) throws Exception {
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    OffloadExecutor executor = OffloadExecutor.builder(router((request, context) ->
            new Decision.Offload("images", DecisionHandle.create(context.ticker(), c -> outcome.set(c.outcome())))))
        .offloadHandler((offload, request, exchange) -> {
          offload.handle().onSuccess();
          exchange.startResponse(202, Headers.of("Location", "/tasks/1"), 0);
          exchange.responseBody().close();
        })
        .build();
    Gateway.Running gw = gateway(server, executor, host);
    Response response = exchange(gw, "GET /x/a HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(202);
    assertThat(response.header("Location")).isEqualTo("/tasks/1");
    gw.awaitHandled(1);
    assertThat(outcome.get()).isEqualTo(Outcome.SUCCESS);
  }

  @Test
  void builderRejectsBadSettingsNamingThem() {
    OffloadExecutor.Builder builder = OffloadExecutor.builder(router(OffloadStrategy.passThrough()));
    assertThatThrownBy(() -> builder.forwarding(f -> f.maxRequestBodyBytes(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRequestBodyBytes");
    assertThatThrownBy(() -> builder.trustedProxies("10.0.0.0/33"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trustedProxies");
    assertThatThrownBy(() -> builder.trustedProxies("example.com"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trustedProxies");
    assertThatThrownBy(() -> builder.offloadHandler(null))
        .isInstanceOf(NullPointerException.class).hasMessage("offloadHandler");
  }
}
