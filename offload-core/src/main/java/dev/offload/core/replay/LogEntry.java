package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

/**
 * One request read from an access log.
 *
 * @param lineNumber the line it was read from, 1-based
 * @param timestampNanos when the request arrived, nanoseconds since the epoch
 * @param client the client field of the log (an IP literal or host name), empty when the format
 *     has none
 * @param method the request method as logged
 * @param target the request target as logged: path and query
 * @param status the status the log recorded
 * @param bytes the response body size the log recorded, 0 when unknown
 * @param durationNanos how long the request took, {@value #UNKNOWN_DURATION} when the log does
 *     not say
 */
public record LogEntry(long lineNumber, long timestampNanos, String client, String method,
    String target, int status, long bytes, long durationNanos) {
  /** The {@link #durationNanos()} of an entry whose log records no duration. */
  public static final long UNKNOWN_DURATION = -1;

  /**
   * Checks the values.
   *
   * @param lineNumber see {@link #lineNumber()}
   * @param timestampNanos see {@link #timestampNanos()}
   * @param client see {@link #client()}
   * @param method see {@link #method()}
   * @param target see {@link #target()}
   * @param status see {@link #status()}
   * @param bytes see {@link #bytes()}
   * @param durationNanos see {@link #durationNanos()}
   * @throws IllegalArgumentException if {@code status} is not in 100..599, {@code bytes} is
   *     negative or {@code durationNanos} is negative but not {@value #UNKNOWN_DURATION}
   */
  public LogEntry {
    requireNonNull(client, "client");
    requireNonNull(method, "method");
    requireNonNull(target, "target");
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status must be in 100..599, got " + status);
    }
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must not be negative, got " + bytes);
    }
    if (durationNanos < UNKNOWN_DURATION) {
      throw new IllegalArgumentException("durationNanos must not be negative, got "
          + durationNanos);
    }
  }

  /**
   * Returns whether the log recorded how long the request took.
   *
   * @return true when {@link #durationNanos()} is known
   */
  public boolean hasDuration() {
    return durationNanos != UNKNOWN_DURATION;
  }
}
