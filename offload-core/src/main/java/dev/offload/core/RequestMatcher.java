package dev.offload.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The compiled form of a {@link Route}: matchers that test an {@link OffloadRequest} without
 * allocating. Built once, when the router is built.
 */
abstract class RequestMatcher {

  abstract boolean matches(OffloadRequest request);

  /** A short description, e.g. {@code GET|HEAD} or {@code path /static/**}. */
  abstract String describe();

  /** Why {@code request} does not match; only called when it does not. */
  String mismatch(OffloadRequest request) {
    return "needs " + describe();
  }

  /**
   * The literal first path segments, one of which every matching request has, or null when
   * there is no such set. The router indexes routes by them, so a table of many routes costs few
   * tests per request.
   */
  Set<String> firstSegments() {
    return null;
  }

  /**
   * The methods one of which every matching request has, or null when there is no such set. The
   * router's index leaves a route out of the candidates for other methods.
   */
  Set<String> methods() {
    return null;
  }

  /** Whether this matcher guards a path prefix (a prefix or a {@code **} glob). */
  boolean protectsPrefix() {
    return false;
  }

  @Override
  public String toString() {
    return describe();
  }

  // ---- methods ----------------------------------------------------------------------------

  static final class Method extends RequestMatcher {
    private final String[] methods;

    Method(Set<String> methods) {
      this.methods = methods.toArray(new String[0]);
    }

    @Override
    boolean matches(OffloadRequest request) {
      String m = request.method();
      for (String method : methods) {
        if (method.equals(m)) {
          return true;
        }
      }
      return false;
    }

    @Override
    String describe() {
      return String.join("|", methods);
    }

    @Override
    String mismatch(OffloadRequest request) {
      return "method " + request.method() + " is not " + describe();
    }

    @Override
    Set<String> methods() {
      return Set.of(methods);
    }
  }

  // ---- paths ------------------------------------------------------------------------------

  static final class ExactPath extends RequestMatcher {
    private final String path;

    ExactPath(String path) {
      this.path = path;
    }

    @Override
    boolean matches(OffloadRequest request) {
      return request.path().equals(path);
    }

    @Override
    String describe() {
      return path;
    }

    @Override
    String mismatch(OffloadRequest request) {
      return "path " + request.path() + " is not " + path;
    }

    @Override
    Set<String> firstSegments() {
      return Set.of(segmentOf(path));
    }
  }

  /** A segment-aware prefix: {@code /api} matches {@code /api} and {@code /api/x}, not {@code /apix}. */
  static final class PrefixPath extends RequestMatcher {
    private final String prefix;
    private final String display;

    PrefixPath(String prefix, String display) {
      this.prefix = prefix;
      this.display = display;
    }

    @Override
    boolean matches(OffloadRequest request) {
      String p = request.path();
      if (prefix.isEmpty()) {
        return true;
      }
      return p.startsWith(prefix) && (p.length() == prefix.length() || p.charAt(prefix.length()) == '/');
    }

    @Override
    String describe() {
      return display;
    }

    @Override
    String mismatch(OffloadRequest request) {
      return "path " + request.path() + " is not under " + display;
    }

    @Override
    Set<String> firstSegments() {
      return prefix.isEmpty() ? null : Set.of(segmentOf(prefix));
    }

    @Override
    boolean protectsPrefix() {
      return true;
    }
  }

  /**
   * A glob over path segments: {@code **} is any number of segments (also none), {@code *}
   * within a segment is any run of characters but {@code /}. A pattern without a leading slash
   * ({@code *.css}) matches the last segment anywhere.
   *
   * <p>Matching takes time linear in the path for a given pattern, whatever the path: it is the
   * greedy wildcard algorithm, twice. Over segments, the pattern between two {@code **} is
   * matched at the first place it fits, and on a mismatch only the last {@code **} seen takes
   * one more segment and the pattern after it is tried again: an earlier {@code **} never needs
   * to, since letting it take more segments could only push what follows it further right.
   * Within a segment, {@code *} is handled the same way over characters. So every segment of
   * the path is compared with each pattern segment at most once per retry of the last {@code
   * **}: at most (pattern segments) x (path length) steps, where a recursive matcher that
   * retries every {@code **} takes a power of the path length as large as the number of {@code
   * **} (minutes for one request with a few thousand segments).
   */
  static final class GlobPath extends RequestMatcher {
    private static final String ANY_SEGMENTS = "**";
    private final String pattern;
    private final String[] segments;
    private final boolean literalFirst;
    /** What the path must end with (before a trailing slash): the last segment after its last *. */
    private final String suffix;

