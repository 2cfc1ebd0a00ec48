package dev.offload.core.cdn;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.internal.PercentEncoding;
import java.net.URI;
import java.time.Duration;

/**
 * A {@link CdnStrategy} that answers with a redirect to the CDN's copy: {@code base} + the
 * request's normalized path (or, with a manifest, its fingerprinted path) + its query.
 *
 * <pre>{@code
 * CdnStrategy.redirect(URI.create("https://cdn.example.com"))   // 302, Cache-Control: public, max-age=300
 *     .status(301)
 *     .fingerprinted(manifest)     // /assets/app.css -> https://cdn.example.com/assets/app.3f2a9c1b.css
 *     .cachePolicy(CachePolicy.builder().publicCache().maxAge(Duration.ofMinutes(1)).build())
 * }</pre>
 *
 * <p><b>The {@code Location} stays under the base.</b> It is built from the base's scheme,
 * authority and path prefix and the request's normalized, percent-encoded path, which always
 * starts with exactly one {@code /}: {@code //evil.com/x} arrives as {@code /evil.com/x} under
 * the base, and targets the router refuses ({@code %2f}, backslashes, CR/LF, an encoded {@code
 * ..} above the root) never reach a strategy. The query is carried over with the characters a
 * {@code Location} must not hold percent-encoded. A path that would not start with a single
 * {@code /} is refused with 400 (it cannot happen through the router; this is a second line).
 *
 * <p><b>Fingerprinting.</b> With {@link #fingerprinted(AssetManifest)}, a request for a logical
 * path the manifest has ({@code /assets/app.css}) is redirected to its hashed path ({@code
 * /assets/app.3f2a9c1b.css}); a path the manifest does not have is redirected to the plain path,
 * as without a manifest, so a file added after the manifest was built is still served. The
 * fingerprinted file itself, which the CDN fetches from its origin, should be served with {@link
 * CachePolicy#immutable()} ({@code public, max-age=31536000, immutable}); the redirect is not
 * immutable (the next release maps the same logical path elsewhere) and carries the short {@link
 * #cachePolicy(CachePolicy)}.
 *
 * <p>Immutable and thread-safe: every setter returns a new strategy.
 */
public final class CdnRedirect implements CdnStrategy {
  /** The default status: 302 Found, so that browsers ask again when the mapping changes. */
  public static final int DEFAULT_STATUS = 302;

  /** The default caching of the redirect itself: {@code public, max-age=300}. */
  public static final CachePolicy DEFAULT_CACHE_POLICY =
      CachePolicy.builder().publicCache().maxAge(Duration.ofMinutes(5)).build();

  private final String label;
  private final URI base;
  private final String prefix;
  private final int status;
  private final AssetManifest manifest;
  private final CachePolicy cachePolicy;

  private CdnRedirect(String label, URI base, String prefix, int status, AssetManifest manifest,
      CachePolicy cachePolicy) {
    this.label = label;
    this.base = base;
    this.prefix = prefix;
    this.status = status;
    this.manifest = manifest;
    this.cachePolicy = cachePolicy;
  }

  /** See {@link CdnStrategy#redirect(URI)}. */
  static CdnRedirect to(String label, URI base) {
    return new CdnRedirect(label, base, CdnBase.prefix(base), DEFAULT_STATUS, null,
        DEFAULT_CACHE_POLICY);
  }

  /**
   * Returns this redirect answering with {@code status}: 301 or 308 (permanent: browsers keep
   * them, so use them only for a mapping that never changes), 302 (the default) or 307. 307 and
   * 308 keep the method, which does not matter for {@code GET}.
   *
   * @param status the HTTP status code
   * @return this redirect answering with {@code status}: 301 or 308 (permanent: browsers keep them,
   *     so use them only for a mapping that never changes), 302 (the default) or 307
   * @throws IllegalArgumentException for another status, naming it
   */
  public CdnRedirect status(int status) {
    if (status != 301 && status != 302 && status != 307 && status != 308) {
      throw new IllegalArgumentException(
          "status must be 301, 302, 307 or 308 for a CDN redirect, got " + status);
    }
    return new CdnRedirect(label, base, prefix, status, manifest, cachePolicy);
  }

