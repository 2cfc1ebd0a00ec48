package dev.offload.core.cdn;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.internal.HttpSyntax;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The caching headers a CDN (or any shared cache) in front of the host should see on a response:
 * one {@code Cache-Control} value, {@code Vary}, and cache tags for purging by tag ({@code
 * Surrogate-Key}, space-separated, read by Fastly and Varnish; {@code Cache-Tag},
 * comma-separated, read by Cloudflare and Akamai).
 *
 * <pre>{@code
 * CachePolicy docs = CachePolicy.builder()
 *     .publicCache()
 *     .maxAge(Duration.ofMinutes(5))              // browsers
 *     .sMaxAge(Duration.ofHours(1))               // the CDN
 *     .staleWhileRevalidate(Duration.ofMinutes(1))
 *     .vary("Accept-Encoding")
 *     .tags(request -> List.of("docs", "docs-" + request.path().split("/")[2]))
 *     .build();
 * // Cache-Control: public, max-age=300, s-maxage=3600, stale-while-revalidate=60
 * .route(Route.get("/docs/**"), CdnStrategy.cacheHeaders(docs))
 * }</pre>
 *
 * <p>Durations are written in whole seconds, rounded down. A policy with nothing set writes no
 * {@code Cache-Control}. {@link #immutable()} is the policy for content-hashed (fingerprinted)
 * files: they never change under their URL, so every cache may keep them for a year.
 *
 * <p><b>Tags</b> come from the request, per request. Only RFC 9110 tokens are written (letters,
 * digits and {@code !#$%&'*+-.^_`|~}): a tag with a space, a comma, a quote or any other
 * character would split into other tags or break the field, so it is <b>dropped</b> (and shown
 * by {@code explain}); duplicates are written once. A tagging function that throws makes the
 * router answer 500, as any failing strategy does.
 *
 * <p>Immutable and thread-safe; the tagging function must be thread-safe and must not do I/O.
 */
public final class CachePolicy {
  /** One year, in seconds: the longest {@code max-age} that caches are sure to honour. */
  public static final long ONE_YEAR_SECONDS = 31_536_000L;

  private static final CachePolicy IMMUTABLE = builder()
      .publicCache().maxAge(Duration.ofSeconds(ONE_YEAR_SECONDS)).immutable().build();

  private final Visibility visibility;
  private final Duration maxAge;
  private final Duration sMaxAge;
  private final Duration staleWhileRevalidate;
  private final Duration staleIfError;
  private final boolean immutable;
  private final boolean noTransform;
  private final List<String> vary;
  private final Function<OffloadRequest, ? extends Collection<String>> tags;
  /** The rendered {@code Cache-Control}, empty when nothing is set. */
  private final String cacheControl;
  /** The fields that do not depend on the request. */
  private final Headers fixedHeaders;

  private enum Visibility { UNSET, PUBLIC, PRIVATE }

  private CachePolicy(Builder b) {
    this.visibility = b.visibility;
    this.maxAge = b.maxAge;
    this.sMaxAge = b.sMaxAge;
    this.staleWhileRevalidate = b.staleWhileRevalidate;
    this.staleIfError = b.staleIfError;
    this.immutable = b.immutable;
    this.noTransform = b.noTransform;
    this.vary = List.copyOf(b.vary);
    this.tags = b.tags;
    this.cacheControl = render();
    Headers.Builder fixed = Headers.builder();
    if (!cacheControl.isEmpty()) {
      fixed.add("Cache-Control", cacheControl);
    }
    if (!vary.isEmpty()) {
      fixed.add("Vary", String.join(", ", vary));
    }
    this.fixedHeaders = fixed.build();
  }

  /**
   * Returns a new builder; nothing is set.
   *
   * @return a new builder; nothing is set
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns {@code public, max-age=31536000, immutable}: for fingerprinted files, whose content
   * never changes under their URL (see {@link AssetManifest}). Never use it for a URL whose
   * content may change: caches will not ask again for a year.
   *
   * @return {@code public, max-age=31536000, immutable}: for fingerprinted files, whose content
   *     never changes under their URL (see {@link AssetManifest})
   */
  public static CachePolicy immutable() {
    return IMMUTABLE;
  }

  /**
   * Returns a builder that starts with this policy's settings.
   *
   * @return a builder that starts with this policy's settings
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.visibility = visibility;
    b.maxAge = maxAge;
    b.sMaxAge = sMaxAge;
    b.staleWhileRevalidate = staleWhileRevalidate;
    b.staleIfError = staleIfError;
    b.immutable = immutable;
    b.noTransform = noTransform;
    b.vary.addAll(vary);
    b.tags = tags;
    return b;
  }

  /**
   * Returns the {@code Cache-Control} value, empty when the policy sets no directive.
   *
   * @return the {@code Cache-Control} value, empty when the policy sets no directive
   */
  public Optional<String> cacheControl() {
    return cacheControl.isEmpty() ? Optional.empty() : Optional.of(cacheControl);
  }

  /**
   * Returns the field names added to {@code Vary}, in order.
   *
   * @return the field names added to {@code Vary}, in order
   */
  public List<String> vary() {
    return vary;
  }

  /**
   * Returns whether the policy tags responses.
   *
   * @return whether the policy tags responses
   */
  public boolean tagsResponses() {
    return tags != null;
  }

  /**
   * Returns the header fields for the response to {@code request}: {@code Cache-Control}, {@code
   * Vary}, and {@code Surrogate-Key} and {@code Cache-Tag} when the tagging function returned
   * valid tags. Invalid tags are dropped (see the class comment; {@link #tags(OffloadRequest)}
   * says which).
   *
   * @param request the request
   * @return the header fields for the response to {@code request}: {@code Cache-Control}, {@code
   *     Vary}, and {@code Surrogate-Key} and {@code Cache-Tag} when the tagging function returned
   *     valid tags
   */
  public Headers headers(OffloadRequest request) {
    requireNonNull(request, "request");
    return tags == null ? fixedHeaders : headers(tags(request));
  }

  /** Returns the header fields with {@code t}'s valid tags. */
  Headers headers(Tags t) {
    if (t.valid().isEmpty()) {
      return fixedHeaders;
    }
    return fixedHeaders.toBuilder()
        .add("Surrogate-Key", String.join(" ", t.valid()))
        .add("Cache-Tag", String.join(",", t.valid()))
        .build();
  }

  /**
   * Returns the tags for {@code request}, split into those written and those dropped; both empty
   * when the policy does not tag.
   *
   * @param request the request
   * @return the tags for {@code request}, split into those written and those dropped; both empty
   *     when the policy does not tag
   * @throws NullPointerException if the tagging function returns null or a null tag
   */
  public Tags tags(OffloadRequest request) {
    requireNonNull(request, "request");
    if (tags == null) {
      return Tags.NONE;
    }
    Collection<String> given = tags.apply(request);
    if (given == null) {
      throw new NullPointerException("the tagging function returned null for " + request.path());
    }
    Set<String> valid = new LinkedHashSet<>();
    List<String> dropped = List.of();
    for (String tag : given) {
      requireNonNull(tag, "tag");
      if (HttpSyntax.isToken(tag)) {
        valid.add(tag);
      } else {
        if (dropped.isEmpty()) {
          dropped = new ArrayList<>(1);
        }
        dropped.add(tag);
      }
    }
    return new Tags(List.copyOf(valid), List.copyOf(dropped));
  }

  /**
   * The tags of one response.
   *
   * @param valid the tags written, each once, in the order given
   * @param dropped the tags refused because they are not tokens
   */
  public record Tags(List<String> valid, List<String> dropped) {
    static final Tags NONE = new Tags(List.of(), List.of());

    /**
     * Copies the lists.
     *
     * @param valid the valid
     * @param dropped the dropped
     */
    public Tags {
      valid = List.copyOf(valid);
      dropped = List.copyOf(dropped);
    }
  }

  private String render() {
    List<String> directives = new ArrayList<>(8);
    if (visibility == Visibility.PUBLIC) {
      directives.add("public");
    } else if (visibility == Visibility.PRIVATE) {
      directives.add("private");
    }
    seconds(directives, "max-age", maxAge);
    seconds(directives, "s-maxage", sMaxAge);
    seconds(directives, "stale-while-revalidate", staleWhileRevalidate);
    seconds(directives, "stale-if-error", staleIfError);
    if (immutable) {
      directives.add("immutable");
    }
    if (noTransform) {
      directives.add("no-transform");
    }
    return String.join(", ", directives);
  }

  private static void seconds(List<String> directives, String name, Duration value) {
    if (value != null) {
      directives.add(name + '=' + value.toSeconds());
    }
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("CachePolicy(").append(cacheControl);
    if (!vary.isEmpty()) {
      sb.append("; Vary: ").append(String.join(", ", vary));
    }
    if (tags != null) {
      sb.append("; tagged");
    }
    return sb.append(')').toString();
  }

  /** Builds a {@link CachePolicy}. Not thread-safe. */
  public static final class Builder {
    private Visibility visibility = Visibility.UNSET;
    private Duration maxAge;
    private Duration sMaxAge;
    private Duration staleWhileRevalidate;
    private Duration staleIfError;
    private boolean immutable;
    private boolean noTransform;
    private final Set<String> vary = new LinkedHashSet<>();
    private Function<OffloadRequest, ? extends Collection<String>> tags;

    private Builder() {}

    /**
     * {@code public}: shared caches may store the response, even one to an authorized request.
     *
     * @return this builder
     */
    public Builder publicCache() {
      visibility = Visibility.PUBLIC;
      return this;
    }

    /**
     * {@code private}: only the client's own cache may store it (a CDN must not). Replaces
     * {@link #publicCache()}.
     *
     * @return this builder
     */
    public Builder privateCache() {
      visibility = Visibility.PRIVATE;
      return this;
    }

    /**
     * {@code max-age}: how long any cache may serve the response without asking again.
     *
     * @param value the value
     * @return this builder
     * @throws IllegalArgumentException naming the setting if {@code value} is negative
     */
    public Builder maxAge(Duration value) {
      this.maxAge = nonNegative("maxAge", value);
      return this;
    }

    /**
     * {@code s-maxage}: how long shared caches (the CDN) may serve it; overrides {@code max-age}
     * there.
     *
     * @param value the value
     * @return this builder
     * @throws IllegalArgumentException naming the setting if {@code value} is negative
     */
    public Builder sMaxAge(Duration value) {
      this.sMaxAge = nonNegative("sMaxAge", value);
      return this;
    }

    /**
     * {@code stale-while-revalidate} (RFC 5861): how long after it went stale a cache may still
     * serve it while it fetches a fresh copy in the background.
     *
     * @param value the value
     * @return this builder
     * @throws IllegalArgumentException naming the setting if {@code value} is negative
     */
    public Builder staleWhileRevalidate(Duration value) {
      this.staleWhileRevalidate = nonNegative("staleWhileRevalidate", value);
      return this;
    }

    /**
     * {@code stale-if-error} (RFC 5861): how long after it went stale a cache may serve it when
     * the host fails or answers 5xx.
     *
     * @param value the value
     * @return this builder
     * @throws IllegalArgumentException naming the setting if {@code value} is negative
     */
    public Builder staleIfError(Duration value) {
      this.staleIfError = nonNegative("staleIfError", value);
      return this;
    }

    /**
     * {@code immutable} (RFC 8246): the content never changes under this URL.
     *
     * @return this builder
     */
    public Builder immutable() {
      this.immutable = true;
      return this;
    }

    /**
     * {@code no-transform}: caches and proxies must not recompress or otherwise alter it.
     *
     * @return this builder
     */
    public Builder noTransform() {
      this.noTransform = true;
      return this;
    }

    /**
     * Adds field names to {@code Vary} ({@code vary("Accept-Encoding")}); each is written once,
     * in the order first given.
     *
     * @param fieldNames the field names
     * @return this builder
     * @throws IllegalArgumentException naming the setting if a name is not a token
     */
    public Builder vary(String... fieldNames) {
      requireNonNull(fieldNames, "fieldNames");
      for (String name : fieldNames) {
        requireNonNull(name, "fieldNames");
        if (!HttpSyntax.isToken(name)) {
          throw new IllegalArgumentException("vary must name header fields (tokens), got '"
              + name + "'");
        }
        boolean seen = false;
        for (String v : vary) {
          seen |= v.equalsIgnoreCase(name);
        }
        if (!seen) {
          vary.add(name);
        }
      }
      return this;
    }

    /**
     * Tags each response with what {@code tagging} returns for its request, for purging by tag
     * ({@link CdnPurger#purgeTags}). Tags that are not tokens are dropped.
     *
     * @param tagging the tagging
     * @return this builder
     */
    public Builder tags(Function<OffloadRequest, ? extends Collection<String>> tagging) {
      this.tags = requireNonNull(tagging, "tags");
      return this;
    }

    /**
     * Returns the policy.
     *
     * @return the policy
     * @throws IllegalArgumentException for {@code private} with {@code s-maxage}: shared caches
     * must not store a private response, so the directive could never apply
     */
    public CachePolicy build() {
      if (visibility == Visibility.PRIVATE && sMaxAge != null) {
        throw new IllegalArgumentException(
            "sMaxAge applies to shared caches, which must not store a private response: "
                + "remove sMaxAge (" + sMaxAge + ") or privateCache()");
      }
      return new CachePolicy(this);
    }

    /** Mirrors {@code Settings.positive}'s message, for settings where zero is meaningful. */
    private static Duration nonNegative(String setting, Duration value) {
      requireNonNull(value, setting);
      if (value.isNegative()) {
        throw new IllegalArgumentException(setting + " must not be negative, got " + value);
      }
      return value;
    }
  }
}