    GlobPath(String pattern) {
      this.pattern = pattern;
      List<String> parts = new ArrayList<>();
      if (!pattern.startsWith("/")) {
        String first = pattern.split("/", 2)[0];
        if (first.indexOf('*') < 0 && pattern.contains(ANY_SEGMENTS)) {
          // "static/**" reads as the /static tree but, relative, matches /x/static/y too
          throw new IllegalArgumentException("path pattern '" + pattern + "' has no leading '/'"
              + " and so matches at any depth (/x/" + pattern.replace(ANY_SEGMENTS, "y")
              + "): write '/" + pattern + "', or '**/" + pattern + "' if any depth is meant");
        }
        parts.add(ANY_SEGMENTS);
      }
      for (String part : pattern.split("/", -1)) {
        if (part.isEmpty()) {
          continue;
        }
        if (part.contains(ANY_SEGMENTS) && !part.equals(ANY_SEGMENTS)) {
          throw new IllegalArgumentException(
              "'**' must be a whole segment in path pattern '" + pattern + "'");
        }
        parts.add(part);
      }
      this.segments = parts.toArray(new String[0]);
      this.literalFirst = segments.length > 0 && segments[0].indexOf('*') < 0;
      String last = segments.length > 0 ? segments[segments.length - 1] : ANY_SEGMENTS;
      this.suffix = last.equals(ANY_SEGMENTS) ? "" : last.substring(last.lastIndexOf('*') + 1);
    }

    @Override
    boolean matches(OffloadRequest request) {
      return matches(request.path(), null);
    }

    /**
     * Counts the steps of matching (a segment tried, a character compared), so that tests can
     * check the work is linear in the path without timing it.
     */
    static final class Steps {
      long count;
    }

    /** Matches a normalized {@code path}; counts into {@code steps} unless it is null. */
    boolean matches(String path, Steps steps) {
      int end = path.length();
      if (end > 1 && path.charAt(end - 1) == '/') {
        end--; // a trailing slash does not make another segment
      }
      // the last segment of the pattern matches the last segment of the path, so the path must
      // end with its literal tail: *.css, /**/*.map and most misses fail here, without a scan
      int tail = end - suffix.length();
      if (tail < 0 || !path.startsWith(suffix, tail)) {
        return false;
      }
      return matchSegments(path, end, steps);
    }

    /**
     * The greedy wildcard algorithm over the segments of {@code path[1, end)}. A position is the
     * start of a path segment, or {@code end + 1} once every segment is taken.
     */
    private boolean matchSegments(String path, int end, Steps steps) {
      int pi = 0;
      int pos = 1;
      int starPi = -1; // the index of the last ** seen, or -1
      int starPos = 0; // where the segments that the last ** does not take begin
      while (true) {
        if (steps != null) {
          steps.count++;
        }
        if (pi < segments.length && segments[pi].equals(ANY_SEGMENTS)) {
          pi++;
          if (pi == segments.length) {
            return true; // a trailing ** takes whatever is left
          }
          starPi = pi - 1;
          starPos = pos; // it takes no segment yet
          continue;
        }
        if (pi == segments.length) {
          if (pos > end) {
            return true;
          }
        } else if (pos <= end) {
          int segEnd = segmentEnd(path, pos, end);
          if (wildcardMatch(segments[pi], path, pos, segEnd, steps)) {
            pi++;
            pos = segEnd + 1;
            continue;
          }
        }
        // a mismatch: the last ** takes one more segment, and what follows it starts over there
        if (starPi < 0 || starPos > end) {
          return false;
        }
        starPos = segmentEnd(path, starPos, end) + 1;
        pi = starPi + 1;
        pos = starPos;
      }
    }

    /** The end of the segment that starts at {@code pos}: the next slash, or {@code end}. */
    private static int segmentEnd(String path, int pos, int end) {
      int slash = path.indexOf('/', pos);
      return slash < 0 || slash > end ? end : slash;
    }

