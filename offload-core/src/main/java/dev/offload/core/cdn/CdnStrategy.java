package dev.offload.core.cdn;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.DecisionHandle;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.CachedResponse;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cache.EdgeCacheStrategy;
import dev.offload.core.internal.BaseUri;
import dev.offload.core.internal.PercentEncoding;
import java.net.URI;
import java.util.Locale;

/**
 * Offloads static content: redirect to a CDN, or answer from memory.
 *
 * <pre>{@code
 * .route(Route.get("/static/**"), CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
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
   * Returns a strategy that answers 302 with {@code base} + the request's normalized path (and
   * its query). The appended path is the normalized, re-encoded one, so a request cannot make
   * the {@code Location} point at another host.
   *
   * @param base an absolute http(s) URI with a host and no user info, query or fragment; a path
   *     prefix is kept ({@code https://cdn.example.com/assets})
   * @throws IllegalArgumentException for any other URI
   */
  static CdnStrategy redirectTo(URI base) {
    BaseUri.check("CDN base", base);
    String scheme = base.getScheme().toLowerCase(Locale.ROOT);
    String prefix = scheme + "://" + base.getRawAuthority() + stripTrailingSlash(base.getRawPath());
    return new CdnStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        String path = request.encodedPath();
        String query = request.rawQuery().orElse(null);
        String location = query == null
            ? prefix.concat(path)
            : prefix + path + '?' + safeQuery(query);
        return new Decision.Redirect(302, location, Headers.empty());
      }

      @Override
      public String describe() {
        return "CdnStrategy.redirectTo(" + base + ")";
      }
    };
  }

  /** Returns a strategy that answers every request it gets with {@code response}, from memory. */
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
   * .route(Route.get("/static/**"), CdnStrategy.edgeCache(cache))
   * }</pre>
   */
  static EdgeCacheStrategy edgeCache(EdgeCache cache) {
    return EdgeCacheStrategy.of(cache);
  }

  /**
   * The raw query as a client sent it may hold characters that a {@code Location} must not
   * (space, quotes, non-ASCII): percent-encode those, keep everything else as it was.
   */
  private static String safeQuery(String query) {
    return PercentEncoding.encode(query, CdnStrategy::isQueryChar);
  }

  private static boolean isQueryChar(int c) {
    return c > ' ' && c < 0x7f && "\"<>\\^`{|}".indexOf(c) < 0;
  }

  private static String stripTrailingSlash(String path) {
    if (path == null) {
      return "";
    }
    return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }
}
