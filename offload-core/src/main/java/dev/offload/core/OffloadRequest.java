package dev.offload.core;

import static java.util.Objects.requireNonNull;

import com.google.common.net.InetAddresses;
import dev.offload.core.internal.HttpSyntax;
import dev.offload.core.internal.PathNormalizer;
import dev.offload.core.internal.PercentEncoding;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * An immutable, server-agnostic view of one HTTP request: what {@link OffloadRouter#decide}
 * reads. Adapters build it from their server's request; tests build it with the fluent builder.
 *
 * <pre>{@code
 * OffloadRequest request = OffloadRequest.get("/static/app.css?v=3")
 *     .header("Accept", "text/css")
 *     .clientAddress("203.0.113.7")
 *     .build();
 * request.path();            // "/static/app.css"
 * request.queryParameter("v"); // Optional[3]
 * }</pre>
 *
 * <h2>Paths</h2>
 * The raw path is normalized once, here, and every part of offload sees the same {@link #path()}:
 * percent-escapes decoded, dot segments removed (RFC 3986 section 5.2.4), repeated slashes
 * merged. A target that is unsafe to normalize (an encoded slash or backslash, NUL/CR/LF raw or
 * encoded, a malformed escape, invalid or overlong UTF-8, an encoded dot segment that climbs above
 * the root) is kept, marked by {@link #targetError()}; the router rejects it with 400 before any
 * guard or route sees it.
 *
 * <p>The body is never read by the router: {@link #body()} is opened later, once, by whoever
 * forwards or offloads the request. Thread-safe.
 */
public final class OffloadRequest {
  private static final InetAddress LOOPBACK = InetAddresses.forString("127.0.0.1");

  private final String method;
  private final String rawPath;
  private final String path;
  private final String encodedPath;
  private final boolean pathRewritten;
  private final String rawQuery;
  private final String targetError;
  private final Headers headers;
  private final OptionalLong contentLength;
  private final InetAddress clientAddress;
  private final String scheme;
  private final String host;
  private final Map<AttributeKey<?>, Object> attributes;
  private final RequestBody body;
  /** Parsed on first use; racy single-check is fine, the result is immutable and equal. */
  private Map<String, List<String>> queryParameters;

  private OffloadRequest(Builder b, Map<AttributeKey<?>, Object> attributes) {
    this.method = b.method;
    this.rawPath = b.rawPath;
    this.rawQuery = b.rawQuery;
    this.headers = b.headers.build();
    this.contentLength = parseContentLength(headers);
    this.clientAddress = b.clientAddress;
    this.scheme = b.scheme;
    this.host = b.host != null ? b.host : hostFromHeader(headers);
    this.attributes = attributes;
    this.body = b.body;
    PathNormalizer.Result normalized = PathNormalizer.normalize(rawPath);
    String error = normalized.error();
    if (error == null && rawQuery != null) {
      error = PathNormalizer.checkQuery(rawQuery);
    }
    this.path = normalized.path() != null ? normalized.path() : rawPath;
    this.encodedPath = normalized.encodedPath() != null ? normalized.encodedPath() : rawPath;
    this.pathRewritten = normalized.rewritten();
    this.targetError = error;
  }

  private OffloadRequest(OffloadRequest base, String path, Map<AttributeKey<?>, Object> attributes) {
    this.method = base.method;
    this.rawPath = base.rawPath;
    this.path = path;
    this.encodedPath = base.encodedPath;
    this.pathRewritten = base.pathRewritten;
    this.rawQuery = base.rawQuery;
    this.targetError = base.targetError;
    this.headers = base.headers;
    this.contentLength = base.contentLength;
    this.clientAddress = base.clientAddress;
    this.scheme = base.scheme;
    this.host = base.host;
    this.attributes = attributes;
    this.body = base.body;
    this.queryParameters = base.queryParameters;
  }

  /**
   * Returns a builder for a GET request to {@code target} (origin-form, e.g. {@code /a?b=c}).
   *
   * @param target the request target, as sent: origin-form or absolute-form
   * @return a builder for a GET request to {@code target} (origin-form, e.g
   */
  public static Builder get(String target) {
    return builder("GET", target);
  }

  /**
   * Returns a builder for a HEAD request.
   *
   * @param target the request target, as sent: origin-form or absolute-form
   * @return a builder for a HEAD request
   */
  public static Builder head(String target) {
    return builder("HEAD", target);
  }

  /**
   * Returns a builder for a POST request.
   *
   * @param target the request target, as sent: origin-form or absolute-form
   * @return a builder for a POST request
   */
  public static Builder post(String target) {
    return builder("POST", target);
  }

  /**
   * Returns a builder for a PUT request.
   *
   * @param target the request target, as sent: origin-form or absolute-form
   * @return a builder for a PUT request
   */
  public static Builder put(String target) {
    return builder("PUT", target);
  }

  /**
   * Returns a builder for a DELETE request.
   *
   * @param target the request target, as sent: origin-form or absolute-form
   * @return a builder for a DELETE request
   */
  public static Builder delete(String target) {
    return builder("DELETE", target);
  }

  /**
   * Returns a builder for a request.
   *
   * @param method an HTTP method token, e.g. {@code GET}; case is kept as given (methods are
   * case-sensitive)
   * @param target the request target in origin-form ({@code /path?query}); an absolute-form
   * target's scheme (in any case) and authority are ignored: only the route table chooses
   * where a request goes. Its path ends at {@code ?} or {@code #}, and an empty path is
   * {@code /}: {@code http://h?x=/admin} is path {@code /} with query {@code x=/admin}
   * @return a builder for a request
   * @throws IllegalArgumentException if the method is not a token
   */
  public static Builder builder(String method, String target) {
    return new Builder(method, target);
  }

  /**
   * Returns the method, e.g. {@code GET}.
   *
   * @return the method, e.g
   */
  public String method() {
    return method;
  }

  /**
   * Returns the normalized, decoded path that routing sees, e.g. {@code /static/app.css}.
   *
   * @return the normalized, decoded path that routing sees, e.g
   */
  public String path() {
    return path;
  }

  /**
   * Returns the path as the client sent it, before normalization.
   *
   * @return the path as the client sent it, before normalization
   */
  public String rawPath() {
    return rawPath;
  }

  /**
   * Returns the normalized path as the client encoded it, for a request line or a URL: dot
   * segments removed and slashes merged, but every segment kept with the client's own
   * percent-escapes (an encoded {@code %3B} stays encoded, never becoming a {@code ;}); only
   * non-ASCII characters are percent-encoded.
   *
   * @return the normalized path as the client encoded it, for a request line or a URL: dot segments
   *     removed and slashes merged, but every segment kept with the client's own percent-escapes
   *     (an encoded {@code %3B} stays encoded, never becoming a {@code ;}); only non-ASCII
   *     characters are percent-encoded
   */
  public String encodedPath() {
    return encodedPath;
  }

  /**
   * Returns whether the raw path names its resource the way {@link #path()} does: no dot
   * segments, no repeated slashes. A request passed through to the host with a non-canonical path
   * would be read by the host differently than the router read it, so the router refuses those.
   *
   * @return whether the raw path names its resource the way {@link #path()} does: no dot segments,
   *     no repeated slashes
   */
  public boolean hasCanonicalPath() {
    return !pathRewritten;
  }

  /**
   * Returns the raw query string without the {@code ?}, if the target had one.
   *
   * @return the raw query string without the {@code ?}, if the target had one
   */
  public Optional<String> rawQuery() {
    return Optional.ofNullable(rawQuery);
  }

  /**
   * Returns why this request target is unsafe to route (and will be rejected with 400), or empty
   * when it is fine.
   *
   * @return why this request target is unsafe to route (and will be rejected with 400), or empty
   *     when it is fine
   */
  public Optional<String> targetError() {
    return Optional.ofNullable(targetError);
  }

  /**
   * Returns whether the path carries path parameters ({@code ;}) in any segment.
   *
   * @return whether the path carries path parameters ({@code ;}) in any segment
   */
  public boolean hasPathParameters() {
    return path.indexOf(';') >= 0;
  }

  /**
   * Returns the query parameters, decoded ({@code +} as space, escapes of ASCII hex digits as
   * UTF-8), in order. A name or value with a malformed escape ({@code %zz}, {@code %4}, or digits
   * that are not ASCII) is kept as it was sent.
   *
   * @return the query parameters, decoded ({@code +} as space, escapes of ASCII hex digits as
   *     UTF-8), in order
   */
  public Map<String, List<String>> queryParameters() {
    Map<String, List<String>> params = queryParameters;
    if (params == null) {
      params = parseQuery(rawQuery);
      queryParameters = params;
    }
    return params;
  }

  /**
   * Returns the first value of a query parameter.
   *
   * @param name the name
   * @return the first value of a query parameter
   */
  public Optional<String> queryParameter(String name) {
    List<String> values = queryParameters().get(requireNonNull(name, "name"));
    return values == null ? Optional.empty() : Optional.of(values.get(0));
  }

  /**
   * Returns the header fields.
   *
   * @return the header fields
   */
  public Headers headers() {
    return headers;
  }

  /**
   * Returns the first value of the named header.
   *
   * @param name the name
   * @return the first value of the named header
   */
  public Optional<String> header(String name) {
    return headers.first(name);
  }

  /**
   * Returns the declared {@code Content-Length}, if present and a valid number.
   *
   * @return the declared {@code Content-Length}, if present and a valid number
   */
  public OptionalLong contentLength() {
    return contentLength;
  }

  /** Parsed once, when the request is built: guards ask for it on every request. */
  private static OptionalLong parseContentLength(Headers headers) {
    String value = headers.firstLowerCase("content-length");
    if (value == null) {
      return OptionalLong.empty();
    }
    long length = HttpSyntax.parseContentLength(value);
    return length >= 0 ? OptionalLong.of(length) : OptionalLong.empty();
  }

  /**
   * Returns the client's address: the socket peer, or, behind trusted proxies, the right-most
   * untrusted address of the forwarding chain as the adapter resolved it.
   *
   * @return the client's address: the socket peer, or, behind trusted proxies, the right-most
   *     untrusted address of the forwarding chain as the adapter resolved it
   */
  public InetAddress clientAddress() {
    return clientAddress;
  }

  /**
   * Returns the scheme the client used, {@code http} or {@code https}.
   *
   * @return the scheme the client used, {@code http} or {@code https}
   */
  public String scheme() {
    return scheme;
  }

  /**
   * Returns the host name the client asked for, lower-case and without port; may be empty.
   *
   * @return the host name the client asked for, lower-case and without port; may be empty
   */
  public String host() {
    return host;
  }

  /**
   * Returns an attribute, such as the identity a guard admitted.
   *
   * @param <T> the type of the value
   * @param key the key
   * @return an attribute, such as the identity a guard admitted
   */
  public <T> Optional<T> attribute(AttributeKey<T> key) {
    requireNonNull(key, "key");
    Object value = attributes.get(key);
    return value == null ? Optional.empty() : Optional.of(key.cast(value));
  }

  /**
   * Returns all attributes.
   *
   * @return all attributes
   */
  public Map<AttributeKey<?>, Object> attributes() {
    return attributes;
  }

  /**
   * Returns a copy of this request with one attribute set.
   *
   * @param <T> the type of the value
   * @param key the key
   * @param value the value
   * @return a copy of this request with one attribute set
   */
  public <T> OffloadRequest withAttribute(AttributeKey<T> key, T value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    Map<AttributeKey<?>, Object> copy = new IdentityHashMap<>(attributes);
    copy.put(key, key.cast(value));
    return new OffloadRequest(this, path, Collections.unmodifiableMap(copy));
  }

  /** A copy that routing sees with another normalized path. */
  OffloadRequest withPath(String otherPath) {
    return new OffloadRequest(this, otherPath, attributes);
  }

  /**
   * Returns the body, opened lazily by whoever consumes it.
   *
   * @return the body, opened lazily by whoever consumes it
   */
  public RequestBody body() {
    return body;
  }

  @Override
  public String toString() {
    return method + " " + rawPath + (rawQuery == null ? "" : "?" + rawQuery);
  }

  private static String hostFromHeader(Headers headers) {
    String host = headers.firstLowerCase("host");
    return host == null ? "" : hostWithoutPort(host);
  }

  static String hostWithoutPort(String authority) {
    String host = authority.strip();
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      host = close > 0 ? host.substring(0, close + 1) : host;
    } else {
      int colon = host.indexOf(':');
      if (colon >= 0) {
        host = host.substring(0, colon);
      }
    }
    return host.toLowerCase(Locale.ROOT);
  }

  private static Map<String, List<String>> parseQuery(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return Map.of();
    }
    Map<String, List<String>> params = new LinkedHashMap<>();
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decodeQueryPart(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decodeQueryPart(pair.substring(eq + 1));
      params.computeIfAbsent(name, k -> new ArrayList<>(1)).add(value);
    }
    params.replaceAll((k, v) -> List.copyOf(v));
    return Collections.unmodifiableMap(params);
  }

  /** A malformed escape ({@code %zz}, or non-ASCII digits) leaves the part as it was sent. */
  private static String decodeQueryPart(String part) {
    return PercentEncoding.decodeFormComponent(part);
  }

  /** Builds an {@link OffloadRequest}. Not thread-safe. */
  public static final class Builder {
    private final String method;
    private final String rawPath;
    private final String rawQuery;
    private final Headers.Builder headers = Headers.builder();
    /** Made at the first attribute: most requests carry none (an empty one costs ~300 B). */
    private Map<AttributeKey<?>, Object> attributes;
    private InetAddress clientAddress = LOOPBACK;
    private String scheme = "http";
    private String host;
    private RequestBody body = RequestBody.empty();

    private Builder(String method, String target) {
      requireNonNull(method, "method");
      requireNonNull(target, "target");
      if (!HttpSyntax.isToken(method)) {
        throw new IllegalArgumentException("method is not a token: '" + method + "'");
      }
      this.method = method;
      String t = withoutSchemeAndAuthority(target);
      int fragment = t.indexOf('#');
      if (fragment >= 0) {
        t = t.substring(0, fragment);
      }
      int q = t.indexOf('?');
      this.rawPath = q < 0 ? t : t.substring(0, q);
      this.rawQuery = q < 0 ? null : t.substring(q + 1);
    }

    /**
     * Returns an absolute-form target ({@code http://host:port/path?query}, RFC 9112 section
     * 3.2.2) as origin-form ({@code /path?query}), any other target unchanged. The authority
     * never chooses a backend, so it is dropped. It ends at the first {@code /}, {@code ?} or
     * {@code #} (RFC 3986 section 3.2): {@code http://h?x=/admin} is path {@code /} with query
     * {@code x=/admin}, never path {@code /admin}. An empty path is {@code /}.
     */
    private static String withoutSchemeAndAuthority(String target) {
      int schemeEnd = target.indexOf("://");
      if (schemeEnd <= 0 || !isScheme(target, schemeEnd)) {
        return target;
      }
      int authorityStart = schemeEnd + 3;
      int authorityEnd = target.length();
      for (int i = authorityStart; i < target.length(); i++) {
        char c = target.charAt(i);
        if (c == '/' || c == '?' || c == '#') {
          authorityEnd = i;
          break;
        }
      }
      String rest = target.substring(authorityEnd);
      return rest.startsWith("/") ? rest : "/" + rest;
    }

    /**
     * Whether {@code target[0, end)} is a URI scheme (RFC 3986 section 3.1): an ASCII letter,
     * then letters, digits, {@code +}, {@code -} or {@code .}; any case.
     */
    private static boolean isScheme(String target, int end) {
      for (int i = 0; i < end; i++) {
        char c = target.charAt(i);
        boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!letter && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) {
          return false;
        }
      }
      return true;
    }

    /**
     * Adds a header field.
     *
     * @param name the name
     * @param value the value
     * @return this builder
     */
    public Builder header(String name, String value) {
      headers.add(name, value);
      return this;
    }

    /**
     * Adds every field of {@code headers}.
     *
     * @param headers the header fields
     * @return this builder
     */
    public Builder headers(Headers headers) {
      this.headers.addAll(requireNonNull(headers, "headers")); // checked when they were built
      return this;
    }

    /**
     * Sets the client address (default 127.0.0.1).
     *
     * @param address the address
     * @return this builder
     */
    public Builder clientAddress(InetAddress address) {
      this.clientAddress = requireNonNull(address, "address");
      return this;
    }

    /**
     * Sets the client address from an IP literal; never does a DNS lookup.
     *
     * @param ip the ip
     * @return this builder
     * @throws IllegalArgumentException if {@code ip} is not an IPv4 or IPv6 literal
     */
    public Builder clientAddress(String ip) {
      requireNonNull(ip, "ip");
      if (!InetAddresses.isInetAddress(ip)) {
        throw new IllegalArgumentException("clientAddress must be an IP literal, got '" + ip + "'");
      }
      this.clientAddress = InetAddresses.forString(ip);
      return this;
    }

    /**
     * Sets the scheme (default {@code http}).
     *
     * @param scheme the scheme
     * @return this builder
     * @throws IllegalArgumentException unless {@code http} or {@code https}
     */
    public Builder scheme(String scheme) {
      requireNonNull(scheme, "scheme");
      String s = scheme.toLowerCase(Locale.ROOT);
      if (!s.equals("http") && !s.equals("https")) {
        throw new IllegalArgumentException("scheme must be http or https, got '" + scheme + "'");
      }
      this.scheme = s;
      return this;
    }

    /**
     * Sets the requested host (default: from the {@code Host} header); a port is dropped.
     *
     * @param host the host
     * @return this builder
     */
    public Builder host(String host) {
      this.host = hostWithoutPort(requireNonNull(host, "host"));
      return this;
    }

    /**
     * Sets an attribute.
     *
     * @param <T> the type of the value
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public <T> Builder attribute(AttributeKey<T> key, T value) {
      requireNonNull(key, "key");
      requireNonNull(value, "value");
      if (attributes == null) {
        attributes = new IdentityHashMap<>();
      }
      attributes.put(key, key.cast(value));
      return this;
    }

    /**
     * Sets the body (default: empty).
     *
     * @param body the body
     * @return this builder
     */
    public Builder body(RequestBody body) {
      this.body = requireNonNull(body, "body");
      return this;
    }

    /**
     * Sets the body to these bytes, for tests.
     *
     * @param bytes the number of bytes
     * @return this builder
     */
    public Builder body(byte[] bytes) {
      return body(RequestBody.of(bytes));
    }

    /**
     * Returns the request.
     *
     * @return the request
     */
    public OffloadRequest build() {
      Map<AttributeKey<?>, Object> attrs =
          attributes == null
              ? Map.of()
              : Collections.unmodifiableMap(new IdentityHashMap<>(attributes));
      return new OffloadRequest(this, attrs);
    }
  }
}
