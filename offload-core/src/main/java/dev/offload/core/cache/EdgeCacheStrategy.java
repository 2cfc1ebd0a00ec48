package dev.offload.core.cache;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Backend;
import dev.offload.core.BodySink;
import dev.offload.core.CachedResponse;
import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.DecisionHandle;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.PendingResponse;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.BackendLoad;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A route answered from an {@link EdgeCache}, filled from its origin: a backend ({@link
 * #from(Backend)}) or the host's own handler (pass-through, the default). Made by {@link
 * CdnStrategy#edgeCache(EdgeCache)}.
 *
 * <pre>{@code
 * .route("img", Route.get("/img/**"), CdnStrategy.edgeCache(cache).from(staticBackend))
 * .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(cache))
 * }</pre>
 *
 * <p>What {@code decide} returns, each answer with {@value CacheStatus#HEADER}:
 * <ul>
 *   <li>a fresh stored response for the request's key and variant: {@link Decision.ServeCached}
 *       with {@code Age} ({@code HIT}); a 304 with the validators when the request's {@code
 *       If-None-Match} (weak comparison) or {@code If-Modified-Since} matches it;
 *   <li>nothing fresh: the origin's decision ({@code Forward} or {@code PassThrough}) carrying a
 *       {@link dev.offload.core.ResponseFill} that stores the response if the rules allow
 *       ({@code MISS}, or {@code EXPIRED} when a stale one was there); when another request is
 *       already fetching the same URL, it carries a {@link PendingResponse} instead, and the
 *       executor waits for that fetch (bounded) before it goes itself;
 *   <li>a request the cache must not fill from ({@code Range}, or fields a backend may reflect
 *       but that are not keyed: {@code X-Forwarded-Host}, {@code X-Original-URL}, {@code
 *       X-Rewrite-URL}, {@code X-HTTP-Method-Override}, ...) is still answered from a fresh
 *       stored response, but its own response is never stored ({@code BYPASS});
 *   <li>a stale stored response with validators is revalidated on a backend route: the forward
 *       carries {@code If-None-Match} / {@code If-Modified-Since}, and a 304 from the backend
 *       freshens it and answers from it ({@code REVALIDATED});
 *   <li>a stale stored response inside its {@code stale-while-revalidate} window on a backend
 *       route is answered ({@code STALE}) and refreshed once in the background by the executor;
 *   <li>a stale stored response whose {@code stale-if-error} window is open answers instead of
 *       the backend's failure (5xx, unreachable, timeout) on a backend route ({@code STALE});
 *   <li>other methods go to the origin ({@code BYPASS}); a 2xx answer to {@code POST}, {@code
 *       PUT}, {@code PATCH} or {@code DELETE} removes the stored responses for that URL.
 * </ul>
 *
 * <p>While explaining it reads without registering anything and notes the key, the age, the
 * freshness and why a response would or would not be stored. Immutable and thread-safe.
 */
public final class EdgeCacheStrategy implements CdnStrategy {
  private final EdgeCache cache;
  private final Backend backend;

  private EdgeCacheStrategy(EdgeCache cache, Backend backend) {
    this.cache = cache;
    this.backend = backend;
  }

  /**
   * Returns a strategy answering from {@code cache}, filled by the host's own handler.
   *
   * @param cache the cache
   * @return a strategy answering from {@code cache}, filled by the host's own handler
   */
  public static EdgeCacheStrategy of(EdgeCache cache) {
    return new EdgeCacheStrategy(requireNonNull(cache, "cache"), null);
  }

  /**
   * Returns this strategy filled from {@code backend} instead (forwarding to it on a miss).
   *
   * @param backend the backend
   * @return this strategy filled from {@code backend} instead (forwarding to it on a miss)
   */
  public EdgeCacheStrategy from(Backend backend) {
    return new EdgeCacheStrategy(cache, requireNonNull(backend, "backend"));
  }

  @Override
  public Decision decide(OffloadRequest request, DecisionContext context) {
    String method = request.method();
    boolean explaining = context.explaining();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return unsafe(request, context);
    }
    long now = context.nanoTime();
    CacheKey key = new CacheKey(context.name(), request.host(), request.encodedPath(),
        request.rawQuery().orElse(""));
    Headers headers = request.headers();
    Variants variants = cache.lookup(key, explaining);
    StoredResponse stored = variants == null ? null : variants.match(headers);
    if (explaining) {
      context.note("cache.key", key);
      context.note("cache.stored", stored == null ? "none"
          : "age " + stored.ageSeconds(now) + " s, fresh for "
              + stored.freshnessNanos / 1_000_000_000L + " s");
    }
    if (stored != null && stored.isFresh(now)) {
      return hit(stored, headers, now, context);
    }
    CacheStatus status = stored == null ? CacheStatus.MISS : CacheStatus.EXPIRED;
    String refusal = StoredResponse.requestRefusal(method, headers);
    if (refusal == null && method.equals("HEAD")) {
      refusal = "HEAD responses are not stored (HEAD is answered from a stored GET)";
    }
    if (refusal != null) {
      status = method.equals("HEAD") ? status : CacheStatus.BYPASS;
    }
    if (explaining) {
      if (stored != null && backend != null && refusal == null
          && stored.usableWhileRevalidating(now)) {
        context.note("cache.staleWhileRevalidate", "served stale, refreshed in the background");
      }
      if (refusal == null && cache.running(key, now) != null) {
        context.note("cache.coalesce", "would wait for the fetch already running for this URL");
      }
      context.note("cache.result", status);
      if (stored != null) {
        context.note("cache.staleIfError", stored.usableOnError(now)
            ? "the stale response answers if the backend fails" : "closed");
      }
      context.note("cache.fill", refusal == null
          ? "stored if the response allows it (status, Cache-Control, Set-Cookie, Vary, size)"
          : "not stored: " + refusal);
      return withStatus(origin(context), status);
    }
    if (refusal != null) {
      cache.record(status);
      return withStatus(origin(context), status);
    }
    if (stored != null && backend != null && stored.usableWhileRevalidating(now)) {
      return staleWhileRevalidate(key, method, headers, stored, now, context);
    }
    EdgeCache.Fetch running = cache.running(key, now);
    EdgeCache.Fetch fetch = running == null ? cache.tryLead(key, now) : null;
    if (fetch == null) {
      running = running != null ? running : cache.running(key, now);
      if (running != null) {
        Decision.Holding follower = origin(context);
        follower.handle().waitFor(new Follower(key, headers, running, follower.handle()));
        return follower;
      }
      // the fetch we would wait for ended in between: its response may be stored by now
      StoredResponse filled = freshNow(key, headers, now);
      if (filled != null) {
        return hit(filled, headers, now, context);
      }
      cache.record(status);
      return withStatus(origin(context), status);
    }
    // leading now; a fetch that ended between the lookup above and taking the lead may have
    // stored a fresh response: answer with it rather than fetch again
    StoredResponse filled = freshNow(key, headers, now);
    if (filled != null) {
      cache.finish(fetch);
      return hit(filled, headers, now, context);
    }
    cache.record(status);
    Decision.Holding leader = withStatus(backend == null
        // the router may still refuse a pass-through (a non-canonical path) without executing
        // it: ending the fetch when the handle completes keeps followers from waiting for it
        ? new Decision.PassThrough(DecisionHandle.create(context.ticker(),
            completion -> cache.finish(fetch)))
        : origin(context), status);
    leader.handle().fillResponse(new CacheFill(cache, key, method, headers, now, fetch, stored));
    if (stored != null && backend != null) {
      Headers validators = stored.validators();
      if (validators.size() > 0) { // ask the backend whether what we hold is still current
        leader.handle().setRequestHeaders(validators);
      }
    }
    return leader;
  }

  /** A fresh stored response for the request now, or null (a second look, after the first). */
  private StoredResponse freshNow(CacheKey key, Headers headers, long now) {
    Variants variants = cache.lookup(key, false);
    StoredResponse stored = variants == null ? null : variants.match(headers);
    return stored != null && stored.isFresh(now) ? stored : null;
  }

  /** Answers from memory with a fresh stored response (304 when the request's validators match). */
  private Decision hit(StoredResponse stored, Headers headers, long now,
      DecisionContext context) {
    boolean notModified = Conditionals.notModified(headers, stored);
    if (context.explaining()) {
      context.note("cache.result", notModified ? "HIT (304)" : "HIT");
    } else {
      cache.record(CacheStatus.HIT);
    }
    DecisionHandle handle = DecisionHandle.createAt(context.ticker(), now);
    handle.addResponseHeaders(stored.hitFields(now));
    return new Decision.ServeCached(notModified ? stored.notModified : stored.response, handle);
  }

  /**
   * Serves {@code stored} stale and refreshes it once in the background: the first request to
   * find it so gets a forward whose pending response is the stale one (the executor answers with
   * it, then forwards in the background and the fill refreshes the cache); while that refresh
   * runs, others are answered stale from memory.
   */
  private Decision staleWhileRevalidate(CacheKey key, String method, Headers headers,
      StoredResponse stored, long now, DecisionContext context) {
    cache.record(CacheStatus.STALE);
    EdgeCache.Fetch fetch = cache.running(key, now) == null ? cache.tryLead(key, now) : null;
    if (fetch == null) {
      return new Decision.ServeCached(stored.servedStale(now),
          DecisionHandle.create(context.ticker()));
    }
    Decision.Forward refresh = BackendLoad.of(backend).forward(context);
    refresh.handle().fillResponse(new CacheFill(cache, key, method, headers, now, fetch, stored));
    Headers validators = stored.validators();
    if (validators.size() > 0) {
      refresh.handle().setRequestHeaders(validators);
    }
    CachedResponse stale = stored.servedStale(now);
    refresh.handle().waitFor(new PendingResponse() {
      @Override
      public Optional<CachedResponse> await() {
        return Optional.of(stale);
      }

      @Override
      public boolean refreshInBackground() {
        return true;
      }
    });
    return refresh;
  }

  /** {@code POST}, {@code PUT}, ...: to the origin; a 2xx to an unsafe method invalidates. */
  private Decision unsafe(OffloadRequest request, DecisionContext context) {
    String method = request.method();
    boolean invalidates = method.equals("POST") || method.equals("PUT")
        || method.equals("PATCH") || method.equals("DELETE");
    if (context.explaining()) {
      context.note("cache.result", CacheStatus.BYPASS);
      context.note("cache.fill", invalidates
          ? "a 2xx answer removes the stored responses of this URL" : "method not cached");
      return withStatus(origin(context), CacheStatus.BYPASS);
    }
    cache.record(CacheStatus.BYPASS);
    Decision.Holding decision = withStatus(origin(context), CacheStatus.BYPASS);
    if (invalidates) {
      String host = request.host();
      String target = request.rawQuery().map(q -> request.encodedPath() + '?' + q)
          .orElse(request.encodedPath());
      decision.handle().fillResponse((status, headers, contentLength) -> {
        if (status >= 200 && status < 300) {
          cache.purge(host, target);
        }
        return BodySink.NONE;
      });
    }
    return decision;
  }

  private Decision.Holding origin(DecisionContext context) {
    return backend == null ? Decision.passThrough(context)
        : BackendLoad.of(backend).forward(context);
  }

  private static Decision.Holding withStatus(Decision.Holding decision, CacheStatus status) {
    decision.handle().addResponseHeaders(Headers.of(CacheStatus.HEADER, status.name()));
    return decision;
  }

  @Override
  public List<Backend> backends() {
    return backend == null ? List.of() : List.of(backend);
  }

  @Override
  public String describe() {
    return "CdnStrategy.edgeCache(" + (backend == null ? "host" : backend.name()) + ")";
  }

  /** Waits for another request's fetch of the same URL, then answers from what it stored. */
  private final class Follower implements PendingResponse {
    private final CacheKey key;
    private final Headers request;
    private final EdgeCache.Fetch fetch;
    private final DecisionHandle handle;

    Follower(CacheKey key, Headers request, EdgeCache.Fetch fetch, DecisionHandle handle) {
      this.key = key;
      this.request = request;
      this.fetch = fetch;
      this.handle = handle;
    }

    @Override
    public Optional<CachedResponse> await() throws InterruptedException {
      try {
        fetch.done.get(cache.coalesceTimeoutNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        return goItself();
      }
      long now = cache.ticker().read();
      Variants variants = cache.lookup(key, false);
      StoredResponse stored = variants == null ? null : variants.match(request);
      if (stored == null || !stored.isFresh(now)) {
        return goItself();
      }
      cache.record(CacheStatus.HIT);
      CachedResponse base = Conditionals.notModified(request, stored)
          ? stored.notModified : stored.response;
      return Optional.of(base.withHeaders(base.headers().toBuilder()
          .set("Age", stored.ageSeconds(now))
          .set(CacheStatus.HEADER, CacheStatus.HIT.name())
          .build()));
    }

    /** Nothing to answer with: this request goes to the origin, and does not store. */
    private Optional<CachedResponse> goItself() {
      cache.record(CacheStatus.MISS);
      handle.addResponseHeaders(Headers.of(CacheStatus.HEADER, CacheStatus.MISS.name()));
      return Optional.empty();
    }
  }
}
