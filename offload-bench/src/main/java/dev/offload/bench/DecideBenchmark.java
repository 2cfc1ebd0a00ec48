package dev.offload.bench;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.Guard;
import dev.offload.core.GuardVerdict;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.FailoverStrategy;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of {@link OffloadRouter#decide} over a realistic table of 50 routes with two admitting
 * guards, for a hit on the 1st, 25th and 50th route and a miss, next to two reference operations
 * ({@code ConcurrentHashMap.get} on a small map, {@code System.nanoTime()}) so that the numbers
 * read as ratios on a noisy machine.
 *
 * <p>One router and one set of requests are shared by all benchmark threads, as in a server. A
 * decision that holds a {@link dev.offload.core.DecisionHandle} ({@code Forward}, {@code Offload})
 * has it completed with {@code onSuccess()} inside the measured operation: that is part of the
 * cost a real request pays (it gives the backend's in-flight slot back), and without it the
 * in-flight counters would only grow.
 *
 * <p>What each benchmark decides:
 * <ul>
 *   <li>{@code hitRoute01}: {@code GET /static/js/app.js}, route 1 {@code GET /static/**}, a CDN
 *       redirect (builds the {@code Location} string);
 *   <li>{@code hitRoute25}: {@code GET /cart/items}, route 25 {@code /cart/** and method}, a
 *       forward to a backend (takes and returns an in-flight slot);
 *   <li>{@code hitRoute50}: {@code POST /import/customers} with {@code Content-Type: text/csv},
 *       route 50, an offload to a queue;
 *   <li>{@code miss}: {@code GET /about/team}, no route matches: pass-through.
 * </ul>
 *
 * <p>Run: {@code java -jar offload-bench/target/benchmarks.jar DecideBenchmark -t 1 -prof gc}
 * (and {@code -t 2}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(2)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DecideBenchmark {

  private OffloadRouter router;
  private Backend[] backends;
  private OffloadRequest hitRoute01;
  private OffloadRequest hitRoute25;
  private OffloadRequest hitRoute50;
  private OffloadRequest miss;
  private Map<String, Integer> map;
  private String mapKey;

  @Setup(Level.Trial)
  public void setUp() {
    Backend catalog = backend("catalog", 8081);
    Backend users = backend("users", 8082);
    Backend auth = backend("auth", 8083);
    Backend orders = backend("orders", 8084);
    Backend search = backend("search", 8085);
    Backend admin = backend("admin", 8086);
    Backend realtime = backend("realtime", 8087);
    Backend cms = backend("cms", 8088);
    Backend internal = backend("internal", 8089);
    Backend canary = backend("api-canary", 8090);
    Backend legacy = backend("legacy", 8091);
    Backend graphql = backend("graphql", 8092);
    backends = new Backend[] {catalog, users, auth, orders, search, admin, realtime, cms,
        internal, canary, legacy, graphql};

    CdnStrategy cdn = CdnStrategy.redirectTo(URI.create("https://cdn.example.com/assets"));
    GuardVerdict tooLarge = GuardVerdict.deny(413, "request body too large");

    router = OffloadRouter.builder()
        // guard 1: a factory guard on a header every request here carries
        .guard("api-key", Guard.requireHeader("X-Api-Key"))
        // guard 2: a lambda guard that reads the request
        .guard("body-limit", (request, context) ->
            request.contentLength().orElse(0L) > 50_000_000L ? tooLarge : GuardVerdict.admit())
        .route("static", Route.get("/static/**"), cdn)                                       // 1
        .route("assets", Route.get("/assets/**"), cdn)                                       // 2
        .route("favicon", Route.exact("/favicon.ico"), cdn)                                  // 3
        .route("robots", Route.exact("/robots.txt"), cdn)                                    // 4
        .route("css-anywhere", Route.get("*.css"), cdn)                                      // 5 *
        .route("fonts", Route.extensions("woff", "woff2", "ttf", "otf"), cdn)                // 6 *
        .route("images", Route.get("/images/**"), cdn)                                       // 7
        .route("media", Route.prefix("/media/"), cdn)                                        // 8
        .route("downloads", Route.get("/downloads/*.zip"), cdn)                              // 9
        .route("image-upload", Route.post("/api/images/**"),
            AsyncTaskStrategy.toQueue("images"))                                             // 10
        .route("video-upload", Route.post("/api/videos/**").and(Route.contentType("video/*")),
            AsyncTaskStrategy.toQueue("videos"))                                             // 11
        .route("reports", Route.post("/api/reports/**"), AsyncTaskStrategy.toQueue("reports")) // 12
        .route("exports", Route.get("/api/exports").and(Route.query("format", "csv")),
            AsyncTaskStrategy.toQueue("exports"))                                            // 13
        .route("async-header", Route.header("X-Offload-Async", "true"),
            AsyncTaskStrategy.toQueue("generic"))                                            // 14 *
        .route("api-canary", Route.prefix("/api/").and(Route.header("X-Canary", "1")),
            FailoverStrategy.to(canary))                                                     // 15
        .route("api-users", Route.get("/api/v1/users/*"), FailoverStrategy.to(users))        // 16
        .route("auth", Route.prefix("/auth/"), FailoverStrategy.to(auth))                    // 17
        .route("login", Route.exact("/login").and(Route.method("POST")),
            FailoverStrategy.to(auth))                                                       // 18
        .route("logout", Route.exact("/logout"), FailoverStrategy.to(auth))                  // 19
        .route("oauth", Route.prefix("/oauth2/"), FailoverStrategy.to(auth))                 // 20
        .route("admin", Route.prefix("/admin/").and(Route.not(Route.method("DELETE"))),
            FailoverStrategy.to(admin))                                                      // 21
        .route("graphql", Route.post("/graphql").and(Route.contentType("application/json")),
            FailoverStrategy.to(graphql))                                                    // 22
        .route("search", Route.get("/search").or(Route.get("/search/**")),
            FailoverStrategy.to(search))                                                     // 23
        .route("internal-host", Route.host("internal.example.com"),
            FailoverStrategy.to(internal))                                                   // 24 *
        .route("cart", Route.prefix("/cart/").and(Route.method("GET", "POST", "PUT", "DELETE")),
            FailoverStrategy.to(orders))                                                     // 25
        .route("checkout", Route.post("/checkout/**"), FailoverStrategy.to(orders))          // 26
        .route("orders", Route.prefix("/orders/"), FailoverStrategy.to(orders))              // 27
        .route("payment-webhook",
            Route.post("/webhooks/payments").and(Route.header("Stripe-Signature")),
            AsyncTaskStrategy.toQueue("payments"))                                           // 28
        .route("webhooks", Route.post("/webhooks/**"), AsyncTaskStrategy.toQueue("webhooks")) // 29
        .route("products", Route.get("/products/**"), FailoverStrategy.to(catalog))          // 30
        .route("categories", Route.get("/categories/**"), FailoverStrategy.to(catalog))      // 31
        .route("reviews", Route.prefix("/reviews/"), FailoverStrategy.to(catalog))           // 32
        .route("recommendations", Route.get("/recommendations").and(Route.query("user")),
            FailoverStrategy.to(catalog))                                                    // 33
        .route("websocket", Route.prefix("/ws/").and(Route.header("Upgrade", "websocket")),
            FailoverStrategy.to(realtime))                                                   // 34
        .route("events", Route.get("/events/**"), FailoverStrategy.to(realtime))             // 35
        .route("sitemaps", Route.path("/sitemap*.xml"), cdn)                                 // 36 *
        .route("feeds", Route.get("/feeds/*.rss"), cdn)                                      // 37
        .route("docs", Route.get("/docs/**"), cdn)                                           // 38
        .route("blog", Route.prefix("/blog/"), FailoverStrategy.to(cms))                     // 39
        .route("preview", Route.prefix("/preview/").and(Route.query("token")),
            FailoverStrategy.to(cms))                                                        // 40
        .route("source-maps", Route.get("/**/*.map"), cdn)                                   // 41 *
        .route("legacy-php", Route.path("/**/*.php"), FailoverStrategy.to(legacy))           // 42 *
        .route("account", Route.prefix("/account/"), FailoverStrategy.to(users))             // 43
        .route("profile", Route.get("/profile/*"), FailoverStrategy.to(users))               // 44
        .route("notifications", Route.prefix("/notifications/"), FailoverStrategy.to(realtime)) // 45
        .route("metrics", Route.exact("/metrics").and(Route.header("Authorization")),
            FailoverStrategy.to(internal))                                                   // 46
        .route("health", Route.exact("/healthz").or(Route.exact("/readyz")),
            FailoverStrategy.to(internal))                                                   // 47 *
        .route("pdf", Route.post("/pdf/render"), AsyncTaskStrategy.toQueue("pdf"))           // 48
        .route("thumbnails", Route.get("/thumbnails/**"), AsyncTaskStrategy.toQueue("thumbs")) // 49
        .route("bulk-import", Route.post("/import/**").and(Route.contentType("text/csv")),
            AsyncTaskStrategy.toQueue("imports"))                                            // 50
        .build();
    // (*) no literal first path segment: a candidate for every path

    hitRoute01 = browser(OffloadRequest.get("/static/js/app.js")).build();
    hitRoute25 = browser(OffloadRequest.get("/cart/items")).build();
    hitRoute50 = browser(OffloadRequest.post("/import/customers"))
        .header("Content-Type", "text/csv; charset=utf-8")
        .header("Content-Length", "48213")
        .build();
    miss = browser(OffloadRequest.get("/about/team")).build();

    check(hitRoute01, Decision.Redirect.class);
    check(hitRoute25, Decision.Forward.class);
    check(hitRoute50, Decision.Offload.class);
    check(miss, Decision.PassThrough.class);
    String explained = router.explain(hitRoute25).toString();
    if (!explained.contains("cart")) {
      throw new IllegalStateException("route 25 is not 'cart':\n" + explained);
    }

    map = new ConcurrentHashMap<>();
    for (String name : new String[] {"static", "api", "cart", "orders", "auth", "admin", "blog",
        "docs"}) {
      map.put(name, name.length());
    }
    mapKey = new String("orders"); // an equal key, not the identical one
  }

  @TearDown(Level.Trial)
  public void checkNoLeakedSlots() {
    for (Backend b : backends) {
      if (BackendLoad.of(b).inFlight() != 0) {
        throw new IllegalStateException(b.name() + " still has " + BackendLoad.of(b).inFlight() + " in flight");
      }
    }
  }

  private static Backend backend(String name, int port) {
    return Backend.of(name, URI.create("http://10.0.0.1:" + port));
  }

  private static OffloadRequest.Builder browser(OffloadRequest.Builder builder) {
    return builder
        .header("Host", "www.example.com")
        .header("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
        .header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .header("Accept-Language", "en-US,en;q=0.5")
        .header("Accept-Encoding", "gzip, deflate, br, zstd")
        .header("Cookie", "session=6f1c2e9a7b; theme=dark")
        .header("X-Api-Key", "k-2f9c41d7")
        .clientAddress("203.0.113.7");
  }

  private void check(OffloadRequest request, Class<? extends Decision> expected) {
    Decision d = complete(router.decide(request));
    if (!expected.isInstance(d)) {
      throw new IllegalStateException(request + " decided " + d + ", expected "
          + expected.getSimpleName() + "\n" + router.explain(request));
    }
  }

  /** Completes the handle of a holding decision, as the executor of the decision would. */
  private static Decision complete(Decision decision) {
    if (decision instanceof Decision.Holding holding) {
      holding.handle().onSuccess();
    }
    return decision;
  }

  @Benchmark
  public Decision hitRoute01() {
    return complete(router.decide(hitRoute01));
  }

  @Benchmark
  public Decision hitRoute25() {
    return complete(router.decide(hitRoute25));
  }

  @Benchmark
  public Decision hitRoute50() {
    return complete(router.decide(hitRoute50));
  }

  @Benchmark
  public Decision miss() {
    return complete(router.decide(miss));
  }

  /** Reference: a probe of a small {@code ConcurrentHashMap} with a String key. */
  @Benchmark
  public Integer refConcurrentHashMapGet() {
    return map.get(mapKey);
  }

  /** Reference: one read of the system clock. */
  @Benchmark
  public long refNanoTime() {
    return System.nanoTime();
  }
}
