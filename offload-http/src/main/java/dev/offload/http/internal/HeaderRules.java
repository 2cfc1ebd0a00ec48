package dev.offload.http.internal;

import dev.offload.core.Headers;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which header fields a proxy must not pass on (RFC 9110 section 7.6.1), in either direction.
 * Immutable, thread-safe.
 */
public final class HeaderRules {
  /** Always connection-specific: removed in both directions. */
  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "keep-alive",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "proxy-authorization",
          "proxy-connection");

  /**
   * End-to-end fields that a {@code Connection} header can never remove: framing, identity,
   * forwarding, content and caching fields. Without this, {@code Connection: Authorization} or
   * {@code Connection: X-Forwarded-For} would let a client strip what an earlier hop vouched for
   * (the "hop-by-hop header abuse" attack).
   */
  private static final Set<String> PROTECTED =
      Set.of(
          "host", "content-length", "content-type", "content-encoding", "content-range",
          "content-language", "content-location", "authorization", "cookie", "set-cookie",
          "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "via",
          "x-real-ip", "cache-control", "pragma", "expires", "age", "vary", "etag",
          "last-modified", "location", "date", "range", "accept-ranges", "if-match",
          "if-none-match", "if-modified-since", "if-unmodified-since", "if-range", "accept",
          "accept-encoding", "accept-language", "www-authenticate", "origin", "referer",
          "user-agent", "max-forwards", "expect");

  private HeaderRules() {}

  /** Returns whether {@code lowerName} is hop-by-hop by definition. */
  public static boolean isHopByHop(String lowerName) {
    return HOP_BY_HOP.contains(lowerName);
  }

  /**
   * Returns the lower-cased names that the {@code Connection} fields of {@code headers} declare
   * connection-specific, minus the protected end-to-end fields.
   */
  public static Set<String> connectionNamed(List<String> connectionValues) {
    if (connectionValues.isEmpty()) {
      return Set.of();
    }
    Set<String> names = new HashSet<>();
    for (String value : connectionValues) {
      for (String token : value.split(",")) {
        String name = token.strip().toLowerCase(Locale.ROOT);
        if (!name.isEmpty() && !PROTECTED.contains(name)) {
          names.add(name);
        }
      }
    }
    return names;
  }

  /** Returns the names {@code headers}'s {@code Connection} fields declare connection-specific. */
  public static Set<String> connectionNamed(Headers headers) {
    return connectionNamed(headers.all("Connection"));
  }
}