  /**
   * Returns this redirect sending logical paths that {@code manifest} has to their hashed path.
   *
   * @param manifest the manifest
   * @return this redirect sending logical paths that {@code manifest} has to their hashed path
   */
  public CdnRedirect fingerprinted(AssetManifest manifest) {
    return new CdnRedirect(label, base, prefix, status, requireNonNull(manifest, "manifest"),
        cachePolicy);
  }

  /**
   * Returns this redirect with {@code policy}'s headers on the redirect response ({@code
   * Cache-Control}, {@code Vary}, tags); default {@link #DEFAULT_CACHE_POLICY}. {@code
   * CachePolicy.builder().build()} adds none.
   *
   * @param policy the policy
   * @return this redirect with {@code policy}'s headers on the redirect response ({@code
   *     Cache-Control}, {@code Vary}, tags); default {@link #DEFAULT_CACHE_POLICY}
   */
  public CdnRedirect cachePolicy(CachePolicy policy) {
    return new CdnRedirect(label, base, prefix, status, manifest,
        requireNonNull(policy, "cachePolicy"));
  }

  /**
   * Returns the base every {@code Location} starts with.
   *
   * @return the base every {@code Location} starts with
   */
  public URI base() {
    return base;
  }

  @Override
  public Decision decide(OffloadRequest request, DecisionContext context) {
    String path = request.encodedPath();
    if (path.isEmpty() || path.charAt(0) != '/' || path.startsWith("//")
        || path.indexOf('\\') >= 0) {
      context.note("cdn.refused", "path '" + path + "'");
      return Decision.reject(400, "unsafe path for a redirect");
    }
    String target = null;
    if (manifest != null) {
      target = manifest.encodedHashedPath(request.path());
      context.note("cdn.fingerprinted", target != null);
    }
    if (target == null) {
      target = PercentEncoding.encode(path, CdnRedirect::isEncodedPathChar);
    }
    String query = request.rawQuery().orElse(null);
    String location = query == null
        ? prefix.concat(target)
        : prefix + target + '?' + safeQuery(query);
    Headers headers;
    if (cachePolicy.tagsResponses()) {
      CachePolicy.Tags tags = cachePolicy.tags(request);
      if (!tags.dropped().isEmpty()) {
        context.note("cdn.tags.dropped", tags.dropped());
      }
      headers = cachePolicy.headers(tags);
    } else {
      headers = cachePolicy.headers(request);
    }
    return new Decision.Redirect(status, location, headers);
  }

  /**
   * The raw query as a client sent it may hold characters that a {@code Location} must not
   * (space, quotes, non-ASCII): percent-encode those, keep everything else as it was.
   */
  private static String safeQuery(String query) {
    return PercentEncoding.encode(query, CdnRedirect::isQueryChar);
  }

  private static boolean isQueryChar(int c) {
    return c > ' ' && c < 0x7f && "\"<>\\^`{|}".indexOf(c) < 0;
  }

  /** A path character, or {@code %} of an escape the client already made. */
  private static boolean isEncodedPathChar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "-._~!$&'()*+,;=:@/%".indexOf(c) >= 0;
  }

  @Override
  public String describe() {
    StringBuilder sb = new StringBuilder("CdnStrategy.").append(label).append('(').append(base)
        .append(')');
    if (status != DEFAULT_STATUS) {
      sb.append(".status(").append(status).append(')');
    }
    if (manifest != null) {
      sb.append(".fingerprinted(").append(manifest).append(')');
    }
    if (cachePolicy != DEFAULT_CACHE_POLICY) {
      sb.append(".cachePolicy(").append(cachePolicy).append(')');
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return describe();
  }
}
