package dev.offload.core.cache;

import dev.offload.core.CachedResponse;
import dev.offload.core.Headers;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One stored response and what the cache computed when it stored it: its freshness lifetime, its
 * age when received, its validators, its variant (the request values its {@code Vary} names)
 * and its purge tags. Immutable; ages are on the cache's ticker.
 */
final class StoredResponse {
  /** Statuses a cache understands and may store (RFC 9110 section 15.1), except 206 (partial). */
  static final Set<Integer> STORABLE_STATUSES =
      Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501);
  /** Request fields a backend or host may reflect into its response and that are not keyed. */
  static final List<String> UNKEYED_REFLECTED =
      List.of("X-Forwarded-Host", "X-Forwarded-Scheme", "X-Forwarded-Proto", "X-Host",
          "X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-HTTP-Method",
          "X-Method-Override", "Forwarded");
  /** Fields not stored: recomputed per answer, or set by the writer from the body. */
  private static final List<String> NOT_STORED =
      List.of("Age", CacheStatus.HEADER, "Content-Length", "Transfer-Encoding", "Connection",
          "Keep-Alive");
  /** Fields a 304 carries (RFC 9110 section 15.4.5). */
  private static final List<String> NOT_MODIFIED_FIELDS =
      List.of("Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Last-Modified",
          "Vary");
  private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);
  private static final int ENTRY_OVERHEAD = 128;

  final CacheKey key;
  final CachedResponse response;
  final CachedResponse notModified;
  final long responseTimeNanos;
  final long correctedInitialAgeNanos;
  final long freshnessNanos;
  final long staleWhileRevalidateNanos;
  final long staleIfErrorNanos;
  final boolean mustRevalidate;
  final String etag;
  final Instant lastModified;
  final String[] varyNames;
  final String[] varyValues;
  final Set<String> tags;
  final int weight;
  /** The fields of the last hit answered, reused while the age in seconds stays the same. */
  private volatile HitFields lastHit;

  private record HitFields(long ageSeconds, Headers headers) {}

  private StoredResponse(CacheKey key, CachedResponse response, long responseTimeNanos,
      long correctedInitialAgeNanos, long freshnessNanos, CacheControl cc, String[] varyNames,
      String[] varyValues) {
    this.key = key;
    this.response = response;
    this.responseTimeNanos = responseTimeNanos;
    this.correctedInitialAgeNanos = correctedInitialAgeNanos;
    this.freshnessNanos = freshnessNanos;
    this.staleWhileRevalidateNanos = seconds(cc.staleWhileRevalidate);
    this.staleIfErrorNanos = seconds(cc.staleIfError);
    this.mustRevalidate = cc.mustRevalidate || cc.proxyRevalidate;
    Headers headers = response.headers();
    this.etag = headers.first("ETag").orElse(null);
    this.lastModified = HttpDates.parse(headers.first("Last-Modified").orElse(null));
    this.varyNames = varyNames;
    this.varyValues = varyValues;
    this.tags = tags(headers);
    Headers.Builder validators = Headers.builder();
    for (String name : NOT_MODIFIED_FIELDS) {
      for (String value : headers.all(name)) {
        validators.add(name, value);
      }
    }
    this.notModified = CachedResponse.of(304, validators.build(), new byte[0]);
    long w = ENTRY_OVERHEAD + response.bodyLength();
    for (int i = 0; i < headers.size(); i++) {
      w += headers.name(i).length() + headers.value(i).length() + 4;
    }
    for (String v : varyValues) {
      w += v == null ? 0 : v.length();
    }
    this.weight = (int) Math.min(Integer.MAX_VALUE, w);
  }

  private static long seconds(long deltaSeconds) {
    return deltaSeconds == CacheControl.ABSENT ? 0 : deltaSeconds * NANOS_PER_SECOND;
  }

  /**
   * Why a request's response must not be stored or answered from the cache (RFC 9111 section 3
   * and offload's own rules), decided before the origin answers; null when it may be.
   */
  static String requestRefusal(String method, Headers request) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return "method " + method + " is not cached";
    }
    if (request.contains("Range")) {
      return "a Range request (partial responses are not stored)";
    }
    for (String name : UNKEYED_REFLECTED) {
      if (request.contains(name)) {
        return "request carries " + name + ", which is not in the key and a backend may reflect";
      }
    }
    return null;
  }

  /**
   * Why a response must not be stored (RFC 9111 section 3, a shared cache without heuristic
   * freshness); null when it may be. Cacheability comes from the response's fields only, never
   * from the path.
   */
  static String responseRefusal(String method, Headers request, int status, Headers response,
      long contentLength, long maxObjectBytes) {
    if (!method.equals("GET")) {
      return "only GET responses are stored";
    }
    if (!STORABLE_STATUSES.contains(status)) {
      return "status " + status + " is not stored";
    }
    CacheControl cc = CacheControl.parse(response.all("Cache-Control"));
    if (cc.noStore) {
      return "Cache-Control: no-store";
    }
    if (CacheControl.parse(request.all("Cache-Control")).noStore) {
      return "request Cache-Control: no-store";
    }
    if (cc.isPrivate) {
      return "Cache-Control: private";
    }
    if (cc.noCache) {
      return "Cache-Control: no-cache (each use needs revalidation, which is not implemented yet)";
    }
    if (response.contains("Set-Cookie")) {
      return "Set-Cookie";
    }
    if (request.contains("Authorization") && !cc.isPublic && cc.sMaxAge == CacheControl.ABSENT
        && !cc.mustRevalidate) {
      return "a request with Authorization, and no public, s-maxage or must-revalidate";
    }
    for (String vary : varyNames(response)) {
      if (vary.equals("*")) {
        return "Vary: *";
      }
    }
    if (response.contains("Content-Range")) {
      return "Content-Range (a partial response)";
    }
    if (contentLength > maxObjectBytes) {
      return "body of " + contentLength + " bytes is over maxObjectBytes " + maxObjectBytes;
    }
    if (freshnessSeconds(cc, response) < 0) {
      return "no explicit freshness (s-maxage, max-age, or Expires with Date); heuristic "
          + "freshness is off";
    }
    return null;
  }

  /**
   * The freshness lifetime in seconds (RFC 9111 section 4.2.1): {@code s-maxage}, else {@code
   * max-age}, else {@code Expires} minus {@code Date}; -1 when none is explicit. An invalid
   * {@code Expires} means already stale (0). {@code Expires} without {@code Date} is not used:
   * the cache reads no wall clock.
   */
  static long freshnessSeconds(CacheControl cc, Headers response) {
    if (cc.sMaxAge != CacheControl.ABSENT) {
      return cc.sMaxAge;
    }
    if (cc.maxAge != CacheControl.ABSENT) {
      return cc.maxAge;
    }
    List<String> expires = response.all("Expires");
    if (expires.isEmpty()) {
      return -1;
    }
    Instant date = HttpDates.parse(response.first("Date").orElse(null));
    if (date == null) {
      return -1;
    }
    Instant until = expires.size() == 1 ? HttpDates.parse(expires.get(0)) : null;
    if (until == null) {
      return 0;
    }
    return Math.max(0, Duration.between(date, until).getSeconds());
  }

  /**
   * Returns the response to store, or null when it must not be: call after {@link
   * #responseRefusal} said it may be.
   *
   * @param requestTimeNanos when the request was sent (decided), on the cache's ticker
   * @param responseTimeNanos when the response head arrived, on the cache's ticker
   */
  static StoredResponse of(CacheKey key, Headers request, int status, Headers origin,
      byte[] body, long requestTimeNanos, long responseTimeNanos) {
    CacheControl cc = CacheControl.parse(origin.all("Cache-Control"));
    long freshness = freshnessSeconds(cc, origin);
    Headers.Builder stored = origin.toBuilder();
    for (String name : NOT_STORED) {
      stored.remove(name);
    }
    long ageValue = origin.first("Age").map(CacheControl::deltaSeconds).orElse(0L);
    // RFC 9111 section 4.2.3 without apparent_age, which needs a wall clock to compare with Date:
    // the age the response arrived with plus how long it took to arrive
    long responseDelay = Math.max(0, responseTimeNanos - requestTimeNanos);
    long correctedInitialAge = ageValue * NANOS_PER_SECOND + responseDelay;
    List<String> names = varyNames(origin);
    String[] varyNames = names.toArray(new String[0]);
    String[] varyValues = new String[varyNames.length];
    for (int i = 0; i < varyNames.length; i++) {
      varyValues[i] = varyValue(request, varyNames[i]);
    }
    return new StoredResponse(key, CachedResponse.of(status, stored.build(), body),
        responseTimeNanos, correctedInitialAge, freshness * NANOS_PER_SECOND, cc, varyNames,
        varyValues);
  }

  /** The field names {@code Vary} lists, lower case, in order, without duplicates. */
  static List<String> varyNames(Headers response) {
    Set<String> names = new LinkedHashSet<>();
    for (String line : response.all("Vary")) {
      for (String name : line.split(",")) {
        String trimmed = name.strip();
        if (!trimmed.isEmpty()) {
          names.add(trimmed.toLowerCase(Locale.ROOT));
        }
      }
    }
    return new ArrayList<>(names);
  }

  /**
   * A request's value for a field {@code Vary} names, normalized: each field line trimmed, lines
   * joined with {@code ,}; null when absent (absent matches only absent).
   */
  static String varyValue(Headers request, String name) {
    int count = request.count(name);
    if (count == 0) {
      return null;
    }
    if (count == 1) {
      return request.first(name).orElseThrow().strip();
    }
    List<String> lines = request.all(name);
    StringBuilder sb = new StringBuilder();
    for (String line : lines) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(line.strip());
    }
    return sb.toString();
  }

  /** Whether {@code request} selects this variant (RFC 9111 section 4.1). */
  boolean matches(Headers request) {
    for (int i = 0; i < varyNames.length; i++) {
      String value = varyValue(request, varyNames[i]);
      if (value == null ? varyValues[i] != null : !value.equals(varyValues[i])) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code other} is the same variant (same Vary names and values). */
  boolean sameVariant(StoredResponse other) {
    return java.util.Arrays.equals(varyNames, other.varyNames)
        && java.util.Arrays.equals(varyValues, other.varyValues);
  }

  /** The current age (RFC 9111 section 4.2.3), in nanoseconds. */
  long currentAgeNanos(long nowNanos) {
    return correctedInitialAgeNanos + Math.max(0, nowNanos - responseTimeNanos);
  }

  /** The {@code Age} field value: whole seconds of the current age. */
  String ageSeconds(long nowNanos) {
    return Long.toString(currentAgeNanos(nowNanos) / NANOS_PER_SECOND);
  }

  /**
   * The conditional fields that ask an origin whether this response is still current: {@code
   * If-None-Match} with its {@code ETag}, {@code If-Modified-Since} with its {@code
   * Last-Modified}; empty when it has neither.
   */
  Headers validators() {
    Headers.Builder fields = Headers.builder();
    if (etag != null) {
      fields.add("If-None-Match", etag);
    }
    String modified = response.headers().first("Last-Modified").orElse(null);
    if (modified != null) {
      fields.add("If-Modified-Since", modified);
    }
    return fields.build();
  }

  /** The fields a hit adds: {@code Age} and {@value CacheStatus#HEADER}; cheap when repeated. */
  Headers hitFields(long nowNanos) {
    long age = currentAgeNanos(nowNanos) / NANOS_PER_SECOND;
    HitFields last = lastHit;
    if (last != null && last.ageSeconds == age) {
      return last.headers;
    }
    Headers headers = Headers.of("Age", Long.toString(age), CacheStatus.HEADER,
        CacheStatus.HIT.name());
    lastHit = new HitFields(age, headers);
    return headers;
  }

  /** Whether the response is fresh now: its current age is below its freshness lifetime. */
  boolean isFresh(long nowNanos) {
    return currentAgeNanos(nowNanos) < freshnessNanos;
  }

  /**
   * Whether it may answer instead of an origin failure now (RFC 5861 {@code stale-if-error}):
   * stale by less than its {@code stale-if-error} window, and without {@code must-revalidate} or
   * {@code proxy-revalidate}.
   */
  boolean usableOnError(long nowNanos) {
    return !mustRevalidate && staleIfErrorNanos > 0
        && currentAgeNanos(nowNanos) < freshnessNanos + staleIfErrorNanos;
  }

  /**
   * Whether it may be served stale while it is refreshed in the background now (RFC 5861 {@code
   * stale-while-revalidate}): stale by less than that window, without {@code must-revalidate}.
   */
  boolean usableWhileRevalidating(long nowNanos) {
    return !mustRevalidate && staleWhileRevalidateNanos > 0
        && currentAgeNanos(nowNanos) < freshnessNanos + staleWhileRevalidateNanos;
  }

  /** This response, served stale: with {@code Age} and {@code X-Cache-Status: STALE}. */
  CachedResponse servedStale(long nowNanos) {
    return response.withHeaders(response.headers().plus(Headers.of("Age", ageSeconds(nowNanos),
        CacheStatus.HEADER, CacheStatus.STALE.name())));
  }

  /**
   * How long, from now, the cache keeps it: until fresh, plus the stale windows it allows, or,
   * when it has validators to be revalidated with, {@code staleRetentionNanos} if that is longer.
   */
  long keepNanos(long nowNanos, long staleRetentionNanos) {
    long staleWindow = mustRevalidate ? 0 : Math.max(staleWhileRevalidateNanos, staleIfErrorNanos);
    if (etag != null || lastModified != null) {
      staleWindow = Math.max(staleWindow, staleRetentionNanos);
    }
    return Math.max(0, freshnessNanos - currentAgeNanos(nowNanos)) + staleWindow;
  }

  private static Set<String> tags(Headers headers) {
    Set<String> tags = new LinkedHashSet<>();
    for (String field : List.of("Surrogate-Key", "Cache-Tag")) {
      for (String line : headers.all(field)) {
        for (String tag : line.split("[,\\s]+")) {
          if (!tag.isEmpty()) {
            tags.add(tag);
          }
        }
      }
    }
    return Set.copyOf(tags);
  }

  @Override
  public String toString() {
    return "StoredResponse(" + key + ", " + response + ")";
  }
}
