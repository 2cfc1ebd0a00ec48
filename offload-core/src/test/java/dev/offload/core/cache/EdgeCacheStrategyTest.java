package dev.offload.core.cache;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Backend;
import dev.offload.core.BodySink;
import dev.offload.core.CachedResponse;
import dev.offload.core.Decision;
import dev.offload.core.Explanation;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.ResponseFill;
import dev.offload.core.Route;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.testing.FakeTicker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Decisions of {@code CdnStrategy.edgeCache} on a fake ticker, with fills fed by hand. */
class EdgeCacheStrategyTest {
  private static final Headers FRESH_60 =
      Headers.of("Cache-Control", "max-age=60", "ETag", "W/\"v1\"",
          "Last-Modified", "Sat, 28 Nov 2026 10:00:00 GMT", "Content-Type", "text/plain");

  private final FakeTicker ticker = new FakeTicker();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Backend origin = Backend.of("origin", URI.create("http://127.0.0.1:9"));
  private EdgeCache cache;
  private OffloadRouter router;

  @BeforeEach
  void setUp() {
    build(EdgeCache.builder().ticker(ticker).meterRegistry(registry));
  }

  private void build(EdgeCache.Builder builder) {
    cache = builder.build();
    router = OffloadRouter.builder().ticker(ticker)
        .route("img", Route.prefix("/img/"), CdnStrategy.edgeCache(cache).from(origin))
        .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(cache))
        .build();
  }

  private static OffloadRequest get(String target, String... headers) {
    return OffloadRequest.get(target).header("Host", "shop.example")
        .headers(Headers.of(headers)).build();
  }

  /** Plays the executor: feeds the decision's fill with a response and completes the handle. */
  private static void answer(Decision decision, int status, Headers headers, String body) {
    Decision.Holding holding = (Decision.Holding) decision;
    byte[] bytes = body.getBytes(UTF_8);
    BodySink sink = holding.handle().responseFill().onResponse(status, headers, bytes.length);
    sink.write(bytes, 0, bytes.length);
    sink.complete();
    holding.handle().onSuccess();
  }

  private static String body(CachedResponse response) {
    ByteBuffer b = response.body();
    byte[] bytes = new byte[b.remaining()];
    b.get(bytes);
    return new String(bytes, UTF_8);
  }

  private static String status(Decision decision) {
    return ((Decision.Holding) decision).handle().responseHeaders().first(CacheStatus.HEADER)
        .orElse(null);
  }

  private double counted(CacheStatus status) {
    return registry.get(EdgeCache.REQUESTS_METER).tag("cache", EdgeCache.DEFAULT_NAME)
        .tag("result", status.tag()).counter().count();
  }

  @Test
  void aMissForwardsWithAFillAndTheNextRequestIsAHitWithAgeOnTheTicker() {
    Decision miss = router.decide(get("/img/a.png"));
    assertThat(miss).isInstanceOf(Decision.Forward.class);
    assertThat(status(miss)).isEqualTo("MISS");
    answer(miss, 200, FRESH_60, "hello");

    ticker.advance(Duration.ofSeconds(10));
    Decision hit = router.decide(get("/img/a.png"));

    assertThat(hit).isInstanceOf(Decision.ServeCached.class);
    Decision.ServeCached served = (Decision.ServeCached) hit;
    assertThat(body(served.response())).isEqualTo("hello");
    assertThat(served.response().headers().first("Content-Type")).contains("text/plain");
    assertThat(served.handle().responseHeaders().first("Age")).contains("10");
    assertThat(status(hit)).isEqualTo("HIT");
    assertThat(BackendLoad.of(origin).inFlight()).isZero();
    assertThat(counted(CacheStatus.MISS)).isEqualTo(1);
    assertThat(counted(CacheStatus.HIT)).isEqualTo(1);
  }

  @Test
  void aStaleEntryWithoutValidatorsOrStaleWindowsIsGoneAtItsFreshnessLifetime() {
    answer(router.decide(get("/img/a.png")), 200, Headers.of("Cache-Control", "max-age=60"), "v1");
    ticker.advance(Duration.ofSeconds(59));
    assertThat(router.decide(get("/img/a.png"))).isInstanceOf(Decision.ServeCached.class);
    ticker.advance(Duration.ofSeconds(1));
    assertThat(status(router.decide(get("/img/a.png")))).isEqualTo("MISS");
    assertThat(cache.size()).isZero();
  }

  @Test
  void aStaleEntryIsExpiredAndRefilled() {
    // kept 30 s past its freshness for stale-if-error, so the stale entry is still there
    answer(router.decide(get("/img/a.png")), 200,
        FRESH_60.plus(Headers.of("Cache-Control", "stale-if-error=30")), "v1");
    ticker.advance(Duration.ofSeconds(60));

    Decision expired = router.decide(get("/img/a.png"));
    assertThat(expired).isInstanceOf(Decision.Forward.class);
    assertThat(status(expired)).isEqualTo("EXPIRED");
    answer(expired, 200, FRESH_60, "v2");

    Decision hit = router.decide(get("/img/a.png"));
    assertThat(body(((Decision.ServeCached) hit).response())).isEqualTo("v2");
    assertThat(((Decision.ServeCached) hit).handle().responseHeaders().first("Age")).contains("0");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("staleIfError")
  void aStaleResponseAnswersInsteadOfABackendFailureWhileStaleIfErrorAllows(String name,
      String cacheControl, int staleSeconds, boolean answers) {
    answer(router.decide(get("/img/a.png")), 200,
        Headers.of("Cache-Control", cacheControl), "stale but fine");
    ticker.advance(Duration.ofSeconds(staleSeconds));

    Decision expired = router.decide(get("/img/a.png"));
    Optional<CachedResponse> fallback =
        ((Decision.Forward) expired).handle().responseFill().onOriginFailure(503);

    assertThat(fallback.isPresent()).as(name).isEqualTo(answers);
    if (answers) {
      assertThat(body(fallback.get())).isEqualTo("stale but fine");
      assertThat(fallback.get().headers().first(CacheStatus.HEADER)).contains("STALE");
      assertThat(fallback.get().headers().first("Age")).contains(Integer.toString(staleSeconds));
      assertThat(counted(CacheStatus.STALE)).isEqualTo(1);
    }
  }

  static Stream<Arguments> staleIfError() {
    return Stream.of(
        Arguments.of("inside the window", "max-age=60, stale-if-error=30", 70, true),
        Arguments.of("stale-while-revalidate keeps it, but is no error window",
            "max-age=60, stale-while-revalidate=30", 70, false),
        Arguments.of("must-revalidate forbids it", "max-age=60, stale-if-error=30, "
            + "must-revalidate", 60, false));
  }

  @Test
  void aStaleEntryWithValidatorsIsRevalidatedAndA304FreshensIt() {
    answer(router.decide(get("/img/a.png")), 200, FRESH_60, "v1");
    ticker.advance(Duration.ofSeconds(90));

    Decision expired = router.decide(get("/img/a.png"));
    var handle = ((Decision.Forward) expired).handle();
    assertThat(status(expired)).isEqualTo("EXPIRED");
    assertThat(handle.requestHeaders().first("If-None-Match")).contains("W/\"v1\"");
    assertThat(handle.requestHeaders().first("If-Modified-Since"))
        .contains("Sat, 28 Nov 2026 10:00:00 GMT");
    Optional<CachedResponse> answer = handle.responseFill().onNotModified(
        Headers.of("Cache-Control", "max-age=120", "ETag", "W/\"v1\""));
    handle.responseFill().onNoResponse();
    handle.onSuccess();

    assertThat(answer).isPresent();
    assertThat(answer.get().status()).isEqualTo(200);
    assertThat(body(answer.get())).isEqualTo("v1");
    assertThat(answer.get().headers().first(CacheStatus.HEADER)).contains("REVALIDATED");
    assertThat(counted(CacheStatus.REVALIDATED)).isEqualTo(1);
    ticker.advance(Duration.ofSeconds(100)); // fresh for 120 s from the 304
    Decision hit = router.decide(get("/img/a.png"));
    assertThat(hit).isInstanceOf(Decision.ServeCached.class);
    assertThat(((Decision.ServeCached) hit).response().headers().first("Cache-Control"))
        .contains("max-age=120");
  }

  @Test
  void aPassThroughRouteCannotRevalidateAndFetchesWhole() {
    answer(router.decide(get("/static/a.css")), 200, FRESH_60, "v1");
    ticker.advance(Duration.ofSeconds(90));
    Decision expired = router.decide(get("/static/a.css"));
    assertThat(expired).isInstanceOf(Decision.PassThrough.class);
    assertThat(((Decision.PassThrough) expired).handle().requestHeaders().size()).isZero();
  }

  @Test
  void staleWhileRevalidateServesStaleAndRefreshesOnceInTheBackground() throws Exception {
    answer(router.decide(get("/img/a.png")), 200,
        Headers.of("Cache-Control", "max-age=60, stale-while-revalidate=30"), "v1");
    ticker.advance(Duration.ofSeconds(70));

    Decision refresh = router.decide(get("/img/a.png"));
    var pending = ((Decision.Forward) refresh).handle().pendingResponse().orElseThrow();
    assertThat(pending.refreshInBackground()).isTrue();
    CachedResponse stale = pending.await().orElseThrow();
    assertThat(body(stale)).isEqualTo("v1");
    assertThat(stale.headers().first(CacheStatus.HEADER)).contains("STALE");
    assertThat(stale.headers().first("Age")).contains("70");

    Decision meanwhile = router.decide(get("/img/a.png")); // the refresh runs: no second one
    assertThat(meanwhile).isInstanceOf(Decision.ServeCached.class);
    assertThat(((Decision.ServeCached) meanwhile).response().headers().first(CacheStatus.HEADER))
        .contains("STALE");

    answer(refresh, 200, Headers.of("Cache-Control", "max-age=60"), "v2"); // the background forward
    Decision hit = router.decide(get("/img/a.png"));
    assertThat(body(((Decision.ServeCached) hit).response())).isEqualTo("v2");
    assertThat(counted(CacheStatus.STALE)).isEqualTo(2);
  }

  @Test
  void pastTheStaleWhileRevalidateWindowTheRequestWaitsForTheBackend() {
    answer(router.decide(get("/img/a.png")), 200,
        Headers.of("Cache-Control", "max-age=60, stale-while-revalidate=30, stale-if-error=60"),
        "v1");
    ticker.advance(Duration.ofSeconds(95));
    Decision expired = router.decide(get("/img/a.png"));
    assertThat(status(expired)).isEqualTo("EXPIRED");
    assertThat(((Decision.Forward) expired).handle().pendingResponse()).isEmpty();
  }

  @Test
  void currentAgeAddsTheAgeFieldAndTheResponseDelay() {
    Decision miss = router.decide(get("/img/a.png"));
    ticker.advance(Duration.ofSeconds(2)); // the origin took 2 s
    answer(miss, 200, FRESH_60.plus(Headers.of("Age", "5")), "x");
    ticker.advance(Duration.ofSeconds(3));

    Decision hit = router.decide(get("/img/a.png"));
    assertThat(((Decision.ServeCached) hit).handle().responseHeaders().first("Age")).contains("10");
    ticker.advance(Duration.ofSeconds(50)); // age 60: no longer fresh
    assertThat(router.decide(get("/img/a.png"))).isInstanceOf(Decision.Forward.class);
  }

  @Test
  void aPassThroughRouteFillsFromTheHostsAnswer() {
    Decision miss = router.decide(get("/static/app.css"));
    assertThat(miss).isInstanceOf(Decision.PassThrough.class);
    answer(miss, 200, FRESH_60, "body{}");

    Decision hit = router.decide(get("/static/app.css"));
    assertThat(body(((Decision.ServeCached) hit).response())).isEqualTo("body{}");
  }

  @Test
  void headIsAnsweredFromTheGetEntryAndItsMissIsNotStored() {
    Decision headMiss = router.decide(OffloadRequest.head("/img/a.png")
        .header("Host", "shop.example").build());
    assertThat(headMiss).isInstanceOf(Decision.Forward.class);
    assertThat(((Decision.Forward) headMiss).handle().responseFill()).isSameAs(ResponseFill.NONE);
    ((Decision.Forward) headMiss).handle().onSuccess();

    answer(router.decide(get("/img/a.png")), 200, FRESH_60, "hello");
    Decision head = router.decide(OffloadRequest.head("/img/a.png")
        .header("Host", "shop.example").build());
    assertThat(head).isInstanceOf(Decision.ServeCached.class);
  }

  static Stream<Arguments> conditionals() {
    return Stream.of(
        Arguments.of("If-None-Match, weak comparison", Headers.of("If-None-Match", "\"v1\""), 304),
        Arguments.of("If-None-Match list", Headers.of("If-None-Match", "\"x\", W/\"v1\""), 304),
        Arguments.of("If-None-Match *", Headers.of("If-None-Match", "*"), 304),
        Arguments.of("If-None-Match other", Headers.of("If-None-Match", "\"v2\""), 200),
        Arguments.of("If-Modified-Since equal",
            Headers.of("If-Modified-Since", "Sat, 28 Nov 2026 10:00:00 GMT"), 304),
        Arguments.of("If-Modified-Since before",
            Headers.of("If-Modified-Since", "Sat, 28 Nov 2026 09:00:00 GMT"), 200),
        Arguments.of("If-None-Match wins over If-Modified-Since", Headers.of(
            "If-None-Match", "\"v2\"", "If-Modified-Since", "Sat, 28 Nov 2026 11:00:00 GMT"), 200));
  }

  @ParameterizedTest(name = "[{index}] {0} -> {2}")
  @MethodSource("conditionals")
  void aConditionalRequestMatchingAFreshEntryGets304WithTheValidators(String name,
      Headers conditional, int expected) {
    answer(router.decide(get("/img/a.png")), 200, FRESH_60, "hello");

    Decision decision = router.decide(OffloadRequest.get("/img/a.png")
        .header("Host", "shop.example").headers(conditional).build());

    CachedResponse response = ((Decision.ServeCached) decision).response();
    assertThat(response.status()).as(name).isEqualTo(expected);
    if (expected == 304) {
      assertThat(response.bodyLength()).isZero();
      assertThat(response.headers().first("ETag")).contains("W/\"v1\"");
      assertThat(response.headers().first("Cache-Control")).contains("max-age=60");
      assertThat(response.headers().contains("Content-Type")).isFalse();
    }
  }

  static Stream<Arguments> variants() {
    Headers gzip = Headers.of("Accept-Encoding", "gzip");
    return Stream.of(
        Arguments.of("same value", "Accept-Encoding", gzip, Headers.of("Accept-Encoding", "gzip"),
            true),
        Arguments.of("trimmed value", "Accept-Encoding", gzip,
            Headers.of("accept-encoding", "  gzip "), true),
        Arguments.of("Vary name in another case", "ACCEPT-encoding", gzip,
            Headers.of("Accept-Encoding", "gzip"), true),
        Arguments.of("other value", "Accept-Encoding", gzip, Headers.of("Accept-Encoding", "br"),
            false),
        Arguments.of("absent now", "Accept-Encoding", gzip, Headers.empty(), false),
        Arguments.of("absent both", "Accept-Encoding", Headers.empty(), Headers.empty(), true),
        Arguments.of("two names, one differs", "Accept-Encoding, Accept-Language",
            gzip.plus(Headers.of("Accept-Language", "en")),
            Headers.of("Accept-Encoding", "gzip", "Accept-Language", "fr"), false),
        Arguments.of("two field lines", "Accept-Encoding",
            Headers.of("Accept-Encoding", "gzip", "Accept-Encoding", "br"),
            Headers.of("Accept-Encoding", "gzip ", "Accept-Encoding", " br"), true));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("variants")
  void varyNamesTheRequestFieldsThatSelectAStoredResponse(String name, String vary,
      Headers storedWith, Headers requestedWith, boolean hit) {
    Decision miss = router.decide(OffloadRequest.get("/img/a.png").header("Host", "shop.example")
        .headers(storedWith).build());
    answer(miss, 200, FRESH_60.plus(Headers.of("Vary", vary)), "hello");

    Decision decision = router.decide(OffloadRequest.get("/img/a.png")
        .header("Host", "shop.example").headers(requestedWith).build());

    assertThat(decision).as(name)
        .isInstanceOf(hit ? Decision.ServeCached.class : Decision.Forward.class);
  }

  @Test
  void variantsOfOneUrlAreKeptSideBySide() {
    answer(router.decide(get("/img/a.png", "Accept-Encoding", "gzip")), 200,
        FRESH_60.plus(Headers.of("Vary", "Accept-Encoding")), "gz");
    answer(router.decide(get("/img/a.png", "Accept-Encoding", "br")), 200,
        FRESH_60.plus(Headers.of("Vary", "Accept-Encoding")), "br");

    assertThat(body(((Decision.ServeCached) router.decide(
        get("/img/a.png", "Accept-Encoding", "gzip"))).response())).isEqualTo("gz");
    assertThat(body(((Decision.ServeCached) router.decide(
        get("/img/a.png", "Accept-Encoding", "br"))).response())).isEqualTo("br");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"/img/a.png?v=2", "/img/b.png", "/static/img/a.png"})
  void theKeyIsRouteHostPathAndQuery(String other) {
    answer(router.decide(get("/img/a.png?v=1")), 200, FRESH_60, "v1");
    assertThat(router.decide(get(other))).isNotInstanceOf(Decision.ServeCached.class);
    assertThat(router.decide(OffloadRequest.get("/img/a.png?v=1")
        .header("Host", "other.example").build())).isInstanceOf(Decision.Forward.class);
    assertThat(router.decide(OffloadRequest.get("/img/a.png?v=1")
        .header("Host", "SHOP.example:8080").build())).isInstanceOf(Decision.ServeCached.class);
  }

  @Test
  void aTruncatedBodyIsNeverStored() {
    Decision miss = router.decide(get("/img/a.png"));
    BodySink sink = ((Decision.Forward) miss).handle().responseFill()
        .onResponse(200, FRESH_60, 10);
    sink.write("hello".getBytes(UTF_8), 0, 5);
    sink.complete(); // 5 of 10 bytes: the framing says it is short

    Decision aborted = router.decide(get("/img/a.png"));
    assertThat(aborted).isInstanceOf(Decision.Forward.class);
    BodySink second = ((Decision.Forward) aborted).handle().responseFill()
        .onResponse(200, FRESH_60, -1);
    second.write("hello".getBytes(UTF_8), 0, 5);
    second.abort();

    assertThat(router.decide(get("/img/a.png"))).isInstanceOf(Decision.Forward.class);
    assertThat(cache.size()).isZero();
  }

  @Test
  void aBodyOverMaxObjectBytesStreamsThroughUncached() {
    build(EdgeCache.builder().ticker(ticker).maxObjectBytes(8));
    Decision miss = router.decide(get("/img/a.png"));
    BodySink sink = ((Decision.Forward) miss).handle().responseFill()
        .onResponse(200, FRESH_60, -1); // chunked: the length shows only as it arrives
    sink.write("12345".getBytes(UTF_8), 0, 5);
    sink.write("67890".getBytes(UTF_8), 0, 5);
    sink.complete();
    assertThat(cache.size()).isZero();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"Set-Cookie: s=1", "Cache-Control: private, max-age=60",
      "Cache-Control: no-store"})
  void aResponseTheRulesRefuseIsNotStored(String field) {
    int colon = field.indexOf(':');
    Headers headers = Headers.of("Cache-Control", "max-age=60").toBuilder()
        .set(field.substring(0, colon), field.substring(colon + 1).strip()).build();
    answer(router.decide(get("/img/a.png")), 200, headers, "secret");
    assertThat(router.decide(get("/img/a.png"))).isInstanceOf(Decision.Forward.class);
  }

  @Test
  void aRequestWithUnkeyedReflectedFieldsIsServedHitsButNeverFills() {
    Decision poisoned = router.decide(get("/img/a.png", "X-Forwarded-Host", "evil.example"));
    assertThat(status(poisoned)).isEqualTo("BYPASS");
    assertThat(((Decision.Forward) poisoned).handle().responseFill()).isSameAs(ResponseFill.NONE);

    answer(router.decide(get("/img/a.png")), 200, FRESH_60, "clean");
    Decision hit = router.decide(get("/img/a.png", "X-Forwarded-Host", "evil.example"));
    assertThat(body(((Decision.ServeCached) hit).response())).isEqualTo("clean");
  }

  @ParameterizedTest(name = "[{index}] {0} {1}")
  @MethodSource("unsafe")
  void aSuccessfulUnsafeMethodDropsThatUrlsEntries(String method, int status, boolean drops) {
    answer(router.decide(get("/img/a.png")), 200, FRESH_60, "v1");
    Decision unsafe = router.decide(OffloadRequest.builder(method, "/img/a.png")
        .header("Host", "shop.example").build());
    assertThat(status(unsafe)).isEqualTo("BYPASS");
    BodySink sink = ((Decision.Forward) unsafe).handle().responseFill()
        .onResponse(status, Headers.empty(), 0);
    sink.complete();

    assertThat(router.decide(get("/img/a.png")))
        .isInstanceOf(drops ? Decision.Forward.class : Decision.ServeCached.class);
  }

  static Stream<Arguments> unsafe() {
    return Stream.of(Arguments.of("POST", 200, true), Arguments.of("PUT", 204, true),
        Arguments.of("PATCH", 200, true), Arguments.of("DELETE", 202, true),
        Arguments.of("POST", 409, false), Arguments.of("OPTIONS", 200, false));
  }

  @Test
  void explainingReadsWithoutRegisteringAndNotesKeyAgeAndWhy() {
    Explanation missing = router.explain(get("/img/a.png"));
    assertThat(missing.inputs()).containsKey("cache.key").containsEntry("cache.result", "MISS");
    assertThat(String.valueOf(missing.inputs().get("cache.fill"))).contains("stored if");

    Decision leader = router.decide(get("/img/a.png")); // not a follower: explain registered nothing
    assertThat(((Decision.Forward) leader).handle().pendingResponse()).isEmpty();
    assertThat(((Decision.Forward) leader).handle().responseFill()).isNotSameAs(ResponseFill.NONE);
    Explanation whileFetching = router.explain(get("/img/a.png"));
    assertThat(whileFetching.decision()).isInstanceOf(Decision.Forward.class);
    assertThat(whileFetching.inputs()).containsKey("cache.coalesce");
    answer(leader, 200, FRESH_60, "x");

    ticker.advance(Duration.ofSeconds(7));
    Explanation hit = router.explain(get("/img/a.png"));
    assertThat(hit.decision()).isInstanceOf(Decision.ServeCached.class);
    assertThat(String.valueOf(hit.inputs().get("cache.stored"))).contains("age 7 s");
    assertThat(counted(CacheStatus.HIT)).isZero(); // explaining counts nothing
    assertThat(BackendLoad.of(origin).inFlight()).isZero();
  }

  @Test
  void concurrentMissesWaitForTheFirstFetch() throws Exception {
    Decision leader = router.decide(get("/img/a.png"));
    Decision follower = router.decide(get("/img/a.png"));
    assertThat(((Decision.Forward) follower).handle().responseFill()).isSameAs(ResponseFill.NONE);
    var pending = ((Decision.Forward) follower).handle().pendingResponse().orElseThrow();

    answer(leader, 200, FRESH_60, "once");

    Optional<CachedResponse> shared = pending.await();
    assertThat(shared).isPresent();
    assertThat(body(shared.get())).isEqualTo("once");
    assertThat(shared.get().headers().first(CacheStatus.HEADER)).contains("HIT");
  }

  @Test
  void aFollowerGoesItselfWhenTheFetchIsNotStorable() throws Exception {
    Decision leader = router.decide(get("/img/a.png"));
    Decision follower = router.decide(get("/img/a.png"));
    answer(leader, 200, Headers.of("Cache-Control", "no-store"), "private");

    var handle = ((Decision.Forward) follower).handle();
    assertThat(handle.pendingResponse().orElseThrow().await()).isEmpty();
    assertThat(handle.responseHeaders().first(CacheStatus.HEADER)).contains("MISS");
  }

  @Test
  void aFollowerGoesItselfAfterTheCoalesceTimeout() throws Exception {
    build(EdgeCache.builder().ticker(ticker).coalesceTimeout(Duration.ofMillis(1)));
    router.decide(get("/img/a.png")); // a leader that never answers
    Decision follower = router.decide(get("/img/a.png"));
    assertThat(((Decision.Forward) follower).handle().pendingResponse().orElseThrow().await())
        .isEmpty();
  }

  @Test
  void aFetchOlderThanTheLockAgeLetsOneMoreThrough() {
    build(EdgeCache.builder().ticker(ticker).coalesceLockAge(Duration.ofSeconds(2)));
    router.decide(get("/img/a.png")); // slow leader
    ticker.advance(Duration.ofSeconds(2));
    Decision second = router.decide(get("/img/a.png"));
    assertThat(((Decision.Forward) second).handle().pendingResponse()).isEmpty();
    assertThat(((Decision.Forward) second).handle().responseFill()).isNotSameAs(ResponseFill.NONE);
    Decision third = router.decide(get("/img/a.png"));
    assertThat(((Decision.Forward) third).handle().pendingResponse()).isPresent();
  }

  @Test
  void aFillThatNeverSawAResponseReleasesItsFollowers() throws Exception {
    Decision leader = router.decide(get("/img/a.png"));
    Decision follower = router.decide(get("/img/a.png"));
    ((Decision.Forward) leader).handle().responseFill().onNoResponse(); // connect refused
    assertThat(((Decision.Forward) follower).handle().pendingResponse().orElseThrow().await())
        .isEmpty();
    assertThat(((Decision.Forward) router.decide(get("/img/a.png"))).handle().pendingResponse())
        .isEmpty();
  }

  @Test
  void aPassThroughTheRouterRefusesDoesNotLeaveAFetchForOthersToWaitFor() {
    Decision refused = router.decide(get("/static//app.css")); // not canonical: refused
    assertThat(refused).isInstanceOf(Decision.Reject.class);
    Decision next = router.decide(get("/static/app.css"));
    assertThat(((Decision.PassThrough) next).handle().pendingResponse()).isEmpty();
    assertThat(((Decision.PassThrough) next).handle().responseFill())
        .isNotSameAs(ResponseFill.NONE);
  }

  @Test
  void purgesByUrlPrefixAndTag() {
    answer(router.decide(get("/img/a.png")), 200,
        FRESH_60.plus(Headers.of("Surrogate-Key", "product-1 sale")), "a");
    answer(router.decide(get("/img/b.png?x=1")), 200,
        FRESH_60.plus(Headers.of("Cache-Tag", "product-2,sale")), "b");
    answer(router.decide(get("/static/c.css")), 200, FRESH_60, "c");
    assertThat(cache.size()).isEqualTo(3);

    assertThat(cache.purgeTag("product-1")).isEqualTo(1);
    assertThat(cache.purge("SHOP.example", "/img/b.png?x=1")).isEqualTo(1);
    assertThat(cache.purgePrefix("/static/")).isEqualTo(1);
    assertThat(cache.size()).isZero();
  }

  @Test
  void aFillThatStartedBeforeAPurgeOfItsUrlIsNotStoredAfterIt() {
    Decision before = router.decide(get("/img/a.png")); // fetching the old version
    Decision other = router.decide(get("/img/b.png"));
    cache.purge("shop.example", "/img/a.png"); // the origin changed a.png meanwhile
    answer(before, 200, FRESH_60, "old a");
    answer(other, 200, FRESH_60, "b"); // another URL's fill is kept
    assertThat(router.decide(get("/img/b.png"))).isInstanceOf(Decision.ServeCached.class);

    Decision after = router.decide(get("/img/a.png")); // a miss, started after the purge
    assertThat(after).isInstanceOf(Decision.Forward.class);
    answer(after, 200, FRESH_60, "new a");
    assertThat(body(((Decision.ServeCached) router.decide(get("/img/a.png"))).response()))
        .isEqualTo("new a");
  }

  @Test
  void aFillThatStartedBeforeAPrefixTagOrWholePurgeIsNotStored() {
    for (Runnable purge : List.<Runnable>of(() -> cache.purgePrefix("/nothing/"),
        () -> cache.purgeTag("none"), cache::purgeAll,
        () -> cache.apply(Purge.prefix("/img/")))) {
      Decision before = router.decide(get("/img/a.png"));
      purge.run();
      answer(before, 200, FRESH_60, "old a");
      assertThat(cache.size()).as("after %s", purge).isZero();
    }
  }

  @Test
  void listenersHearPurgesMadeHereButNotThoseAppliedFromElsewhere() {
    List<Purge> heard = new ArrayList<>();
    cache.addPurgeListener(heard::add);
    answer(router.decide(get("/img/a.png")), 200, FRESH_60, "a");
    cache.purge("SHOP.example", "/img/x.png");
    cache.purgeTag("t");
    cache.purgePrefix("/static/");
    cache.purgeAll();
    assertThat(cache.apply(Purge.url("shop.example", "/img/a.png"))).isZero();
    assertThat(heard).containsExactly(Purge.url("shop.example", "/img/x.png"), Purge.tag("t"),
        Purge.prefix("/static/"), Purge.all());
    assertThatThrownBy(() -> Purge.url("", "/x")).hasMessageContaining("host");
    assertThatThrownBy(() -> Purge.tag("")).hasMessageContaining("tag");
  }

  @Test
  void storageIsBoundedByBytesAndEvictionsAreCounted() {
    build(EdgeCache.builder().ticker(ticker).meterRegistry(registry).name("small")
        .maximumBytes(4096).maxObjectBytes(1024));
    String kilobyte = "x".repeat(1000);
    for (int i = 0; i < 20; i++) {
      answer(router.decide(get("/img/" + i + ".png")), 200, FRESH_60, kilobyte);
    }
    cache.weightedSize(); // runs pending maintenance on this thread
    assertThat(cache.weightedSize()).isLessThanOrEqualTo(4096);
    assertThat(registry.get(EdgeCache.EVICTIONS_METER).tag("cache", "small").counter().count())
        .isGreaterThan(0);
    assertThat(registry.get(EdgeCache.SIZE_METER).tag("cache", "small").gauge().value())
        .isEqualTo((double) cache.weightedSize());
  }

  @Test
  void builderErrorsNameTheSettingAndTheValue() {
    assertThatThrownBy(() -> EdgeCache.builder().maximumBytes(0))
        .hasMessageContaining("maximumBytes").hasMessageContaining("0");
    assertThatThrownBy(() -> EdgeCache.builder().maxObjectBytes(-5))
        .hasMessageContaining("maxObjectBytes").hasMessageContaining("-5");
    assertThatThrownBy(() -> EdgeCache.builder().coalesceTimeout(Duration.ZERO))
        .hasMessageContaining("coalesceTimeout");
    assertThatThrownBy(() -> EdgeCache.builder().maximumBytes(10).maxObjectBytes(20).build())
        .hasMessageContaining("maxObjectBytes 20").hasMessageContaining("maximumBytes 10");
    assertThatThrownBy(() -> EdgeCache.builder().ticker(null)).hasMessage("ticker");
  }
}
