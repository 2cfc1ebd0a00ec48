package dev.offload.core.internal;

import java.util.List;

/** The standard request methods that offload knows by name, and their properties (RFC 9110). */
public final class HttpMethods {
  /**
   * The methods a gateway routes, in a fixed order (the route index numbers them by it). {@code
   * CONNECT} and {@code TRACE} are refused before routing.
   */
  public static final List<String> ROUTED =
      List.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

  /** The value of {@code Allow} when a method is refused: {@link #ROUTED}, comma-separated. */
  public static final String ALLOW = String.join(", ", ROUTED);

  private HttpMethods() {}

  /** Returns the index of {@code method} in {@link #ROUTED}, or {@code ROUTED.size()}. */
  public static int index(String method) {
    switch (method) {
      case "GET":
        return 0;
      case "HEAD":
        return 1;
      case "POST":
        return 2;
      case "PUT":
        return 3;
      case "DELETE":
        return 4;
      case "PATCH":
        return 5;
      case "OPTIONS":
        return 6;
      default:
        return ROUTED.size();
    }
  }

  /**
   * Returns whether {@code method} is idempotent (RFC 9110 section 9.2.2): {@code GET}, {@code
   * HEAD}, {@code OPTIONS}, {@code PUT}, {@code DELETE}. ({@code TRACE} is too, but is never
   * forwarded.)
   */
  public static boolean isIdempotent(String method) {
    return switch (method) {
      case "GET", "HEAD", "OPTIONS", "PUT", "DELETE" -> true;
      default -> false;
    };
  }
}
