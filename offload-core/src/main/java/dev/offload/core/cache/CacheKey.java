package dev.offload.core.cache;

/**
 * Which stored responses a request may be answered from: the route's name, the host (lower case,
 * no port, as {@code OffloadRequest.host()} normalizes it), the normalized percent-encoded path
 * and the raw query, exactly as forwarded. The method is not part of it: only {@code GET}
 * responses are stored and {@code HEAD} is answered from them. The request header values that a
 * response's {@code Vary} names tell its variants apart ({@link Variants}).
 */
record CacheKey(String route, String host, String path, String query) {
  /** Returns {@code path?query}, or the path when there is no query. */
  String target() {
    return query.isEmpty() ? path : path + '?' + query;
  }

  @Override
  public String toString() {
    return route + " " + host + target();
  }
}
