package dev.offload.core.cdn;

import dev.offload.core.internal.PercentEncoding;

/**
 * The rules for a path in an {@link AssetManifest} or given to a {@link UrlRewriter}, and how it
 * is written into a URL. A path is decoded text: absolute, with a non-empty last segment, and
 * none of what could make a URL built from it point elsewhere or mean something else: no {@code
 * .} or {@code ..} segment, no empty segment ({@code //}), no backslash, no {@code ?} or {@code
 * #}, no control character.
 */
final class AssetPath {
  private AssetPath() {}

  /** Returns why {@code path} is not a valid asset path, or null when it is. */
  static String problem(String path) {
    if (path.isEmpty() || path.charAt(0) != '/') {
      return "must be an absolute path (start with '/')";
    }
    if (path.endsWith("/")) {
      return "must name a file (not end with '/')";
    }
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
        return "must not hold control characters (at index " + i + ")";
      }
      if (c == '\\') {
        return "must not hold a backslash";
      }
      if (c == '?' || c == '#') {
        return "must not hold '?' or '#'";
      }
    }
    int start = 1;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      String segment = path.substring(start, end);
      if (segment.isEmpty()) {
        return "must not hold an empty segment ('//')";
      }
      if (segment.equals(".") || segment.equals("..")) {
        return "must not hold a '.' or '..' segment";
      }
      start = end + 1;
    }
    return null;
  }

  /**
   * Returns {@code path} when valid.
   *
   * @throws IllegalArgumentException naming {@code what} and the path otherwise
   */
  static String check(String what, String path) {
    String problem = problem(path);
    if (problem != null) {
      throw new IllegalArgumentException(what + " '" + printable(path) + "' " + problem);
    }
    return path;
  }

  /** Percent-encodes every character that is not a path character (RFC 3986 pchar or '/'). */
  static String encode(String path) {
    return PercentEncoding.encode(path, AssetPath::isPathChar);
  }

  private static boolean isPathChar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "-._~!$&'()*+,;=:@/".indexOf(c) >= 0;
  }

  /** {@code s} with control characters escaped, for an error message that cannot break a log. */
  static String printable(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
