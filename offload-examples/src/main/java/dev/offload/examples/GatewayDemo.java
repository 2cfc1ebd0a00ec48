package dev.offload.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Backend;
import dev.offload.core.Guard;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.async.TaskPool;
import dev.offload.core.async.TaskResult;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.guard.KeyResolver;
import dev.offload.core.guard.RateLimit;
import dev.offload.core.guard.RateLimitPolicy;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.async.TaskEndpoint;
import dev.offload.http.jdk.JdkServerLimits;
import dev.offload.http.jdk.OffloadHttpHandler;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A live gateway on loopback: a host application on the JDK {@code HttpServer}, wrapped with
 * offload, in front of an "orders" backend. Sends a handful of requests through it, prints what
 * each got and why, then stops everything.
 */
public final class GatewayDemo {
  private GatewayDemo() {}

  /** Runs the demo, printing to {@code out}. */
  static void run(PrintStream out) throws IOException, InterruptedException {
    System.setProperty("sun.net.httpserver.nodelay", "true");
    // request and response deadlines for the JDK server: before the JVM's first HttpServer
    JdkServerLimits.ofDefaults().apply();
    ExecutorService threads = Executors.newFixedThreadPool(16);
    HttpServer backend = server(threads, exchange -> respond(exchange, 200, "application/json",
        "{\"orders\":[1,2,3],\"seenPath\":\"" + exchange.getRequestURI().getRawPath()
            + "\",\"seenForwardedFor\":\"" + exchange.getRequestHeaders().getFirst("X-Forwarded-For")
            + "\"}"));
    Backend orders = Backend.builder("orders")
        .instance(URI.create("http://127.0.0.1:" + backend.getAddress().getPort()))
        .readTimeout(Duration.ofSeconds(5))
        .build();

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    // image resizing on one dedicated worker, never on the server's request threads
    TaskPool thumbnails = TaskPool.builder("thumbnails")
        .workers(1).queueCapacity(8)
        .validator(request -> Thumbnails.isImage(request.body()) ? Optional.empty()
            : Optional.of("the body is not an image"))
        .task(request -> TaskResult.of(200, "image/png",
            Thumbnails.resize(request.body(), 320, 240)))
        .meterRegistry(registry)
        .build();
    TaskEndpoint tasks = TaskEndpoint.builder().pool(thumbnails).build();
    OffloadRouter router = OffloadRouter.builder()
        .meterRegistry(registry)
        // one request per minute per client on the orders API: the second gets 429
        .guard("orders-limit", RateLimit.builder()
            .name("orders-limit")
            .key(KeyResolver.clientAddress())
            .limit(RateLimitPolicy.of("per-minute", 1, Duration.ofMinutes(1)))
            .appliesTo(Route.prefix("/api/orders"))
            .meterRegistry(registry)
            .build())
        .guard("admin-key", Guard.denyWhen(
            r -> r.path().startsWith("/admin") && r.header("X-Admin-Key").isEmpty(),
            401, "admin key required"))
        .route("static", Route.get("/static/**"),
            CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
        .route("orders", Route.prefix("/api/orders"), FailoverStrategy.to(orders))
        .route("thumbnails", Route.post("/api/thumbnails"), AsyncTaskStrategy.to(thumbnails))
        .route("tasks", tasks.statusRoute(), AsyncTaskStrategy.statusEndpoint())
        // answered from memory after the first request, which fills it from the host's handler
        .route("img", Route.get("/img/**"), CdnStrategy.edgeCache(
            EdgeCache.builder().maximumBytes(8 << 20).meterRegistry(registry).build()))
        .build();
    // the router's registry is the executor's too; closing releases OkHttp's connections
    OffloadExecutor executor = OffloadExecutor.builder(router).offloadHandler(tasks).build();

    AtomicInteger hostCalls = new AtomicInteger();
    HttpHandler hostApp = exchange -> {
      hostCalls.incrementAndGet();
      if (exchange.getRequestURI().getPath().startsWith("/img/")) {
        exchange.getResponseHeaders().set("Cache-Control", "public, max-age=60");
      }
      respond(exchange, 200, "text/plain",
          "hello from the host application: " + exchange.getRequestURI());
    };
    HttpServer gateway = server(threads, OffloadHttpHandler.wrap(executor, hostApp));
    String base = "http://127.0.0.1:" + gateway.getAddress().getPort();
    out.println("gateway on " + base + ", orders backend on " + orders.instances().get(0));
    out.println();

    HttpClient client = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
    try {
      for (String path : List.of("/static/app.css?v=3", "/api/orders?page=2", "/api/orders?page=3",
          "/index.html",
          "/img/logo.png", "/img/logo.png", "/admin/stats", "/static/%2e%2e/%2e%2e/etc/passwd")) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path))
            .header("X-Forwarded-For", "6.6.6.6") // spoofed: dropped, the peer is not trusted
            .timeout(Duration.ofSeconds(10))
            .build();
        // explained before it is sent, as the gateway will see it (explain consumes nothing)
        String why = indent(router.explain(OffloadRequest.get(path)
            .header("Host", "127.0.0.1:" + gateway.getAddress().getPort()).build()).toString());
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        out.println("GET " + path + "  ->  " + response.statusCode()
            + response.headers().firstValue("Location").map(l -> "  Location: " + l).orElse("")
            + response.headers().firstValue("X-Cache-Status").map(c -> "  X-Cache-Status: " + c)
                .orElse("")
            + response.headers().firstValue("Retry-After").map(r -> "  Retry-After: " + r)
                .orElse("")
            + "  (host handler calls so far: " + hostCalls.get() + ")");
        out.println("  body: " + response.body().strip());
        out.println(why);
        out.println();
      }
      offloadAThumbnail(out, client, base, thumbnails);
    } finally {
      // shut down in order: no new tasks (running ones finish), stop taking requests, then
      // release what forwarding holds
      thumbnails.shutdown(Duration.ofSeconds(10));
      gateway.stop(0);
      executor.close();
      backend.stop(0);
      threads.shutdown(); // let handlers finish recording their metrics before we print them
      threads.awaitTermination(10, TimeUnit.SECONDS);
    }
    out.println("metrics:");
    for (Meter meter : registry.getMeters()) {
      out.println("  " + meter.getId().getName() + " " + meter.getId().getTags() + " = "
          + meter.measure().iterator().next().getValue());
    }
  }

  /** POSTs a 2-megapixel PNG: 202, then the status (303 once done), then the thumbnail. */
  private static void offloadAThumbnail(PrintStream out, HttpClient client, String base,
      TaskPool thumbnails) throws IOException, InterruptedException {
    HttpResponse<String> accepted = client.send(HttpRequest.newBuilder(
            URI.create(base + "/api/thumbnails"))
        .header("Content-Type", "image/png")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Thumbnails.sample(1600, 1250)))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    String location = accepted.headers().firstValue("Location").orElse("(none)");
    out.println("POST /api/thumbnails (2 MP PNG)  ->  " + accepted.statusCode() + "  Location: "
        + location + "  Retry-After: " + accepted.headers().firstValue("Retry-After").orElse("-"));
    out.println("  body: " + accepted.body());
    String id = location.substring(location.lastIndexOf('/') + 1);
    try { // the demo waits for the worker; a client would poll after Retry-After
      thumbnails.whenFinal(id).ifPresent(done -> done.toCompletableFuture().join());
    } catch (RuntimeException e) {
      out.println("  the task did not finish: " + e);
    }
    HttpResponse<String> status = client.send(HttpRequest.newBuilder(URI.create(base + location))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    out.println("GET " + location + "  ->  " + status.statusCode() + "  Location: "
        + status.headers().firstValue("Location").orElse("-"));
    HttpResponse<byte[]> result = client.send(HttpRequest.newBuilder(
            URI.create(base + location + "/result")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    out.println("GET " + location + "/result  ->  " + result.statusCode() + "  "
        + result.headers().firstValue("Content-Type").orElse("") + "  "
        + Thumbnails.describe(result.body()));
    out.println();
  }

  private static String indent(String text) {
    return "  why: " + text.replace("\n", "\n       ");
  }

  private static HttpServer server(ExecutorService threads, HttpHandler handler)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(threads);
    server.createContext("/", handler);
    server.start();
    return server;
  }

  private static void respond(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /**
   * Runs the demo.
   *
   * @param args ignored
   * @throws Exception if a server cannot start or a request fails
   */
  public static void main(String[] args) throws Exception {
    run(System.out);
  }
}
