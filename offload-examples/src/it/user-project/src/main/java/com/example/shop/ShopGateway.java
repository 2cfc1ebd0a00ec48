package com.example.shop;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Guard;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.jdk.JdkServerLimits;
import dev.offload.http.jdk.OffloadHttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** An existing JDK HttpServer application with two contexts, with offload put in front of it. */
public final class ShopGateway implements AutoCloseable {
  private final HttpServer server;
  private final OffloadExecutor executor;
  private final ExecutorService threads = Executors.newFixedThreadPool(8);

  private ShopGateway(HttpServer server, OffloadExecutor executor) {
    this.server = server;
    this.executor = executor;
  }

  /** The shop's routing: static files to the CDN, the admin API behind a key. */
  public static OffloadRouter router(SimpleMeterRegistry registry) {
    return OffloadRouter.builder()
        .meterRegistry(registry)
        .guard("admin-key", Guard.denyWhen(
            r -> r.path().startsWith("/orders/admin") && r.header("X-Admin-Key").isEmpty(),
            401, "admin key required"))
        .route("static", Route.get("/static/**"),
            CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
        .build();   // everything else passes through to the shop's own contexts
  }

  /** Starts the shop on {@code port} (0: any free port) of 127.0.0.1. */
  public static ShopGateway start(int port, OffloadRouter router) throws IOException {
    HttpServer server = JdkServerLimits.ofDefaults()
        .createServer(new InetSocketAddress("127.0.0.1", port), 0);
    OffloadExecutor executor = OffloadExecutor.of(router);       // the router's registry
    HttpServer gateway = OffloadHttpServer.wrap(server, executor); // before any context
    gateway.createContext("/orders", exchange -> respond(exchange, "orders"));
    gateway.createContext("/users", exchange -> respond(exchange, "users"));
    ShopGateway shop = new ShopGateway(gateway, executor);
    gateway.setExecutor(shop.threads);
    gateway.start();
    return shop;
  }

  /** Returns the port the shop listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Stops taking requests, then releases offload's connections, then the threads. */
  @Override
  public void close() {
    server.stop(0);
    executor.close();
    threads.shutdown();
  }

  private static void respond(HttpExchange exchange, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