    /**
     * Matches {@code glob} (only {@code *} is special) against {@code s[from, to)} with the
     * greedy wildcard algorithm: on a mismatch only the last {@code *} takes one more character,
     * so the work is at most {@code glob.length()} times {@code to - from}.
     */
    static boolean wildcardMatch(String glob, String s, int from, int to, Steps steps) {
      int g = 0;
      int i = from;
      int starG = -1;
      int starI = -1;
      while (i < to) {
        if (steps != null) {
          steps.count++;
        }
        if (g < glob.length() && glob.charAt(g) == '*') {
          starG = g++;
          starI = i;
        } else if (g < glob.length() && glob.charAt(g) == s.charAt(i)) {
          g++;
          i++;
        } else if (starG >= 0) {
          g = starG + 1;
          i = ++starI;
        } else {
          return false;
        }
      }
      while (g < glob.length() && glob.charAt(g) == '*') {
        g++;
      }
      return g == glob.length();
    }

    @Override
    String describe() {
      return pattern;
    }

    @Override
    String mismatch(OffloadRequest request) {
      return "path " + request.path() + " does not match " + pattern;
    }

    @Override
    Set<String> firstSegments() {
      return literalFirst ? Set.of(segments[0]) : null;
    }

    @Override
    boolean protectsPrefix() {
      for (String s : segments) {
        if (s.equals(ANY_SEGMENTS)) {
          return true;
        }
      }
      return false;
    }
  }

  static final class Extension extends RequestMatcher {
    private final String[] extensions;

    Extension(Set<String> extensions) {
      this.extensions = extensions.toArray(new String[0]);
    }

    @Override
    boolean matches(OffloadRequest request) {
      String path = request.path();
      int dot = path.lastIndexOf('.');
      if (dot < 0 || dot < path.lastIndexOf('/')) {
        return false;
      }
      int len = path.length() - dot - 1;
      for (String ext : extensions) {
        if (ext.length() == len && path.regionMatches(true, dot + 1, ext, 0, len)) {
          return true;
        }
      }
      return false;
    }

    @Override
    String describe() {
      return "extension " + String.join("|", extensions);
    }
  }

  // ---- host, headers, query, content type --------------------------------------------------

  static final class Host extends RequestMatcher {
    private final String host;

    Host(String host) {
      this.host = host;
    }

    @Override
    boolean matches(OffloadRequest request) {
      return request.host().equals(host);
    }

    @Override
    String describe() {
      return "host " + host;
    }

    @Override
    String mismatch(OffloadRequest request) {
      return "host '" + request.host() + "' is not " + host;
    }
  }

  static final class Header extends RequestMatcher {
    private final String name;
    private final String value;

    Header(String name, String value) {
      this.name = name.toLowerCase(Locale.ROOT);
      this.value = value;
    }

    @Override
    boolean matches(OffloadRequest request) {
      String actual = request.headers().firstLowerCase(name);
      return actual != null && (value == null || value.equals(actual));
    }

    @Override
    String describe() {
      return value == null ? "header " + name : "header " + name + "=" + value;
    }
  }

  static final class Query extends RequestMatcher {
    private final String name;
    private final String value;

    Query(String name, String value) {
      this.name = name;
      this.value = value;
    }

    @Override
    boolean matches(OffloadRequest request) {
      if (request.rawQuery().isEmpty()) {
        return false;
      }
      List<String> values = request.queryParameters().get(name);
      return values != null && (value == null || values.contains(value));
    }

    @Override
    String describe() {
      return value == null ? "query " + name : "query " + name + "=" + value;
    }
  }

  /** Matches the media type of {@code Content-Type}; {@code image/*} matches any image type. */
  static final class ContentType extends RequestMatcher {
    private final String range;
    private final boolean wildcardSubtype;

    ContentType(String range) {
      this.range = range.toLowerCase(Locale.ROOT);
      this.wildcardSubtype = this.range.endsWith("/*");
    }

    @Override
    boolean matches(OffloadRequest request) {
      String actual = request.headers().firstLowerCase("content-type");
      if (actual == null) {
        return false;
      }
      int end = actual.indexOf(';');
      if (end < 0) {
        end = actual.length();
      }
      while (end > 0 && actual.charAt(end - 1) == ' ') {
        end--;
      }
      if (wildcardSubtype) {
        int typeLen = range.length() - 1; // "image/"
        return end > typeLen && actual.regionMatches(true, 0, range, 0, typeLen);
      }
      return end == range.length() && actual.regionMatches(true, 0, range, 0, end);
    }

