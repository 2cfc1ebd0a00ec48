package dev.offload.http.internal;

import dev.offload.core.Headers;
import dev.offload.core.internal.HttpMethods;

/**
 * {@code Max-Forwards} on {@code OPTIONS} (RFC 9110 section 7.6.2): at 0 the recipient answers
 * itself; above 0 a proxy that forwards the request sends the value minus one. Other methods
 * ignore it ({@code TRACE}, the only other one it applies to, is never forwarded).
 */
public final class MaxForwards {
  /** What the gateway lists in {@code Allow} when it answers an {@code OPTIONS} itself. */
  public static final String ALLOWED_METHODS = HttpMethods.ALLOW;

  private MaxForwards() {}

  /**
   * Returns the value of the first {@code Max-Forwards} field of an {@code OPTIONS} request, or
   * -1 when the method is not {@code OPTIONS}, the field is absent or is not 1*DIGIT (then it is
   * forwarded unchanged).
   */
  public static long of(String method, Headers headers) {
    if (!method.equals("OPTIONS")) {
      return -1;
    }
    String value = headers.first("Max-Forwards").orElse("").strip();
    if (value.isEmpty() || value.length() > 18) {
      return -1;
    }
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') {
        return -1;
      }
    }
    return Long.parseLong(value);
  }
}
