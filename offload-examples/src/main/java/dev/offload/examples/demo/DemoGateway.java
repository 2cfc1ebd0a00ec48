package dev.offload.examples.demo;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import com.google.common.hash.Hashing;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.offload.core.Backend;
import dev.offload.core.DecisionContext;
import dev.offload.core.Guard;
import dev.offload.core.GuardVerdict;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.async.ShutdownReport;
import dev.offload.core.async.TaskPool;
import dev.offload.core.async.TaskResult;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cdn.AssetManifest;
import dev.offload.core.cdn.CachePolicy;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.CapacitySignal;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.failover.Load;
import dev.offload.core.guard.ApiKeyAuthenticator;
import dev.offload.core.guard.AuthResult;
import dev.offload.core.guard.AuthenticationGuard;
import dev.offload.core.guard.Authenticator;
import dev.offload.core.guard.Identity;
import dev.offload.core.guard.KeyResolver;
import dev.offload.core.guard.RateLimit;
import dev.offload.core.guard.RateLimitBuckets;
import dev.offload.core.guard.RateLimitPolicy;
import dev.offload.examples.Thumbnails;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.async.TaskEndpoint;
import dev.offload.http.jdk.JdkServerLimits;
import dev.offload.http.jdk.OffloadHttpHandler;
import dev.offload.redis.RedisCacheInvalidation;
import dev.offload.redis.RedisRateLimits;
import dev.offload.redis.tasks.RedisTaskQueue;
import dev.offload.redis.tasks.RedisTaskStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The demo gateway: a host application on the JDK {@code HttpServer} wrapped by offload, a demo
 * CDN, and two backend services, all on {@code 127.0.0.1} in this JVM.
 *
 * <pre>{@code
 * try (DemoGateway demo = DemoGateway.start(DemoGateway.Options.defaults())) {
 *   System.out.println(demo.gatewayUri());   // http://127.0.0.1:8080
 * }
 * }</pre>
 *
 * <p>The route table (see the README's "Run the demo"):
 * <pre>
 * GET  /assets/**        302 to the demo CDN's fingerprinted URL
 * GET  /static/**        edge cache in front of the host's own files (X-Cache-Status, 304s)
 * /api/**                X-Api-Key: demo-key (401 without, 403 wrong); 20 req/s per key (429)
 * GET  /api/orders/**    {@link #ordersReads}: orders, reads to orders-replica under load
 * POST /api/orders       orders only
 * POST /api/thumbnails   {@link #thumbnails}: offloaded to the thumbnail workers
 * GET  /api/echo         orders, which echoes what it received
 * GET  /metrics          the host's handler: Prometheus text of the router's registry
 * anything else          the host's own handler
 * </pre>
 *
 * <p>With {@link Options#offloading()} off, the same servers run behind a router that forwards
 * every request to {@code orders} (a plain reverse proxy): the baseline the load run compares
 * against. Thread-safe; {@link #close()} drains what is in flight.
 */
public final class DemoGateway implements AutoCloseable {
  /** The API key the demo accepts on {@code /api/**}. */
  public static final String API_KEY = "demo-key";
  /** The header that carries it. */
  public static final String API_KEY_HEADER = "X-Api-Key";
  /** Requests per second each API key may make. */
  public static final int API_REQUESTS_PER_SECOND = 20;
  /** The gateway's default port; the CDN, orders and orders-replica follow at +10, +11, +12. */
  public static final int DEFAULT_PORT = 8080;
  /** The default capacity of {@code orders}: requests it serves at once. */
  public static final int DEFAULT_ORDERS_WORKERS = 2;
  /** The default time {@code orders} takes for each request. */
  public static final Duration DEFAULT_SERVICE_TIME = Duration.ofMillis(40);
  /** Threads of the gateway's server (forwarding blocks one per request). */
  public static final int GATEWAY_THREADS = 64;

  private static final String RESOURCES = "/dev/offload/examples/demo/";
  private static final Route API = Route.prefix("/api/");
  /**
   * In flight on {@code orders} above which it is saturated: with 2 or more, its default 2
   * workers are all busy and the next request would wait in its queue.
   */
  static final int ORDERS_SATURATED_IN_FLIGHT = 1;
  /** Where the API key is required: the API, and the thumbnail tasks it created. */
  private static final Route KEYED = API.or(Route.prefix("/offload/tasks/"));

  static {
    // the JDK server's request and response deadlines, once, before this JVM's first HttpServer
    // (apply() again can misfire while another server is stopping: it looks for the JDK's
    // timer threads, and a stopping server's idle timer can outlive its deadline timer)
    JdkServerLimits.ofDefaults().apply();
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private final Options options;
  private final PrometheusMeterRegistry registry;
  private final DemoBackend orders;
  private final DemoBackend replica;
  private final DemoServer cdn;
  private final DemoServer gateway;
  private final Backend ordersBackend;
  private final Backend replicaBackend;
  private final OffloadRouter router;
  private final OffloadExecutor executor;
  private final TaskPool thumbnailPool;
  private final TaskEndpoint tasks;
  private final Map<String, String> fingerprinted;
  private final EdgeCache cache;
  private final RedisClient redis;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** The Redis client and what uses it, in order of start: closed in reverse. */
  private final List<AutoCloseable> redisParts = new ArrayList<>();

  private DemoGateway(Options options) throws IOException {
    this.options = options;
    Ports ports = options.ports();
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<AutoCloseable> started = new ArrayList<>();
    try {
      this.orders = DemoBackend.start("orders", ports.orders(), options.ordersWorkers(),
          options.serviceTime());
      started.add(orders);
      this.replica = DemoBackend.start("orders-replica", ports.replica(),
          options.ordersWorkers(), options.serviceTime());
      started.add(replica);
      Map<String, byte[]> assets = Map.of("/assets/app.css", resource("assets/app.css"));
      this.fingerprinted = fingerprints(assets);
      this.cdn = DemoServer.start("cdn", ports.cdn(), 4, cdnHandler(assets));
      started.add(cdn);
      this.ordersBackend = backend("orders", orders.uri());
      this.replicaBackend = backend("orders-replica", replica.uri());
      this.cache = newEdgeCache(options.ticker(), registry);
      RateLimitBuckets.Factory buckets = RateLimitBuckets.inMemory();
      if (options.redis().isPresent()) {
        this.redis = RedisClient.create(options.redis().get().toString());
        redisParts.add(redis::shutdown);
        // exact: this gateway's threads may block, and a loopback round-trip (about 0.1 ms) is
        // nothing next to a forward; on an event loop, keep the default batched mode
        RedisRateLimits shared = RedisRateLimits.builder(redis)
            .exact(Duration.ofMillis(200))
            .meterRegistry(registry)
            .build();
        redisParts.add(shared);
        buckets = shared;
        redisParts.add(RedisCacheInvalidation.builder(redis, cache).meterRegistry(registry)
            .start());
      } else {
        this.redis = null;
      }
      this.thumbnailPool = newThumbnailPool(options.ticker(), registry, redis);
      this.tasks = TaskEndpoint.builder().pool(thumbnailPool).build();
      this.router = options.offloading()
          ? offloadingRouter(options.ticker(), registry, ordersBackend, replicaBackend, cdn.uri(),
              fingerprinted, thumbnailPool, tasks.statusRoute(), cache, buckets)
          : baselineRouter();
      // on /metrics: how many orders instances its measured load needs (2 requests each)
      CapacitySignal.builder(ordersBackend).concurrencyPerInstance(options.ordersWorkers())
          .ticker(options.ticker()).meterRegistry(registry).build();
      this.executor = OffloadExecutor.builder(router)
          .offloadHandler(tasks)
          .build();
      this.gateway = DemoServer.start("gateway", ports.gateway(), GATEWAY_THREADS,
          OffloadHttpHandler.wrap(executor, hostApplication()));
    } catch (IOException | RuntimeException e) {
      closeInReverse(started);
      closeInReverse(redisParts);
      throw e;
    }
  }

  private static void closeInReverse(List<AutoCloseable> closeables) {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeQuietly(closeables.get(i));
    }
  }

  /**
   * Starts the demo: backends, CDN, then the gateway; every listener accepts connections when
   * this returns.
   *
   * @param options ports, offloading on or off, the capacity of {@code orders}
   * @return the running demo
   * @throws IOException if a port cannot be bound (the message names it)
   */
  public static DemoGateway start(Options options) throws IOException {
    return new DemoGateway(requireNonNull(options, "options"));
  }

  /**
   * Builds the demo's offloading router without starting anything, for {@code --replay}: the
   * same guards, routes, edge cache and strategies as the running demo, on {@code ticker}, with
   * the backends and the CDN at the default ports (nothing is contacted: a replay only decides).
   *
   * @param ticker the router's clock (a replay's {@code FakeTicker})
   * @param registry where the guards, cache and router record
   * @return a router like the running demo's
   */
  public static OffloadRouter replayRouter(Ticker ticker, MeterRegistry registry) {
    requireNonNull(ticker, "ticker");
    requireNonNull(registry, "registry");
    Ports ports = Ports.from(DEFAULT_PORT);
    Backend orders = backend("orders", URI.create("http://127.0.0.1:" + ports.orders()));
    Backend replica = backend("orders-replica",
        URI.create("http://127.0.0.1:" + ports.replica()));
    Map<String, byte[]> assets = Map.of("/assets/app.css", resource("assets/app.css"));
    TaskPool thumbnails = newThumbnailPool(ticker, registry, null);
    return offloadingRouter(ticker, registry, orders, replica,
        URI.create("http://127.0.0.1:" + ports.cdn()), fingerprints(assets), thumbnails,
        TaskEndpoint.builder().pool(thumbnails).build().statusRoute(),
        newEdgeCache(ticker, registry), RateLimitBuckets.inMemory());
  }

  // ---------------------------------------------------------------------------------------------
  // The offloads of the route table that need more than one line.
  // ---------------------------------------------------------------------------------------------

  /**
   * {@code GET /api/orders/**}: {@code orders}, switching reads to {@code orders-replica} while
   * {@code orders} is saturated (its 2 workers both busy, so the next request would queue), back
   * 5 s after it is not; only reads ever go to the replica. (A p99 condition would fire on the first requests of
   * a cold JVM and hold the switch for the latency window, which is not what the demo shows.)
   *
   * @param orders the primary backend
   * @param replica the read replica
   * @param registry where the switches are counted ({@code offload.failover.switches})
   * @return the strategy for order reads
   */
  static OffloadStrategy ordersReads(Backend orders, Backend replica, MeterRegistry registry) {
    return FailoverStrategy.primary(orders)
        .alternative(replica)
        .when(Load.inFlightAbove(ORDERS_SATURATED_IN_FLIGHT))
        .readsOnly()
        .meterRegistry(registry);
  }

  /**
   * The thumbnail workers: 2 dedicated threads that resize the posted PNG/JPEG to 320x240, a
   * queue of 32 (full: 503 + {@code Retry-After}), results kept 10 minutes; a body that is not an
   * image is refused up front (400), never accepted and failed later.
   *
   * @param ticker the router's clock
   * @param registry where the pool's metrics go
   * @param redis with {@code --redis}, where the tasks are kept and queued; else null (memory)
   * @return a new pool
   */
  private static TaskPool newThumbnailPool(Ticker ticker, MeterRegistry registry,
      RedisClient redis) {
    TaskPool.Builder pool = TaskPool.builder("thumbnails");
    if (redis != null) { // durable: accepted tasks in a Redis Stream any demo instance can run
      pool.store(RedisTaskStore.builder(redis).meterRegistry(registry).build())
          .queue(RedisTaskQueue.builder(redis, "thumbnails")
              .reclaimAfter(Duration.ofSeconds(30))
              .meterRegistry(registry)
              .build());
    }
    return pool
        .workers(2)
        .queueCapacity(32)
        .validator(request -> Thumbnails.isImage(request.body()) ? Optional.empty()
            : Optional.of("the body is not a PNG or JPEG image"))
        .task(request -> TaskResult.of(200, "image/png",
            Thumbnails.resize(request.body(), 320, 240)))
        .resultTtl(Duration.ofMinutes(10))
        .ticker(ticker)
        .meterRegistry(registry)
        .build();
  }

  /**
   * {@code POST /api/thumbnails}: offloaded to the thumbnail workers, answered 202 with {@code
   * Location: /offload/tasks/{id}}.
   *
   * @param pool the thumbnail workers
   * @return the strategy for thumbnail requests
   */
  static OffloadStrategy thumbnails(TaskPool pool) {
    return AsyncTaskStrategy.to(pool);
  }

  // ---------------------------------------------------------------------------------------------

  private static EdgeCache newEdgeCache(Ticker ticker, MeterRegistry registry) {
    return EdgeCache.builder()
        .maximumBytes(8L << 20)
        .ticker(ticker)
        .meterRegistry(registry)
        .build();
  }

  private static OffloadRouter offloadingRouter(Ticker ticker, MeterRegistry registry,
      Backend ordersBackend, Backend replicaBackend, URI cdn, Map<String, String> fingerprinted,
      TaskPool thumbnailPool, Route taskStatus, EdgeCache cache,
      RateLimitBuckets.Factory buckets) {
    Authenticator keys = ApiKeyAuthenticator.inHeader(API_KEY_HEADER)
        .key(API_KEY, Identity.of("demo", Set.of("orders")))
        .build();
    // The issue's table answers a wrong key with 403 (the library's default is 401, since the
    // caller is not authenticated): the demo maps "invalid" to "forbidden"; malformed stays 400.
    Authenticator wrongKeyForbidden = (request, context) -> {
      AuthResult result = keys.authenticate(request, context);
      return result instanceof AuthResult.Invalid invalid && invalid.status() == 401
          ? AuthResult.forbidden("invalid API key") : result;
    };
    Guard apiKey = onlyOnApi(AuthenticationGuard.builder(wrongKeyForbidden)
        .meterRegistry(registry)
        .build());
    RateLimit perKey = RateLimit.builder()
        .name("api-rate")
        .key(KeyResolver.header(API_KEY_HEADER))
        .limit(RateLimitPolicy.of("per-key", API_REQUESTS_PER_SECOND, Duration.ofSeconds(1)))
        .appliesTo(API)
        .ticker(ticker)
        .meterRegistry(registry)
        .buckets(buckets)
        .build();
    return OffloadRouter.builder()
        .ticker(ticker)
        .meterRegistry(registry)
        .guard("api-key", apiKey)
        .guard("api-rate", perKey)
        .route("assets", Route.get("/assets/**"), CdnStrategy.redirect(cdn)
            .fingerprinted(AssetManifest.of(fingerprinted)))
        .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(cache))
        .route("orders-read", Route.get("/api/orders/**"),
            ordersReads(ordersBackend, replicaBackend, registry))
        .route("orders-write", Route.post("/api/orders"), FailoverStrategy.to(ordersBackend))
        .route("thumbnails", Route.post("/api/thumbnails"), thumbnails(thumbnailPool))
        .route("tasks", taskStatus, AsyncTaskStrategy.statusEndpoint())
        .route("echo", Route.get("/api/echo"), FailoverStrategy.to(ordersBackend))
        .route("metrics", Route.get("/metrics"), OffloadStrategy.passThrough())
        .build(); // anything else: the host's own handler
  }

  /** Offloading off: every request goes to {@code orders}, as through a plain reverse proxy. */
  private OffloadRouter baselineRouter() {
    return OffloadRouter.builder()
        .ticker(options.ticker())
        .meterRegistry(registry)
        .otherwise(FailoverStrategy.to(ordersBackend))
        .build();
  }

  private static Guard onlyOnApi(Guard guard) {
    return new Guard() {
      @Override
      public GuardVerdict check(OffloadRequest request, DecisionContext context) {
        return KEYED.matches(request) ? guard.check(request, context) : GuardVerdict.admit();
      }

      @Override
      public String describe() {
        return guard.describe() + " on " + KEYED;
      }
    };
  }

  private static Backend backend(String name, URI uri) {
    return Backend.builder(name)
        .instance(uri)
        .connectTimeout(Duration.ofSeconds(1))
        .readTimeout(Duration.ofSeconds(30))
        .build();
  }

  /** The host application's own handler: {@code /hello}, {@code /static/*}, {@code /metrics}. */
  private HttpHandler hostApplication() {
    HostApplication host =
        new HostApplication("hello from the host application", hostFiles(), registry);
    return exchange -> {
      try (exchange) {
        exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
        if (exchange.getRequestMethod().equals("POST")
            && exchange.getRequestURI().getPath().equals("/admin/purge-static")) {
          // an operator's purge: with --redis, every demo instance on that Redis empties too
          int purged = cache.purgePrefix("/static/");
          send(exchange, 200, "text/plain; charset=utf-8",
              ("purged " + purged + " response(s) under /static/\n")
                  .getBytes(StandardCharsets.UTF_8));
          return;
        }
        HostApplication.Answer answer = host.answer(exchange.getRequestURI().getPath());
        answer.headers().forEach(exchange.getResponseHeaders()::set);
        send(exchange, answer.status(), answer.contentType(), answer.body());
      }
    };
  }

  /** The host application's static files, by path: {@code /static/app.js}, {@code logo.png}. */
  static Map<String, byte[]> hostFiles() {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("/static/app.js", resource("static/app.js"));
    files.put("/static/logo.png", resource("static/logo.png"));
    return files;
  }

  /** The demo CDN: fingerprinted copies of the assets, immutable for a year. */
  private HttpHandler cdnHandler(Map<String, byte[]> assets) {
    Map<String, byte[]> byUrl = new LinkedHashMap<>();
    fingerprints(assets).forEach((logical, hashed) -> byUrl.put(hashed, assets.get(logical)));
    String immutable = CachePolicy.immutable().cacheControl().orElseThrow();
    return exchange -> {
      try (exchange) {
        byte[] file = byUrl.get(exchange.getRequestURI().getPath());
        if (file == null) {
          send(exchange, 404, "text/plain; charset=utf-8",
              "not on the CDN\n".getBytes(StandardCharsets.UTF_8));
          return;
        }
        exchange.getResponseHeaders().set("Cache-Control", immutable);
        exchange.getResponseHeaders().set("ETag", etag(file));
        send(exchange, 200, "text/css; charset=utf-8", file);
      }
    };
  }

  /** {@code /assets/app.css} to {@code /assets/app.<first 8 hex of SHA-256>.css}. */
  private static Map<String, String> fingerprints(Map<String, byte[]> assets) {
    Map<String, String> manifest = new LinkedHashMap<>();
    assets.forEach((path, bytes) -> {
      String hash = Hashing.sha256().hashBytes(bytes).toString()
          .substring(0, AssetManifest.HASH_HEX_DIGITS);
      int dot = path.lastIndexOf('.');
      manifest.put(path, path.substring(0, dot) + "." + hash + path.substring(dot));
    });
    return manifest;
  }

  static String etag(byte[] bytes) {
    return "\"" + Hashing.sha256().hashBytes(bytes).toString().substring(0, 16) + "\"";
  }

  private static void send(HttpExchange exchange, int status, String type, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : body.length);
    if (!head) {
      exchange.getResponseBody().write(body);
    }
  }

  private static byte[] resource(String name) {
    try (InputStream in = DemoGateway.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + RESOURCES + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Returns the options the demo was started with.
   *
   * @return the options
   */
  public Options options() {
    return options;
  }

  /**
   * Returns the gateway's address (the host application wrapped by offload).
   *
   * @return {@code http://127.0.0.1:port}
   */
  public URI gatewayUri() {
    return gateway.uri();
  }

  /**
   * Returns the demo CDN's address.
   *
   * @return {@code http://127.0.0.1:port}
   */
  public URI cdnUri() {
    return cdn.uri();
  }

  /**
   * Returns the primary backend service, {@code orders}.
   *
   * @return the running backend, with its own request counts
   */
  public DemoBackend orders() {
    return orders;
  }

  /**
   * Returns the alternative backend service, {@code orders-replica}.
   *
   * @return the running backend, with its own request counts
   */
  public DemoBackend replica() {
    return replica;
  }

  /**
   * Returns the router's description of {@code orders} (its measured load is {@code
   * BackendLoad.of(ordersBackend())}).
   *
   * @return the backend as the router knows it
   */
  public Backend ordersBackend() {
    return ordersBackend;
  }

  /**
   * Returns the router's description of {@code orders-replica}.
   *
   * @return the backend as the router knows it
   */
  public Backend replicaBackend() {
    return replicaBackend;
  }

  /**
   * Returns the router in front of the host application.
   *
   * @return the router
   */
  public OffloadRouter router() {
    return router;
  }

  /**
   * Returns the executor of the router's decisions (issue 13 makes it closeable; {@link
   * #close()} is where it is closed).
   *
   * @return the executor
   */
  public OffloadExecutor executor() {
    return executor;
  }

  /**
   * Returns the registry the router, guards, cache and forwarder record into ({@code
   * /metrics}).
   *
   * @return the Prometheus registry
   */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /**
   * Returns the fingerprinted path the CDN serves for a logical asset path.
   *
   * @return logical path to fingerprinted path, e.g. {@code /assets/app.css} to {@code
   *     /assets/app.3f2a9c1b.css}
   */
  public Map<String, String> assetManifest() {
    return Map.copyOf(fingerprinted);
  }

  /**
   * Returns the addresses, one per line, as printed at start.
   *
   * @return a description of every listener
   */
  public String describe() {
    return String.join("\n",
        "gateway        " + gatewayUri() + "   (host application + offload"
            + (options.offloading() ? ")" : ", offloading off: everything to orders)"),
        "demo CDN       " + cdnUri(),
        "orders         " + orders.uri() + "   (" + options.ordersWorkers() + " workers, "
            + options.serviceTime().toMillis() + " ms per request" + capacity() + ")",
        "orders-replica " + replica.uri());
  }

  private String capacity() {
    long millis = options.serviceTime().toMillis();
    return millis == 0 ? "" : ": at most " + options.ordersWorkers() * 1000 / millis + " req/s";
  }

  /**
   * Returns what answers the thumbnail tasks: 202s, status documents, results, cancels.
   *
   * @return the task endpoint the gateway's executor uses
   */
  public TaskEndpoint tasks() {
    return tasks;
  }

  /**
   * Returns the thumbnail workers.
   *
   * @return the pool behind {@code POST /api/thumbnails}
   */
  public TaskPool thumbnailPool() {
    return thumbnailPool;
  }

  /**
   * Drains and stops everything: the gateway first (in-flight requests finish), then the
   * thumbnail workers (accepted tasks finish, what does not within 10 s is reported), the
   * executor, the CDN and the backends. Waits at most about 10 s per server. A second call does
   * nothing.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    gateway.close();
    try {
      ShutdownReport report = thumbnailPool.shutdown(Duration.ofSeconds(10));
      if (!report.drained()) {
        System.err.println("thumbnails: not drained in 10 s: " + report);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    executor.close();
    closeInReverse(redisParts);
    cdn.close();
    orders.close();
    replica.close();
    registry.close();
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // already failing to start: the first failure is the one to report
    }
  }

  /**
   * Where the demo's four listeners bind, all on {@code 127.0.0.1}; 0 is a free port.
   *
   * @param gateway the gateway (the host application wrapped by offload)
   * @param cdn the demo CDN
   * @param orders the primary backend
   * @param replica the alternative backend
   */
  public record Ports(int gateway, int cdn, int orders, int replica) {
    /**
     * Checks the ports.
     *
     * @param gateway the gateway (the host application wrapped by offload)
     * @param cdn the demo CDN
     * @param orders the primary backend
     * @param replica the alternative backend
     * @throws IllegalArgumentException if a port is outside 0..65535
     */
    public Ports {
      for (int port : new int[] {gateway, cdn, orders, replica}) {
        if (port < 0 || port > 65_535) {
          throw new IllegalArgumentException("port must be in 0..65535, was " + port);
        }
      }
    }

    /**
     * Returns the issue's layout: the gateway on {@code port}, the CDN on {@code port + 10},
     * orders on {@code port + 11}, orders-replica on {@code port + 12}; 0 puts every listener
     * on a free port.
     *
     * @param port the gateway's port, or 0
     * @return the four ports
     * @throws IllegalArgumentException if {@code port} is not in 0..65523
     */
    public static Ports from(int port) {
      if (port == 0) {
        return ephemeral();
      }
      if (port < 1 || port > 65_523) {
        throw new IllegalArgumentException("--port must be in 0..65523 (0: free ports; the demo"
            + " also uses port+10..port+12), was " + port);
      }
      return new Ports(port, port + 10, port + 11, port + 12);
    }

    /**
     * Returns free ports for every listener (tests, and the load run's baseline).
     *
     * @return four zeros
     */
    public static Ports ephemeral() {
      return new Ports(0, 0, 0, 0);
    }
  }

  /**
   * How the demo runs.
   *
   * @param ports where it listens
   * @param offloading the route table of the demo, or (off) every request forwarded to orders
   * @param ordersWorkers the capacity of orders and orders-replica: requests served at once
   * @param serviceTime how long each request takes on orders and orders-replica
   * @param ticker the one clock of the router, its rate limit and edge cache (a test's {@code
   *     FakeTicker})
   * @param redis where the fleet's shared state lives ({@code --redis}), or empty for memory
   */
  public record Options(Ports ports, boolean offloading, int ordersWorkers, Duration serviceTime,
      Ticker ticker, Optional<URI> redis) {
    /**
     * Checks the options.
     *
     * @param ports where it listens
     * @param offloading the route table of the demo, or (off) every request forwarded to orders
     * @param ordersWorkers the capacity of orders and orders-replica: requests served at once
     * @param serviceTime how long each request takes on orders and orders-replica
     * @param ticker the router's clock
     * @param redis where the fleet's shared state lives, or empty
     * @throws IllegalArgumentException if {@code ordersWorkers} is not positive, {@code
     *     serviceTime} negative, or {@code redis} not a Redis URI
     */
    public Options {
      requireNonNull(ports, "ports");
      requireNonNull(serviceTime, "serviceTime");
      requireNonNull(ticker, "ticker");
      requireNonNull(redis, "redis");
      redis.ifPresent(uri -> {
        try {
          RedisURI.create(uri);
        } catch (RuntimeException e) {
          throw new IllegalArgumentException("redis must be a URI like redis://127.0.0.1:6379,"
              + " was '" + uri + "'", e);
        }
      });
      if (ordersWorkers < 1) {
        throw new IllegalArgumentException("ordersWorkers must be positive, was " + ordersWorkers);
      }
      if (serviceTime.isNegative()) {
        throw new IllegalArgumentException("serviceTime must not be negative, was " + serviceTime);
      }
    }

    /**
     * Returns the defaults: ports 8080, 8090, 8091, 8092, offloading on, {@value
     * DemoGateway#DEFAULT_ORDERS_WORKERS} workers of 40 ms on orders (50 requests/s at most).
     *
     * @return the default options
     */
    public static Options defaults() {
      return new Options(Ports.from(DEFAULT_PORT), true, DEFAULT_ORDERS_WORKERS,
          DEFAULT_SERVICE_TIME, Ticker.systemTicker(), Optional.empty());
    }

    /**
     * Returns these options with other ports.
     *
     * @param ports the ports
     * @return new options
     */
    public Options withPorts(Ports ports) {
      return new Options(ports, offloading, ordersWorkers, serviceTime, ticker, redis);
    }

    /**
     * Returns these options with another capacity of orders and orders-replica.
     *
     * @param workers requests served at once
     * @param serviceTime how long each takes
     * @return new options
     */
    public Options withOrders(int workers, Duration serviceTime) {
      return new Options(ports, offloading, workers, serviceTime, ticker, redis);
    }

    /**
     * Returns these options with another clock.
     *
     * @param ticker the router's ticker
     * @return new options
     */
    public Options withTicker(Ticker ticker) {
      return new Options(ports, offloading, ordersWorkers, serviceTime, ticker, redis);
    }

    /**
     * Returns these options with offloading on or off.
     *
     * @param offloading false: every request is forwarded to orders
     * @return new options
     */
    public Options withOffloading(boolean offloading) {
      return new Options(ports, offloading, ordersWorkers, serviceTime, ticker, redis);
    }

    /**
     * Returns these options with the gateway's shared state in Redis: the API rate limit counts
     * across every demo instance on that Redis, and edge-cache purges reach all of them.
     *
     * @param redis a {@code redis://host:port} URI
     * @return new options
     * @throws IllegalArgumentException if the URI is not a Redis URI
     */
    public Options withRedis(URI redis) {
      return new Options(ports, offloading, ordersWorkers, serviceTime, ticker,
          Optional.of(redis));
    }
  }
}