    @Override
    String describe() {
      return "content-type " + range;
    }
  }

  // ---- combinators -------------------------------------------------------------------------

  /** The parts of an {@link And} or {@link Or}. */
  abstract static class Composite extends RequestMatcher {
    final RequestMatcher[] parts;

    Composite(List<RequestMatcher> parts) {
      this.parts = parts.toArray(new RequestMatcher[0]);
    }

    List<RequestMatcher> parts() {
      return List.of(parts);
    }

    /** Joins the parts' descriptions, parenthesizing nested composites of the other kind. */
    String join(String separator) {
      StringBuilder sb = new StringBuilder();
      for (RequestMatcher part : parts) {
        if (sb.length() > 0) {
          sb.append(separator);
        }
        boolean nested = part instanceof Composite && part.getClass() != getClass();
        sb.append(nested ? "(" : "").append(part.describe()).append(nested ? ")" : "");
      }
      return sb.toString();
    }

    @Override
    boolean protectsPrefix() {
      for (RequestMatcher part : parts) {
        if (part.protectsPrefix()) {
          return true;
        }
      }
      return false;
    }
  }

  static final class And extends Composite {
    And(List<RequestMatcher> parts) {
      super(parts);
    }

    @Override
    boolean matches(OffloadRequest request) {
      for (RequestMatcher part : parts) {
        if (!part.matches(request)) {
          return false;
        }
      }
      return true;
    }

    @Override
    String describe() {
      return join(" ");
    }

    @Override
    String mismatch(OffloadRequest request) {
      for (RequestMatcher part : parts) {
        if (!part.matches(request)) {
          return part.mismatch(request);
        }
      }
      return "matches";
    }

    /** Every matching request has a first segment that each part with such a set allows. */
    @Override
    Set<String> firstSegments() {
      return intersection(RequestMatcher::firstSegments);
    }

    /** Every matching request has a method that each part with such a set allows. */
    @Override
    Set<String> methods() {
      return intersection(RequestMatcher::methods);
    }

    private Set<String> intersection(Function<RequestMatcher, Set<String>> of) {
      Set<String> common = null;
      for (RequestMatcher part : parts) {
        Set<String> values = of.apply(part);
        if (values != null) {
          if (common == null) {
            common = new HashSet<>(values);
          } else {
            common.retainAll(values);
          }
        }
      }
      return common;
    }
  }

  static final class Or extends Composite {
    Or(List<RequestMatcher> parts) {
      super(parts);
    }

    @Override
    boolean matches(OffloadRequest request) {
      for (RequestMatcher part : parts) {
        if (part.matches(request)) {
          return true;
        }
      }
      return false;
    }

    @Override
    String describe() {
      return join(" or ");
    }

    @Override
    String mismatch(OffloadRequest request) {
      return "none of (" + describe() + ") matched";
    }

    /** The union of the alternatives' sets, when every alternative has one. */
    @Override
    Set<String> firstSegments() {
      return union(RequestMatcher::firstSegments);
    }

    /** The union of the alternatives' methods, when every alternative names some. */
    @Override
    Set<String> methods() {
      return union(RequestMatcher::methods);
    }

    private Set<String> union(Function<RequestMatcher, Set<String>> of) {
      Set<String> union = new HashSet<>();
      for (RequestMatcher part : parts) {
        Set<String> values = of.apply(part);
        if (values == null) {
          return null;
        }
        union.addAll(values);
      }
      return union;
    }
  }

  static final class Not extends RequestMatcher {
    private final RequestMatcher inner;

    Not(RequestMatcher inner) {
      this.inner = inner;
    }

    @Override
    boolean matches(OffloadRequest request) {
      return !inner.matches(request);
    }

    @Override
    String describe() {
      return "not(" + inner.describe() + ")";
    }

    @Override
    String mismatch(OffloadRequest request) {
      return "matched " + inner.describe();
    }
  }

  static final class Any extends RequestMatcher {
    static final Any INSTANCE = new Any();

    @Override
    boolean matches(OffloadRequest request) {
      return true;
    }

    @Override
    String describe() {
      return "any";
    }
  }

  /** The first segment of an absolute path: {@code /api/x} gives {@code api}, {@code /} gives "". */
  static String segmentOf(String path) {
    int end = path.indexOf('/', 1);
    return end < 0 ? path.substring(1) : path.substring(1, end);
  }
}
