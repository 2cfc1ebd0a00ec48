package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.testing.FakeTicker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OffloadRouterTest {
  private static final URI CDN = URI.create("https://cdn.example.com");
  private static final AttributeKey<String> USER = AttributeKey.of("user", String.class);

  private final FakeTicker ticker = new FakeTicker();
  private final Backend api = Backend.of("api", URI.create("http://127.0.0.1:8081"));

  private OffloadRouter.Builder standard() {
    return OffloadRouter.builder()
        .ticker(ticker)
        .route("static", Route.get("/static/**"), CdnStrategy.redirectTo(CDN))
        .route("images", Route.post("/api/images/**"), AsyncTaskStrategy.toQueue("images"))
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(api));
  }

  @Test
  void theIssueExampleDecidesEachKind() {
    OffloadRouter router = standard().build();

    Decision css = router.decide(OffloadRequest.get("/static/app.css").header("Accept", "text/css").build());
    assertThat(css).isInstanceOfSatisfying(Decision.Redirect.class, r -> {
      assertThat(r.status()).isEqualTo(302);
      assertThat(r.location()).isEqualTo("https://cdn.example.com/static/app.css");
      assertThat(r.locationUri().getHost()).isEqualTo("cdn.example.com");
    });

    Decision image = router.decide(OffloadRequest.post("/api/images/42/resize").build());
    assertThat(image).isInstanceOfSatisfying(Decision.Offload.class,
        o -> assertThat(o.queue()).isEqualTo("images"));

    Decision orders = router.decide(OffloadRequest.get("/api/orders").build());
    assertThat(orders).isInstanceOfSatisfying(Decision.Forward.class, f -> {
      assertThat(f.backend()).isSameAs(api);
      assertThat(f.instance()).isEqualTo(api.instances().get(0));
      assertThat(BackendLoad.of(api).inFlight()).isEqualTo(1);
      f.handle().onSuccess();
      assertThat(BackendLoad.of(api).inFlight()).isZero();
    });

    assertThat(router.decide(OffloadRequest.get("/index.html").build()))
        .isInstanceOf(Decision.PassThrough.class);
  }

  @Test
  void firstMatchingRouteWinsInTableOrder() {
    OffloadRouter router = OffloadRouter.builder()
        .route("specific", Route.get("/api/special"), OffloadStrategy.reject(418, "teapot"))
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(api))
        .route("never", Route.get("/api/special"), OffloadStrategy.reject(410, "gone"))
        .build();
    assertThat(router.decide(OffloadRequest.get("/api/special").build()))
        .isEqualTo(Decision.reject(418, "teapot"));
  }

  @Test
  void redirectKeepsQueryAndCannotBeSteeredToAnotherHost() {
    OffloadRouter router = OffloadRouter.builder()
        .route(Route.get("/static/**"), CdnStrategy.redirectTo(URI.create("https://cdn.example.com/assets/")))
        .build();
    Decision.Redirect r = (Decision.Redirect) router.decide(
        OffloadRequest.get("/static//evil.com/x.css?v=3").build());
    assertThat(r.locationUri().getHost()).isEqualTo("cdn.example.com");
    assertThat(r.location()).isEqualTo("https://cdn.example.com/assets/static/evil.com/x.css?v=3");
  }

  @Test
  void redirectEncodesQueryCharactersALocationMustNotHold() {
    OffloadRouter router = OffloadRouter.builder()
        .route(Route.get("/static/**"), CdnStrategy.redirectTo(CDN))
        .build();
    Decision.Redirect r = (Decision.Redirect) router.decide(
        OffloadRequest.get("/static/a.css?q=a b\"|é&ok=1%20").build());
    assertThat(r.location()).isEqualTo("https://cdn.example.com/static/a.css?q=a%20b%22%7C%C3%A9&ok=1%20");
    assertThat(r.locationUri().getRawQuery()).isEqualTo("q=a%20b%22%7C%C3%A9&ok=1%20");
  }

  @Test
  void cdnBaseIsValidated() {
    assertThatThrownBy(() -> CdnStrategy.redirectTo(URI.create("/relative")))
        .hasMessageContaining("/relative");
    assertThatThrownBy(() -> CdnStrategy.redirectTo(URI.create("ftp://cdn.example.com")))
        .hasMessageContaining("ftp://cdn.example.com");
    assertThatThrownBy(() -> CdnStrategy.redirectTo(URI.create("https://cdn.example.com/?x=1")))
        .hasMessageContaining("?x=1");
  }

  @Test
  void serveAnswersFromMemoryWithAHandle() {
    CachedResponse robots = CachedResponse.of(200, Headers.of("Content-Type", "text/plain"),
        "User-agent: *".getBytes(StandardCharsets.UTF_8));
    OffloadRouter router = OffloadRouter.builder()
        .route(Route.get("/robots.txt"), CdnStrategy.serve(robots))
        .build();
    Decision d = router.decide(OffloadRequest.get("/robots.txt").build());
    assertThat(d).isInstanceOfSatisfying(Decision.ServeCached.class, s -> {
      assertThat(s.response()).isSameAs(robots);
      assertThat(s.handle().isCompleted()).isFalse();
    });
  }

  // ---- target safety ------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"/static/%2e%2e/%2e%2e/etc/passwd", "/api%2fadmin", "/a%00", "/a%c0%ae"})
  void unsafeTargetsAreRejectedWith400BeforeGuardsAndRoutes(String target) {
    AtomicInteger guardCalls = new AtomicInteger();
    OffloadRouter router = standard()
        .guard((request, context) -> {
          guardCalls.incrementAndGet();
          return GuardVerdict.admit();
        })
        .build();
    Decision d = router.decide(OffloadRequest.get(target).build());
    assertThat(d).isInstanceOfSatisfying(Decision.Reject.class, r -> {
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.reason()).isNotBlank();
    });
    assertThat(guardCalls).hasValue(0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/admin;jsessionid=1/secret", "/page;v=1", "/other;x/y", "/a%3Bb"})
  void pathParametersAreRefusedByDefault(String target) {
    OffloadRouter router = OffloadRouter.builder()
        .route("admin", Route.prefix("/admin/"), OffloadStrategy.reject(403, "admins only"))
        .build();
    assertThat(router.decide(OffloadRequest.get(target).build()))
        .isEqualTo(Decision.reject(400, "path parameters (';') are not accepted"));
  }

  @Test
  void allowedPathParametersAreStillRefusedUnderAProtectedPrefix() {
    OffloadRouter router = OffloadRouter.builder()
        .allowPathParameters(true)
        .route("admin", Route.prefix("/admin/"), OffloadStrategy.reject(403, "admins only"))
        .route("assets", Route.get("/assets/**"), CdnStrategy.redirectTo(CDN))
        .route("exact", Route.get("/page"), OffloadStrategy.passThrough())
        .build();
    assertThat(router.decide(OffloadRequest.get("/admin;jsessionid=1/secret").build()))
        .isEqualTo(Decision.reject(400, "path parameters (';') are not allowed under a protected prefix"));
    assertThat(router.decide(OffloadRequest.get("/assets/a.css;v=1").build()))
        .isInstanceOf(Decision.Reject.class);
    // where no prefix is protected, a ';' is just a character
    assertThat(router.decide(OffloadRequest.get("/page;v=1").build()))
        .isInstanceOf(Decision.PassThrough.class);
    assertThat(router.decide(OffloadRequest.get("/other;x/y").build()))
        .isInstanceOf(Decision.PassThrough.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/admin/../public/x", "/admin/%2e%2e/public/x", "//x/admin/secret",
      "/public/./x", "/public//x"})
  void aNonCanonicalPathIsNeverPassedThroughToTheHost(String target) {
    OffloadRouter router = OffloadRouter.builder()
        .guard("admin", Guard.denyWhen(r -> r.path().startsWith("/admin"), 403, "admins only"))
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(api))
        .build();
    Decision d = router.decide(OffloadRequest.get(target).build());
    assertThat(d).isInstanceOfSatisfying(Decision.Reject.class, r -> {
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.reason()).contains("non-canonical path");
    });
    assertThat(router.explain(OffloadRequest.get(target).build()).toString())
        .contains("refused: non-canonical path");
  }

  @Test
  void aNonCanonicalPathIsForwardedNormalized() {
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(api))
        .build();
    OffloadRequest request = OffloadRequest.get("/api//orders/./7/../8").build();
    Decision.Forward f = (Decision.Forward) router.decide(request);
    f.handle().onSuccess();
    assertThat(request.encodedPath()).isEqualTo("/api/orders/8");
  }

  @Test
  void routingSeesTheNormalizedPath() {
    OffloadRouter router = OffloadRouter.builder()
        .route("admin", Route.prefix("/admin/"), OffloadStrategy.reject(403, "admins only"))
        .build();
    for (String sneaky : List.of("/public/../admin/x", "//admin/x", "/./admin/x", "/%61dmin/x",
        "/public/%2e%2e/admin/x", "/admin/x/../y")) {
      assertThat(router.decide(OffloadRequest.get(sneaky).build()))
          .as(sneaky)
          .isEqualTo(Decision.reject(403, "admins only"));
    }
  }

  // ---- guards -------------------------------------------------------------------------------

  @Test
  void guardsRunFirstAndTheFirstDenialWins() {
    List<String> order = new ArrayList<>();
    OffloadRouter router = standard()
        .guard("first", (request, context) -> {
          order.add("first");
          return GuardVerdict.admit();
        })
        .guard("auth", Guard.requireHeader("Authorization"))
        .guard("never", (request, context) -> {
          order.add("never");
          return GuardVerdict.admit();
        })
        .build();
    Decision d = router.decide(OffloadRequest.get("/static/app.css").build());
    assertThat(d).isEqualTo(Decision.reject(401, "missing Authorization header"));
    assertThat(order).containsExactly("first");
    assertThat(router.decide(OffloadRequest.get("/static/app.css").header("Authorization", "x").build()))
        .isInstanceOf(Decision.Redirect.class);
  }

  @Test
  void guardAttachesIdentityThatStrategiesSee() {
    AtomicLong seen = new AtomicLong();
    OffloadRouter router = OffloadRouter.builder()
        .guard((request, context) -> request.header("X-User")
            .map(u -> GuardVerdict.admit(USER, u))
            .orElse(GuardVerdict.deny(401, "who are you")))
        .route(Route.any(), (request, context) -> {
          seen.set(request.attribute(USER).orElseThrow().length());
          return Decision.passThrough(context);
        })
        .build();
    router.decide(OffloadRequest.get("/").header("X-User", "alice").build());
    assertThat(seen).hasValue(5);
  }

  @Test
  void guardDenialCarriesHeadersSuchAsRetryAfter() {
    OffloadRouter router = standard()
        .guard("limit", (request, context) ->
            GuardVerdict.deny(429, "rate limit exceeded", Headers.of("Retry-After", "2")))
        .build();
    Decision.Reject r = (Decision.Reject) router.decide(OffloadRequest.get("/api/x").build());
    assertThat(r.status()).isEqualTo(429);
    assertThat(r.headers().all("Retry-After")).containsExactly("2");
  }

  @Test
  void denyWhenGuard() {
    OffloadRouter router = standard()
        .guard(Guard.denyWhen(r -> r.clientAddress().getHostAddress().startsWith("198.51."), 403, "blocked"))
        .build();
    assertThat(router.decide(OffloadRequest.get("/api/x").clientAddress("198.51.100.1").build()))
        .isEqualTo(Decision.reject(403, "blocked"));
    assertThat(router.decide(OffloadRequest.get("/x").clientAddress("203.0.113.1").build()))
        .isInstanceOf(Decision.PassThrough.class);
  }

  // ---- failures -----------------------------------------------------------------------------

  @Test
  void aThrowingStrategyBecomesA500AndIsCountedAndExplained() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = standard()
        .route("broken", Route.prefix("/broken/"), (request, context) -> {
          throw new IllegalStateException("boom");
        })
        .meterRegistry(registry)
        .build();
    OffloadRequest request = OffloadRequest.get("/broken/x").build();
    Decision d = router.decide(request);
    assertThat(d).isInstanceOfSatisfying(Decision.Reject.class, r -> {
      assertThat(r.status()).isEqualTo(500);
      assertThat(r.reason()).doesNotContain("boom");
    });
    assertThat(registry.get("offload.strategy.errors").tag("route", "broken")
        .tag("exception", "IllegalStateException").counter().count()).isEqualTo(1.0);
    assertThat(registry.get("offload.decisions").tag("route", "broken").tag("decision", "reject")
        .counter().count()).isEqualTo(1.0);

    Explanation e = router.explain(request);
    assertThat(e.failure()).hasValueSatisfying(f -> assertThat(f).contains("boom"));
    assertThat(e.toString()).contains("failure: strategy of route 'broken' threw")
        .contains("IllegalStateException: boom");
    // the router keeps working
    assertThat(router.decide(OffloadRequest.get("/static/a.css").build()))
        .isInstanceOf(Decision.Redirect.class);
  }

  @Test
  void aStrategyReturningNullIsTreatedAsAFailure() {
    OffloadRouter router = OffloadRouter.builder()
        .route("nulls", Route.any(), (request, context) -> null)
        .build();
    assertThat(((Decision.Reject) router.decide(OffloadRequest.get("/").build())).status())
        .isEqualTo(500);
  }

  @Test
  void aThrowingGuardFailsClosed() {
    OffloadRouter router = standard()
        .guard("flaky", (request, context) -> {
          throw new RuntimeException("db down");
        })
        .build();
    assertThat(router.decide(OffloadRequest.get("/static/a.css").build()))
        .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.status()).isEqualTo(500));
  }

  /**
   * Throws a checked exception without declaring it, as Kotlin, Groovy or Lombok's
   * {@code @SneakyThrows} do.
   */
  @SuppressWarnings("unchecked")
  private static <E extends Exception> RuntimeException sneakyThrow(Exception e) throws E {
    throw (E) e;
  }

  @Test
  void aStrategyThrowingACheckedExceptionBecomesA500AndIsCountedAndExplained() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = standard()
        .route("sneaky", Route.prefix("/sneaky/"), (request, context) -> {
          throw sneakyThrow(new IOException("disk gone"));
        })
        .meterRegistry(registry)
        .build();
    OffloadRequest request = OffloadRequest.get("/sneaky/x").build();

    assertThat(router.decide(request)).isInstanceOfSatisfying(Decision.Reject.class, r -> {
      assertThat(r.status()).isEqualTo(500);
      assertThat(r.reason()).doesNotContain("disk gone");
    });
    assertThat(registry.get("offload.strategy.errors").tag("route", "sneaky")
        .tag("exception", "IOException").counter().count()).isEqualTo(1.0);
    assertThat(registry.get("offload.decisions").tag("route", "sneaky").tag("decision", "reject")
        .counter().count()).isEqualTo(1.0);
    assertThat(router.explain(request).toString())
        .contains("failure: strategy of route 'sneaky' threw")
        .contains("IOException: disk gone");
  }

  @Test
  void aGuardThrowingACheckedExceptionFailsClosedAndIsCountedAndExplained() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = standard()
        .guard("sneaky", (request, context) -> {
          throw sneakyThrow(new IOException("key store unreadable"));
        })
        .meterRegistry(registry)
        .build();
    OffloadRequest request = OffloadRequest.get("/static/a.css").build();

    assertThat(router.decide(request))
        .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.status()).isEqualTo(500));
    assertThat(registry.get("offload.strategy.errors").tag("route", "sneaky")
        .tag("exception", "IOException").counter().count()).isEqualTo(1.0);
    Explanation e = router.explain(request);
    assertThat(e.failure())
        .hasValueSatisfying(f -> assertThat(f).contains("IOException: key store unreadable"));
    assertThat(e.toString()).contains("guard 'sneaky' threw");
  }

  // ---- explain ------------------------------------------------------------------------------

  @Test
  void explainShowsGuardsRoutesTriedStrategyAndInputs() {
    OffloadRouter router = standard().guard("auth", Guard.requireHeader("Authorization")).build();
    OffloadRequest request = OffloadRequest.get("/api/orders").header("Authorization", "t").build();
    Explanation e = router.explain(request);

    assertThat(e.guards()).singleElement().satisfies(g -> {
      assertThat(g.name()).isEqualTo("auth");
      assertThat(g.verdict()).isEqualTo("admit");
    });
    assertThat(e.routes()).extracting(Explanation.RouteStep::name)
        .containsExactly("static", "images", "api");
    assertThat(e.routes().get(0).reason()).contains("/api/orders").contains("/static/**");
    assertThat(e.routes().get(1).reason()).contains("method GET is not POST");
    assertThat(e.routes().get(2).matched()).isTrue();
    assertThat(e.route()).hasValue("api");
    assertThat(e.strategy()).isEqualTo("FailoverStrategy.to(api)");
    assertThat(e.inputs()).containsEntry("api[http://127.0.0.1:8081].inFlight", "0");
    assertThat(e.decision()).isInstanceOf(Decision.Forward.class);
    // explain released the slot it took
    assertThat(((Decision.Forward) e.decision()).handle().outcome()).hasValue(Outcome.DROPPED);
    assertThat(BackendLoad.of(api).inFlight()).isZero();

    assertThat(e.toString()).isEqualTo("""
        GET /api/orders
          guard 'auth' (requireHeader(Authorization)): admit
          route #1 'static': no, path /api/orders does not match /static/**
          route #2 'images': no, method GET is not POST
          route #3 'api': matched
          strategy: FailoverStrategy.to(api)
          inputs: {api[http://127.0.0.1:8081].inFlight=0}
          decision: forward to api at http://127.0.0.1:8081""");
  }

  @Test
  void explainShowsTheFallThroughAndRefusals() {
    OffloadRouter router = standard().build();
    Explanation miss = router.explain(OffloadRequest.get("/index.html").build());
    assertThat(miss.route()).isEmpty();
    assertThat(miss.routes()).noneMatch(Explanation.RouteStep::matched);
    assertThat(miss.toString()).contains("strategy: otherwise: passThrough")
        .contains("decision: pass through to the host's handler");

    Explanation refused = router.explain(OffloadRequest.get("/a%2fb").build());
    assertThat(refused.targetError()).hasValue("encoded slash in path");
    assertThat(refused.toString()).contains("target refused: encoded slash in path")
        .contains("decision: reject 400");

    Explanation denied = standard().guard("auth", Guard.requireHeader("Authorization")).build()
        .explain(OffloadRequest.get("/api/x").build());
    assertThat(denied.toString()).contains("guard 'auth' (requireHeader(Authorization)): deny(401")
        .contains("strategy: none: guard 'auth' denied");
  }

  @Test
  void explainRecordsNoMetrics() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = standard().meterRegistry(registry).build();
    router.explain(OffloadRequest.get("/api/x").build());
    assertThat(registry.find("offload.decisions").counters()).isEmpty();
  }

  /** The index must never change which route wins: compare with explain's full scan. */
  @Test
  void indexedLookupAgreesWithAFullScan() {
    OffloadRouter.Builder builder = OffloadRouter.builder();
    String[] segments = {"api", "static", "img", "v1", "admin", "a", "", "other"};
    List<Route> routes = List.of(
        Route.prefix("/api/"), Route.get("/static/**"), Route.path("*.png"),
        Route.exact("/"), Route.prefix("/v1/").and(Route.header("X-A")),
        Route.path("/*/img/*.png"), Route.prefix("/admin"), Route.extensions("css"),
        Route.prefix("/api/").or(Route.prefix("/v1/")), Route.not(Route.prefix("/a/")),
        Route.host("example.com").and(Route.prefix("/img/")), Route.prefix("/a/"),
        Route.exact("/v1").or(Route.prefix("/img/")), Route.prefix("/api/").and(Route.prefix("/v1/")),
        Route.prefix("/a/").and(Route.exact("/a").or(Route.prefix("/static/"))),
        Route.post("*.png"), Route.method("PROPFIND").and(Route.prefix("/a/")),
        Route.get("/img/**").or(Route.post("/v1/**")), Route.not(Route.method("GET")),
        Route.method("DELETE").and(Route.method("GET")), Route.extensions("css").and(Route.method("HEAD")));
    for (int i = 0; i < routes.size(); i++) {
      builder.route("r" + i, routes.get(i), OffloadStrategy.reject(400 + i, "r" + i));
    }
    OffloadRouter router = builder.build();
    Random random = new Random(42);
    for (int n = 0; n < 5000; n++) {
      StringBuilder path = new StringBuilder();
      int depth = random.nextInt(4);
      for (int d = 0; d <= depth; d++) {
        path.append('/').append(segments[random.nextInt(segments.length)]);
        if (random.nextInt(4) == 0) {
          path.append(random.nextBoolean() ? ".png" : ".css");
        }
      }
      String[] methods = {"GET", "HEAD", "POST", "DELETE", "PROPFIND", "OPTIONS"};
      OffloadRequest.Builder b =
          OffloadRequest.builder(methods[random.nextInt(methods.length)], path.toString());
      if (random.nextBoolean()) {
        b.header("X-A", "1");
      }
      if (random.nextBoolean()) {
        b.header("Host", "example.com");
      }
      OffloadRequest request = b.build();
      assertThat(router.decide(request)).as(request.toString())
          .isEqualTo(router.explain(request).decision());
    }
  }

  // ---- time ---------------------------------------------------------------------------------

  @Test
  void strategiesReadTheInjectedTicker() {
    OffloadRouter router = OffloadRouter.builder()
        .ticker(ticker)
        .route(Route.any(), (request, context) -> context.nanoTime() >= Duration.ofSeconds(10).toNanos()
            ? Decision.reject(503, "closed") : Decision.passThrough(context))
        .build();
    OffloadRequest request = OffloadRequest.get("/").build();
    assertThat(router.decide(request)).isInstanceOf(Decision.PassThrough.class);
    ticker.advance(Duration.ofSeconds(10));
    assertThat(router.decide(request)).isInstanceOf(Decision.Reject.class);
  }

  // ---- metrics ------------------------------------------------------------------------------

  @Test
  void decisionsAreCountedByRouteAndKind() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = standard().meterRegistry(registry).build();
    router.decide(OffloadRequest.get("/static/a.css").build());
    router.decide(OffloadRequest.get("/static/b.css").build());
    ((Decision.Forward) router.decide(OffloadRequest.get("/api/x").build())).handle().onSuccess();
    router.decide(OffloadRequest.get("/other").build());
    router.decide(OffloadRequest.get("/a%2fb").build());

    assertThat(registry.get("offload.decisions").tag("route", "static").tag("decision", "redirect")
        .counter().count()).isEqualTo(2.0);
    assertThat(registry.get("offload.decisions").tag("route", "api").tag("decision", "forward")
        .counter().count()).isEqualTo(1.0);
    assertThat(registry.get("offload.decisions").tag("route", "none").tag("decision", "pass_through")
        .counter().count()).isEqualTo(1.0);
    assertThat(registry.get("offload.decisions").tag("route", "none").tag("decision", "reject")
        .counter().count()).isEqualTo(1.0);
    assertThat(registry.find("offload.decide.duration").timers()).isEmpty();
  }

  @Test
  void guardRejectionsAreCountedUnderTheGuardsName() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = standard().guard("auth", Guard.requireHeader("Authorization"))
        .meterRegistry(registry).build();
    router.decide(OffloadRequest.get("/api/x").build());
    assertThat(registry.get("offload.decisions").tag("route", "auth").tag("decision", "reject")
        .counter().count()).isEqualTo(1.0);
  }

  @Test
  void decideDurationIsTimedWithTheTickerWhenAskedFor() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OffloadRouter router = OffloadRouter.builder()
        .ticker(ticker)
        .meterRegistry(registry)
        .recordDecideDuration(true)
        .route("slow", Route.any(), (request, context) -> {
          ticker.advance(Duration.ofMillis(3));
          return Decision.passThrough(context);
        })
        .build();
    router.decide(OffloadRequest.get("/").build());
    assertThat(registry.get("offload.decide.duration").tag("route", "slow").timer()
        .totalTime(java.util.concurrent.TimeUnit.MILLISECONDS)).isEqualTo(3.0);
  }

  // ---- builder validation -------------------------------------------------------------------

  @Test
  void builderRejectsBadConfigurationNamingTheSetting() {
    assertThatThrownBy(() -> OffloadRouter.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("otherwise");
    assertThat(OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build()
        .decide(OffloadRequest.get("/").build())).isInstanceOf(Decision.PassThrough.class);
    assertThatThrownBy(() -> OffloadRouter.builder()
        .route("a", Route.any(), OffloadStrategy.passThrough())
        .route("a", Route.get("/x"), OffloadStrategy.passThrough()).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("duplicate route name 'a'");
    assertThatThrownBy(() -> OffloadRouter.builder()
        .route(Route.get("/x"), OffloadStrategy.passThrough())
        .route(Route.get("/x"), OffloadStrategy.passThrough()).build())
        .hasMessageContaining("duplicate route name 'GET|HEAD /x'");
    assertThatThrownBy(() -> OffloadRouter.builder()
        .guard("g", Guard.allowAll()).guard("g", Guard.allowAll())
        .otherwise(OffloadStrategy.passThrough()).build())
        .hasMessageContaining("duplicate guard name 'g'");
    assertThatThrownBy(() -> OffloadRouter.builder()
        .route("none", Route.any(), OffloadStrategy.passThrough()).build())
        .hasMessageContaining("'none' is reserved");
    assertThatThrownBy(() -> OffloadRouter.builder().recordDecideDuration(true)
        .otherwise(OffloadStrategy.passThrough()).build())
        .hasMessageContaining("meterRegistry");
    assertThatThrownBy(() -> OffloadRouter.builder().route(" ", Route.any(), OffloadStrategy.passThrough()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("route name");
    assertThatThrownBy(() -> OffloadRouter.builder().route(null, OffloadStrategy.passThrough()))
        .isInstanceOf(NullPointerException.class).hasMessage("route");
    assertThatThrownBy(() -> OffloadRouter.builder().ticker(null))
        .isInstanceOf(NullPointerException.class).hasMessage("ticker");
    assertThatThrownBy(() -> OffloadRouter.builder().route(Route.any(), null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy");
  }

  @Test
  void backendBuilderRejectsBadValues() {
    assertThatThrownBy(() -> Backend.of("bad name", URI.create("http://127.0.0.1")))
        .hasMessageContaining("bad name");
    assertThatThrownBy(() -> Backend.of("api", URI.create("file:///etc/passwd")))
        .hasMessageContaining("file:///etc/passwd");
    assertThatThrownBy(() -> Backend.of("api", URI.create("http://user:pw@127.0.0.1")))
        .hasMessageContaining("user info");
    assertThatThrownBy(() -> Backend.builder("api").readTimeout(Duration.ZERO))
        .hasMessageContaining("readTimeout");
    assertThatThrownBy(() -> Backend.builder("api").build())
        .hasMessageContaining("at least one instance");
  }

  @Test
  void routerDescribesItsTable() {
    assertThat(standard().build().toString())
        .contains("#1 'static' GET|HEAD /static/** -> CdnStrategy.redirectTo(https://cdn.example.com)")
        .contains("otherwise -> passThrough");
  }
}
