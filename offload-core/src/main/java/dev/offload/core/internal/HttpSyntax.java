package dev.offload.core.internal;

/**
 * The HTTP grammar checks every part of offload shares (RFC 9110): tokens and {@code
 * Content-Length}. One definition each, so that the router, the executor and the forwarder never
 * disagree about what a valid field is.
 */
public final class HttpSyntax {
  /** More digits than this would overflow a {@code long}; no real body is that large. */
  private static final int MAX_LENGTH_DIGITS = 18;

  private HttpSyntax() {}

  /** Returns whether {@code c} is a {@code tchar} (RFC 9110 section 5.6.2). */
  public static boolean isTokenChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  /** Returns whether {@code s} is a non-empty token (RFC 9110 section 5.6.2). */
  public static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!isTokenChar(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Parses a {@code Content-Length} value (RFC 9110 section 8.6: {@code 1*DIGIT}, ASCII digits
   * only, no sign, no spaces, no list).
   *
   * @return the length, or -1 when {@code value} is not a valid {@code Content-Length}
   */
  public static long parseContentLength(String value) {
    if (value == null || value.isEmpty() || value.length() > MAX_LENGTH_DIGITS) {
      return -1;
    }
    long n = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }
}
