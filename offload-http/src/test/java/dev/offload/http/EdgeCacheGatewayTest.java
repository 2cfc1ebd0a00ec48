package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.testing.FakeTicker;
import dev.offload.http.Loopback.RawBackend;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ArgumentsSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The edge cache on real loopback sockets through both adapters: filled from a backend through
 * the forwarder and from the host's own handler on a pass-through, then answered without either.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class EdgeCacheGatewayTest {
  @Parameter Gateway server;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofMillis(Loopback.TIMEOUT_MS))
      .build();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  private Gateway.Running gateway(EdgeCache cache, URI backend, Gateway.Host host,
      String... trustedProxies) throws Exception {
    OffloadRouter router = OffloadRouter.builder()
        .route("img", Route.get("/img/**"),
            CdnStrategy.edgeCache(cache).from(Backend.of("static", backend)))
        .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(cache))
        .build();
    return closing(server.start(
        OffloadExecutor.builder(router).trustedProxies(trustedProxies).build(), host));
  }

  private HttpResponse<String> get(Gateway.Running gw, String target, String... headers)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(gw.uri().resolve(target))
        .timeout(Duration.ofMillis(Loopback.TIMEOUT_MS));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString(UTF_8));
  }

  private static Loopback.Backend backend(String cacheControl, String body) throws IOException {
    Loopback.Backend b = new Loopback.Backend();
    b.responder = ex -> {
      ex.getResponseHeaders().set("Cache-Control", cacheControl);
      ex.getResponseHeaders().set("Content-Type", "image/png");
      Loopback.respond(ex, 200, body.getBytes(UTF_8));
    };
    return b;
  }

  @Test
  void fillsFromABackendThenAnswersWithoutContactingIt() throws Exception {
    Loopback.Backend origin = closing(backend("max-age=60", "png-bytes"));
    Gateway.Running gw = gateway(EdgeCache.ofDefaults(), origin.uri(),
        Gateway.Host.answering("host"));

    HttpResponse<String> miss = get(gw, "/img/a.png");
    HttpResponse<String> hit = get(gw, "/img/a.png");

    assertThat(miss.headers().firstValue("X-Cache-Status")).contains("MISS");
    assertThat(hit.statusCode()).isEqualTo(200);
    assertThat(hit.body()).isEqualTo("png-bytes");
    assertThat(hit.headers().firstValue("X-Cache-Status")).contains("HIT");
    assertThat(hit.headers().firstValue("Age")).isPresent();
    assertThat(hit.headers().firstValue("Content-Type")).contains("image/png");
    assertThat(origin.received).hasSize(1);

    HttpResponse<String> notModified = get(gw, "/img/a.png", "If-None-Match", "*");
    assertThat(notModified.statusCode()).isEqualTo(304);
    assertThat(origin.received).hasSize(1);
  }

  @Test
  void fillsFromTheHostsOwnHandlerOnAPassThroughThenAnswersWithoutCallingItAgain()
      throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(server != Gateway.NETTY,
        "a pass-through on Netty's loop does not fill the edge cache yet (README, Netty)");
    AtomicInteger calls = new AtomicInteger();
    Gateway.Host host = request -> {
      calls.incrementAndGet();
      return new Gateway.Reply(200, "body{}".getBytes(UTF_8),
          Map.of("Cache-Control", "public, max-age=60", "Content-Type", "text/css"));
    };
    Gateway.Running gw = gateway(EdgeCache.ofDefaults(), URI.create("http://127.0.0.1:" + Loopback.closedPort()), host);

    HttpResponse<String> miss = get(gw, "/static/app.css");
    HttpResponse<String> hit = get(gw, "/static/app.css");

    assertThat(miss.body()).isEqualTo("body{}");
    assertThat(miss.headers().firstValue("X-Cache-Status")).contains("MISS");
    assertThat(hit.body()).isEqualTo("body{}");
    assertThat(hit.headers().firstValue("X-Cache-Status")).contains("HIT");
    assertThat(hit.headers().firstValue("Content-Type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("text/css"));
    assertThat(calls).hasValue(1);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"Set-Cookie", "private"})
  void neverStoresAResponseWithSetCookieOrPrivate(String kind) throws Exception {
    Loopback.Backend origin = closing(new Loopback.Backend());
    origin.responder = ex -> {
      if (kind.equals("Set-Cookie")) {
        ex.getResponseHeaders().set("Cache-Control", "public, max-age=60");
        ex.getResponseHeaders().set("Set-Cookie", "session=alice");
      } else {
        ex.getResponseHeaders().set("Cache-Control", "private, max-age=60");
      }
      Loopback.respond(ex, 200, "alice's".getBytes(UTF_8));
    };
    EdgeCache cache = EdgeCache.ofDefaults();
    Gateway.Running gw = gateway(cache, origin.uri(), Gateway.Host.answering("host"));

    get(gw, "/img/me.png");
    HttpResponse<String> second = get(gw, "/img/me.png");

    assertThat(second.headers().firstValue("X-Cache-Status")).contains("MISS");
    assertThat(origin.received).hasSize(2);
    assertThat(cache.size()).isZero();
  }

  @Test
  void neverStoresATruncatedOriginBody() throws Exception {
    RawBackend origin = closing(new RawBackend(socket -> {
      socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n"
          + "Content-Length: 100\r\n\r\nonly-part").getBytes(ISO_8859_1));
      socket.getOutputStream().flush();
    }));
    EdgeCache cache = EdgeCache.ofDefaults();
    Gateway.Running gw = gateway(cache, origin.uri(), Gateway.Host.answering("host"));

    assertThatThrownBy(() -> get(gw, "/img/cut.png")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> get(gw, "/img/cut.png")).isInstanceOf(IOException.class);

    assertThat(origin.requests).hasSize(2);
    assertThat(cache.size()).isZero();
  }

  @Test
  void aPoisoningAttemptViaXForwardedHostDoesNotChangeTheCachedResponseForOthers()
      throws Exception {
    Loopback.Backend origin = closing(new Loopback.Backend());
    origin.responder = ex -> {
      String host = ex.getRequestHeaders().getFirst("X-Forwarded-Host");
      ex.getResponseHeaders().set("Cache-Control", "max-age=60");
      // a backend that builds absolute URLs from X-Forwarded-Host
      Loopback.respond(ex, 200, ("<script src=//" + host + "/app.js>").getBytes(UTF_8));
    };
    // a trusted proxy's X-Forwarded-Host is relayed as received: the case that poisons caches
    Gateway.Running gw = gateway(EdgeCache.ofDefaults(), origin.uri(),
        Gateway.Host.answering("host"), "127.0.0.1");

    HttpResponse<String> attack = get(gw, "/img/page", "X-Forwarded-Host", "evil.example");
    HttpResponse<String> victim = get(gw, "/img/page");
    HttpResponse<String> later = get(gw, "/img/page");

    assertThat(attack.body()).contains("evil.example");
    assertThat(attack.headers().firstValue("X-Cache-Status")).contains("BYPASS");
    assertThat(victim.body()).doesNotContain("evil.example");
    assertThat(later.body()).doesNotContain("evil.example");
    assertThat(later.headers().firstValue("X-Cache-Status")).contains("HIT");
  }

  @Test
  void aStaleResponseAnswersWhenTheBackendFailsWithinStaleIfError() throws Exception {
    FakeTicker ticker = new FakeTicker();
    Loopback.Backend origin = closing(backend("max-age=1, stale-if-error=60", "old but fine"));
    EdgeCache cache = EdgeCache.builder().ticker(ticker).build();
    OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .route("img", Route.get("/img/**"),
            CdnStrategy.edgeCache(cache).from(Backend.of("static", origin.uri())))
        .build();
    Gateway.Running gw = closing(server.start(OffloadExecutor.of(router),
        Gateway.Host.answering("host")));
    assertThat(get(gw, "/img/a.png").headers().firstValue("X-Cache-Status")).contains("MISS");
    ticker.advance(Duration.ofSeconds(5));

    origin.responder = ex -> Loopback.respond(ex, 503, "down".getBytes(UTF_8));
    HttpResponse<String> onServerError = get(gw, "/img/a.png");
    origin.close();
    HttpResponse<String> onConnectError = get(gw, "/img/a.png");

    for (HttpResponse<String> r : List.of(onServerError, onConnectError)) {
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("old but fine");
      assertThat(r.headers().firstValue("X-Cache-Status")).contains("STALE");
      assertThat(r.headers().firstValue("Age")).contains("5");
    }
    assertThat(origin.received).hasSize(2);
  }

  @Test
  void aStaleResponseIsRevalidatedWithItsETagAndA304AnswersFromMemory() throws Exception {
    FakeTicker ticker = new FakeTicker();
    Loopback.Backend origin = closing(new Loopback.Backend());
    origin.responder = ex -> {
      ex.getResponseHeaders().set("Cache-Control", "max-age=10");
      ex.getResponseHeaders().set("ETag", "\"v1\"");
      if ("\"v1\"".equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
        Loopback.respond(ex, 304, new byte[0]);
      } else {
        Loopback.respond(ex, 200, "the whole body".getBytes(UTF_8));
      }
    };
    EdgeCache cache = EdgeCache.builder().ticker(ticker).build();
    OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .route("img", Route.get("/img/**"),
            CdnStrategy.edgeCache(cache).from(Backend.of("static", origin.uri())))
        .build();
    Gateway.Running gw = closing(server.start(OffloadExecutor.of(router),
        Gateway.Host.answering("host")));
    get(gw, "/img/a.png");
    ticker.advance(Duration.ofSeconds(30));

    HttpResponse<String> revalidated = get(gw, "/img/a.png");
    HttpResponse<String> hit = get(gw, "/img/a.png");

    assertThat(revalidated.statusCode()).isEqualTo(200);
    assertThat(revalidated.body()).isEqualTo("the whole body");
    assertThat(revalidated.headers().firstValue("X-Cache-Status")).contains("REVALIDATED");
    assertThat(hit.headers().firstValue("X-Cache-Status")).contains("HIT");
    assertThat(origin.received).hasSize(2);
    origin.take();
    assertThat(origin.take().header("If-None-Match")).isEqualTo("\"v1\"");
  }

  @Test
  void staleWhileRevalidateAnswersStaleThenRefreshesOnTheBackgroundExecutor() throws Exception {
    FakeTicker ticker = new FakeTicker();
    Loopback.Backend origin = closing(backend("max-age=60, stale-while-revalidate=30", "v1"));
    EdgeCache cache = EdgeCache.builder().ticker(ticker).build();
    OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .route("img", Route.get("/img/**"),
            CdnStrategy.edgeCache(cache).from(Backend.of("static", origin.uri())))
        .build();
    java.util.concurrent.BlockingQueue<Runnable> background =
        new java.util.concurrent.LinkedBlockingQueue<>();
    Gateway.Running gw = closing(server.start(
        OffloadExecutor.builder(router).backgroundExecutor(background::add).build(),
        Gateway.Host.answering("host")));
    get(gw, "/img/a.png");
    ticker.advance(Duration.ofSeconds(70));
    origin.responder = ex -> {
      ex.getResponseHeaders().set("Cache-Control", "max-age=60");
      Loopback.respond(ex, 200, "v2".getBytes(UTF_8));
    };

    HttpResponse<String> stale = get(gw, "/img/a.png");
    assertThat(stale.body()).isEqualTo("v1");
    assertThat(stale.headers().firstValue("X-Cache-Status")).contains("STALE");
    assertThat(origin.received).hasSize(1);

    Runnable refresh = background.poll(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
    assertThat(refresh).isNotNull();
    refresh.run();
    assertThat(origin.received).hasSize(2);
    HttpResponse<String> hit = get(gw, "/img/a.png");
    assertThat(hit.body()).isEqualTo("v2");
    assertThat(hit.headers().firstValue("X-Cache-Status")).contains("HIT");
    assertThat(background).isEmpty();
  }

  @Test
  void concurrentMissesForOneUrlMakeOneOriginRequest() throws Exception {
    int clients = 200;
    int waitingBeforeTheOriginAnswers = 100; // Jetty's pool (200 threads) must not run dry
    CountDownLatch decided = new CountDownLatch(waitingBeforeTheOriginAnswers);
    AtomicInteger originCalls = new AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean othersWaited =
        new java.util.concurrent.atomic.AtomicBoolean();
    Loopback.Backend origin = closing(new Loopback.Backend());
    origin.responder = ex -> {
      originCalls.incrementAndGet();
      try {
        // answer only once many requests are waiting for this fetch
        othersWaited.set(decided.await(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ex.getResponseHeaders().set("Cache-Control", "max-age=60");
      Loopback.respond(ex, 200, "shared".getBytes(UTF_8));
    };
    OffloadStrategy cached = CdnStrategy.edgeCache(EdgeCache.ofDefaults())
        .from(Backend.of("static", origin.uri()));
    OffloadRouter router = OffloadRouter.builder()
        .route("img", Route.get("/img/**"), (request, context) -> {
          Decision decision = cached.decide(request, context);
          decided.countDown();
          return decision;
        })
        .build();
    Gateway.Running gw = closing(server.start(OffloadExecutor.of(router),
        Gateway.Host.answering("host")));
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    closing(pool::shutdownNow);

    List<Future<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      responses.add(pool.submit(() -> get(gw, "/img/hot.png")));
    }
    for (Future<HttpResponse<String>> response : responses) {
      HttpResponse<String> r = response.get(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("shared");
    }
    assertThat(othersWaited).as("100 requests were decided while the origin was busy").isTrue();
    assertThat(originCalls).hasValue(1);
    assertThat(origin.received).hasSize(1);
  }
}
