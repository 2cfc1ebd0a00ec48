package com.example.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.jdk.OffloadHttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import kotlin.KotlinVersion;
import org.junit.jupiter.api.Test;

class BootVersionsTest {
  /** Answers {@code body}, cacheable for a minute. */
  private static HttpHandler answering(String body) {
    return exchange -> {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Cache-Control", "public, max-age=60");
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    };
  }

  private static HttpServer server(String body, ExecutorService threads) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext("/", answering(body));
    s.setExecutor(threads);
    s.start();
    return s;
  }

  @Test
  void forwardsCachesAndCountsOnBootsVersions() throws Exception {
    assertTrue(KotlinVersion.CURRENT.toString().startsWith("1.9."),
        "Boot 3.5's Kotlin stdlib is on the class path: " + KotlinVersion.CURRENT);
    ExecutorService threads = Executors.newFixedThreadPool(8);
    HttpServer backend = server("from the backend", threads);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = OffloadRouter.builder().meterRegistry(registry)
        .route("api", Route.prefix("/api"), FailoverStrategy.to(Backend.of("api",
            URI.create("http://127.0.0.1:" + backend.getAddress().getPort()))))
        .route("img", Route.get("/img/**"), CdnStrategy.edgeCache(
            EdgeCache.builder().maximumBytes(1 << 20).meterRegistry(registry).build()))
        .build();
    OffloadExecutor executor = OffloadExecutor.of(router);
    HttpServer gateway = OffloadHttpServer.wrap(
        HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0), executor);
    gateway.createContext("/img", answering("image"));
    gateway.setExecutor(threads);
    gateway.start();
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String base = "http://127.0.0.1:" + gateway.getAddress().getPort();
    try {
      HttpResponse<String> api = client.send(HttpRequest.newBuilder(URI.create(base + "/api/x"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals("from the backend", api.body(), "forwarded through OkHttp 5");
      for (int i = 0; i < 2; i++) {
        HttpResponse<String> img = client.send(HttpRequest.newBuilder(URI.create(base
            + "/img/a.png")).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals("image", img.body());
      }
    } finally {
      gateway.stop(0);
      executor.close();
      backend.stop(0);
      threads.shutdown();
    }
    assertEquals(1.0, registry.get("offload.cache.requests").tag("result", "hit").counter()
        .count(), "the second image came from the edge cache (Caffeine)");
    assertEquals(1L, registry.get("offload.forward.requests").tag("backend", "api").timer()
        .count());
  }
}
