package dev.offload.core;

import static java.util.Objects.requireNonNull;

import dev.offload.core.internal.HttpSyntax;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which requests a route takes: by method, path (exact, prefix, glob, extension), host, header,
 * query parameter or content type, combined with {@link #and}, {@link #or} and {@link #not}.
 * Paths are compared with the request's normalized {@link OffloadRequest#path()}.
 *
 * <pre>{@code
 * Route.get("/static/**")                       // GET or HEAD, glob
 * Route.post("/api/images/**")
 * Route.prefix("/api/")                          // /api, /api/..., not /apix
 * Route.extensions("css", "js").and(Route.method("GET"))
 * Route.prefix("/api/").and(Route.header("X-Canary", "1"))
 * }</pre>
 *
 * <p>Path patterns: a pattern with {@code *} is a glob ({@code **} is any number of whole
 * segments, also none, so {@code /static/**} matches {@code /static} too; {@code *} is any run of
 * characters within one segment; a pattern without a leading slash such as {@code *.css}
 * matches the last segment anywhere); any other pattern is an exact path. A trailing slash on
 * the request does not defeat a glob. Immutable; routes are compiled when the router is built.
 */
public final class Route {
  final RequestMatcher matcher;

  private Route(RequestMatcher matcher) {
    this.matcher = matcher;
  }

  /**
   * GET and HEAD requests whose path matches {@code pathPattern}.
   *
   * @param pathPattern the path pattern
   * @return the route
   */
  public static Route get(String pathPattern) {
    return method("GET", "HEAD").and(path(pathPattern));
  }

  /**
   * POST requests whose path matches {@code pathPattern}.
   *
   * @param pathPattern the path pattern
   * @return the route
   */
  public static Route post(String pathPattern) {
    return method("POST").and(path(pathPattern));
  }

  /**
   * PUT requests whose path matches {@code pathPattern}.
   *
   * @param pathPattern the path pattern
   * @return the route
   */
  public static Route put(String pathPattern) {
    return method("PUT").and(path(pathPattern));
  }

  /**
   * PATCH requests whose path matches {@code pathPattern}.
   *
   * @param pathPattern the path pattern
   * @return the route
   */
  public static Route patch(String pathPattern) {
    return method("PATCH").and(path(pathPattern));
  }

  /**
   * DELETE requests whose path matches {@code pathPattern}.
   *
   * @param pathPattern the path pattern
   * @return the route
   */
  public static Route delete(String pathPattern) {
    return method("DELETE").and(path(pathPattern));
  }

  /**
   * Every request.
   *
   * @return the route
   */
  public static Route any() {
    return new Route(RequestMatcher.Any.INSTANCE);
  }

  /**
   * Requests whose path matches {@code pattern}: a glob when it holds {@code *}, else exact.
   *
   * @param pattern the pattern
   * @return the route
   * @throws IllegalArgumentException if the pattern is empty, holds {@code ?}, {@code #},
   * whitespace or a backslash, or an exact path does not start with {@code /}, or a glob
   * without a leading {@code /} starts with a literal segment and holds {@code **} ({@code
   * static/**} would match {@code /x/static/y}: write {@code /static/**})
   */
  public static Route path(String pattern) {
    checkPattern(pattern);
    if (pattern.indexOf('*') >= 0) {
      return new Route(new RequestMatcher.GlobPath(pattern));
    }
    return exact(pattern);
  }

  /**
   * Requests for exactly this path.
   *
   * @param path the path
   * @return the route
   * @throws IllegalArgumentException unless {@code path} starts with {@code /}
   */
  public static Route exact(String path) {
    checkPattern(path);
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("exact path must start with '/', got '" + path + "'");
    }
    return new Route(new RequestMatcher.ExactPath(path));
  }

  /**
   * Requests whose path is {@code prefix} or lies under it, by whole segments: {@code /api/} and
   * {@code /api} both match {@code /api} and {@code /api/x}, not {@code /apix}.
   *
   * @param prefix the prefix
   * @return the route
   * @throws IllegalArgumentException unless {@code prefix} starts with {@code /} and has no
   * {@code *}
   */
  public static Route prefix(String prefix) {
    checkPattern(prefix);
    if (!prefix.startsWith("/") || prefix.indexOf('*') >= 0) {
      throw new IllegalArgumentException(
          "prefix must start with '/' and hold no '*', got '" + prefix + "'");
    }
    String p = prefix;
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return new Route(new RequestMatcher.PrefixPath(p, prefix + (prefix.endsWith("/") ? "" : "/") + "**"));
  }

  /**
   * Requests whose path's last segment has one of these extensions, case-insensitive:
   * {@code extensions("css", "js")}.
   *
   * @param extensions the extensions
   * @return the route
   * @throws IllegalArgumentException if none is given, or one is blank or holds {@code .} or
   * {@code /}
   */
  public static Route extensions(String... extensions) {
    requireNonNull(extensions, "extensions");
    if (extensions.length == 0) {
      throw new IllegalArgumentException("extensions needs at least one extension");
    }
    Set<String> set = new LinkedHashSet<>();
    for (String ext : extensions) {
      requireNonNull(ext, "extension");
      if (ext.isBlank() || ext.contains(".") || ext.contains("/")) {
        throw new IllegalArgumentException(
            "extension must be non-blank without '.' or '/', got '" + ext + "'");
      }
      set.add(ext.toLowerCase(Locale.ROOT));
    }
    return new Route(new RequestMatcher.Extension(set));
  }

  /**
   * Requests with one of these methods (case-sensitive, as HTTP says).
   *
   * @param methods the methods
   * @return the route
   * @throws IllegalArgumentException if none is given or one is not a token
   */
  public static Route method(String... methods) {
    requireNonNull(methods, "methods");
    if (methods.length == 0) {
      throw new IllegalArgumentException("method needs at least one method");
    }
    Set<String> set = new LinkedHashSet<>();
    for (String m : methods) {
      requireNonNull(m, "method");
      if (!HttpSyntax.isToken(m)) {
        throw new IllegalArgumentException("method is not a token: '" + m + "'");
      }
      if (!m.equals(m.toUpperCase(Locale.ROOT))) {
        throw new IllegalArgumentException("methods are case-sensitive and the standard ones are "
            + "upper-case: '" + m + "' would never match " + m.toUpperCase(Locale.ROOT));
      }
      set.add(m);
    }
    return new Route(new RequestMatcher.Method(set));
  }

  /**
   * Requests for this host (from {@code Host}), case-insensitive, port ignored.
   *
   * @param host the host
   * @return the route
   * @throws IllegalArgumentException if {@code host} is blank
   */
  public static Route host(String host) {
    requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    return new Route(new RequestMatcher.Host(OffloadRequest.hostWithoutPort(host)));
  }

  /**
   * Requests that carry this header.
   *
   * @param name the name
   * @return the route
   * @throws IllegalArgumentException if {@code name} is not a token
   */
  public static Route header(String name) {
    return new Route(new RequestMatcher.Header(headerName(name), null));
  }

  /**
   * Requests whose first value of this header equals {@code value} exactly.
   *
   * @param name the name
   * @param value the value
   * @return the route
   * @throws IllegalArgumentException if {@code name} is not a token
   */
  public static Route header(String name, String value) {
    return new Route(new RequestMatcher.Header(headerName(name), requireNonNull(value, "value")));
  }

  /**
   * Requests that carry this query parameter (decoded name).
   *
   * @param name the name
   * @return the route
   */
  public static Route query(String name) {
    return new Route(new RequestMatcher.Query(requireNonNull(name, "name"), null));
  }

  /**
   * Requests where one value of this query parameter equals {@code value} (decoded).
   *
   * @param name the name
   * @param value the value
   * @return the route
   */
  public static Route query(String name, String value) {
    return new Route(
        new RequestMatcher.Query(requireNonNull(name, "name"), requireNonNull(value, "value")));
  }

  /**
   * Requests whose {@code Content-Type} media type is {@code mediaRange}, case-insensitive,
   * parameters ignored; {@code image/*} matches any image type.
   *
   * @param mediaRange the media range
   * @return the route
   * @throws IllegalArgumentException unless {@code mediaRange} is {@code type/subtype} or
   * {@code type/*}
   */
  public static Route contentType(String mediaRange) {
    requireNonNull(mediaRange, "mediaRange");
    int slash = mediaRange.indexOf('/');
    if (slash <= 0 || slash == mediaRange.length() - 1
        || !HttpSyntax.isToken(mediaRange.substring(0, slash))
        || !HttpSyntax.isToken(mediaRange.substring(slash + 1))) {
      throw new IllegalArgumentException(
          "content type must be type/subtype or type/*, got '" + mediaRange + "'");
    }
    return new Route(new RequestMatcher.ContentType(mediaRange));
  }

  /**
   * Requests that match this route and {@code other}.
   *
   * @param other the other
   * @return the route
   */
  public Route and(Route other) {
    requireNonNull(other, "other");
    List<RequestMatcher> parts = new ArrayList<>();
    flatten(matcher, parts, true);
    flatten(other.matcher, parts, true);
    return new Route(new RequestMatcher.And(parts));
  }

  /**
   * Requests that match this route or {@code other}.
   *
   * @param other the other
   * @return the route
   */
  public Route or(Route other) {
    requireNonNull(other, "other");
    List<RequestMatcher> parts = new ArrayList<>();
    flatten(matcher, parts, false);
    flatten(other.matcher, parts, false);
    return new Route(new RequestMatcher.Or(parts));
  }

  /**
   * Requests that do not match {@code route}.
   *
   * @param route the route
   * @return the route
   */
  public static Route not(Route route) {
    requireNonNull(route, "route");
    return new Route(new RequestMatcher.Not(route.matcher));
  }

  private static void flatten(RequestMatcher m, List<RequestMatcher> into, boolean and) {
    if (and && m instanceof RequestMatcher.And a) {
      into.addAll(a.parts());
    } else if (!and && m instanceof RequestMatcher.Or o) {
      into.addAll(o.parts());
    } else {
      into.add(m);
    }
  }

  private static String headerName(String name) {
    requireNonNull(name, "name");
    if (!HttpSyntax.isToken(name)) {
      throw new IllegalArgumentException("header name is not a token: '" + name + "'");
    }
    return name;
  }

  private static void checkPattern(String pattern) {
    requireNonNull(pattern, "pattern");
    if (pattern.isEmpty()) {
      throw new IllegalArgumentException("path pattern must not be empty");
    }
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c == '?' || c == '#' || c == '\\' || c <= ' ' || c == 0x7f) {
        throw new IllegalArgumentException(
            "path pattern holds '" + c + "' at index " + i + ": '" + pattern + "'");
      }
      if (c == '%') {
        throw new IllegalArgumentException("path patterns match the decoded path: write the "
            + "character, not its percent-escape, in '" + pattern + "'");
      }
    }
  }

  /**
   * Returns whether this route takes {@code request}, as the router would decide it: for a guard
   * that applies to some routes only (a guard runs before routes are chosen).
   *
   * @param request the request
   * @return whether this route takes {@code request}, as the router would decide it: for a guard
   *     that applies to some routes only (a guard runs before routes are chosen)
   */
  public boolean matches(OffloadRequest request) {
    return matcher.matches(requireNonNull(request, "request"));
  }

  /** Returns a description such as {@code GET|HEAD /static/**}. */
  @Override
  public String toString() {
    return matcher.describe();
  }
}
