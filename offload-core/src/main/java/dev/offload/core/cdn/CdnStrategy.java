package dev.offload.core.cdn;

import static java.util.Objects.requireNonNull;

import dev.offload.core.CachedResponse;
import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.DecisionHandle;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cache.EdgeCacheStrategy;
import java.net.URI;

/**
 * Offloads static content: redirect to a CDN ({@link #redirect}), let the host answer with
 * headers for a CDN in front of it ({@link #cacheHeaders}), or answer from memory ({@link
 * #serve}).
 *
 * <pre>{@code
 * .route(Route.get("/assets/**"), CdnStrategy.redirect(cdn).fingerprinted(manifest))
 * .route(Route.get("/docs/**"), CdnStrategy.cacheHeaders(policy))
 * }</pre>
 *
 * <p>Implementations must be thread-safe and must not do I/O in {@code decide}.
 */
@FunctionalInterface
public interface CdnStrategy extends OffloadStrategy {

  @Override
  default String describe() {
    return "CdnStrategy";
  }

  /**
   * Returns a strategy that redirects to the CDN: {@code base} + the request's normalized path
   * (percent-encoded) + its query, with 302 and {@code Cache-Control: public, max-age=300} by
   * default. {@link CdnRedirect} says how the {@code Location} stays under {@code base}, and how
   * to set the status, a manifest of fingerprinted paths, and the redirect's caching.
   *
   * <pre>{@code
   /**
    * route(Route.get("/assets/**"), CdnStrategy.redirect(cdn).status(301).fingerprinted(manifest))
    * }</pre>
    *
    * @param base an absolute http(s) URI with a host and no user info, query or fragment; a path
    * prefix is kept ({@code https://cdn.example.com/assets})
    * @return the redirect strategy, to configure further
    * @throws IllegalArgumentException for any other URI
    */
  static CdnRedirect redirect(URI base) {
    return CdnRedirect.to("redirect", base);
  }

  /**
   * Returns {@link #redirect(URI) redirect(base)}: 302 to {@code base} + the request's
   * normalized path and query. Kept for existing code; explanations describe it as {@code
   * redirectTo}.
   *
   * @param base the base
   * @return {@link #redirect(URI) redirect(base)}: 302 to {@code base} + the request's normalized
   *     path and query
   * @throws IllegalArgumentException for a base that {@link #redirect(URI)} refuses
   */
  static CdnRedirect redirectTo(URI base) {
    return CdnRedirect.to("redirectTo", base);
  }

  /**
   * Returns a strategy that lets the host's own handler answer, with {@code policy}'s headers
   * ({@code Cache-Control}, {@code Vary}, {@code Surrogate-Key} and {@code Cache-Tag}) set on
   * its response, for a CDN in front of the host. The headers are set before the host's handler
   * runs: a handler that sets the same field replaces them. {@code explain} shows the headers
   * and any tag that was dropped.
   *
   * <pre>{@code
   /**
    * route(Route.get("/docs/**"), CdnStrategy.cacheHeaders(CachePolicy.builder()
    * .publicCache().maxAge(Duration.ofMinutes(5)).sMaxAge(Duration.ofHours(1)).build()))
    * }</pre>
    *
    * @param policy the policy
    * @return the strategy
    */
  static CdnStrategy cacheHeaders(CachePolicy policy) {
    requireNonNull(policy, "policy");
    return new CdnStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        Headers headers;
        if (policy.tagsResponses()) {
          CachePolicy.Tags tags = policy.tags(request);
          if (!tags.dropped().isEmpty()) {
            context.note("cdn.tags.dropped", tags.dropped());
          }
          headers = policy.headers(tags);
        } else {
          headers = policy.headers(request);
        }
        context.note("cdn.headers", headers);
        Decision.PassThrough passThrough = Decision.passThrough(context);
        passThrough.handle().addResponseHeaders(headers);
        return passThrough;
      }

      @Override
      public String describe() {
        return "CdnStrategy.cacheHeaders(" + policy + ")";
      }
    };
  }

  /**
   * Returns a strategy that answers every request it gets with {@code response}, from memory.
   *
   * @param response the response
   * @return a strategy that answers every request it gets with {@code response}, from memory
   */
  static CdnStrategy serve(CachedResponse response) {
    requireNonNull(response, "response");
    return new CdnStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        return new Decision.ServeCached(response, DecisionHandle.create());
      }

      @Override
      public String describe() {
        return "CdnStrategy.serve(" + response + ")";
      }
    };
  }

  /**
   * Returns a strategy that answers from {@code cache} what it holds fresh for the request, and
   * otherwise lets the host's own handler answer and fills the cache from that answer when the
   * rules of RFC 9111 allow it; {@link EdgeCacheStrategy#from} fills from a backend instead.
   *
   * <pre>{@code
   * .route(Route.get("/img/**"), CdnStrategy.edgeCache(cache).from(staticBackend))
   /**
    * route(Route.get("/static/**"), CdnStrategy.edgeCache(cache))
    * }</pre>
    *
    * @param cache the cache
    * @return the strategy
    */
  static EdgeCacheStrategy edgeCache(EdgeCache cache) {
    return EdgeCacheStrategy.of(cache);
  }
}
