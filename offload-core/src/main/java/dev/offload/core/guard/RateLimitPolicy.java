package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import dev.offload.core.internal.Settings;
import java.time.Duration;

/**
 * One limit of a {@link RateLimit}: {@code quota} tokens per {@code window}, refilled smoothly,
 * with a bucket that holds up to {@code burst} tokens (the quota unless set). Advertised as one
 * item of {@code RateLimit-Policy}, e.g. {@code "per-second";q=10;w=1}. Immutable.
 *
 * <pre>{@code
 * RateLimitPolicy.of("per-second", 10, Duration.ofSeconds(1)).withBurst(20)
 * RateLimitPolicy.of("per-hour", 1000, Duration.ofHours(1))
 * }</pre>
 *
 * @param name the policy's name in the {@code RateLimit} fields: a token of letters, digits,
 *     {@code -}, {@code _} and {@code .}
 * @param quota tokens added per window, at least 1
 * @param window the window, whole seconds (the fields carry seconds)
 * @param burst the bucket's capacity: tokens a client that was idle can spend at once, at least
 *     {@code quota}
 */
public record RateLimitPolicy(String name, long quota, Duration window, long burst) {
  /**
   * Checks the values.
   *
   * @param name the name
   * @param quota the quota
   * @param window the window
   * @param burst the burst
   * @throws IllegalArgumentException naming the setting and the bad value
   */
  public RateLimitPolicy {
    requireNonNull(name, "name");
    if (name.isEmpty() || !name.chars().allMatch(RateLimitPolicy::isNameChar)) {
      throw new IllegalArgumentException(
          "policy name must be letters, digits, '-', '_' or '.', got '" + name + "'");
    }
    if (quota < 1) {
      throw new IllegalArgumentException("quota must be at least 1, got " + quota);
    }
    Settings.positive("window", window);
    if (window.getNano() != 0) {
      throw new IllegalArgumentException("window must be whole seconds, got " + window);
    }
    if (quota > window.toNanos()) {
      throw new IllegalArgumentException("quota must be at most one token per nanosecond of the"
          + " window (" + window.toNanos() + "), got " + quota);
    }
    if (burst < quota) {
      throw new IllegalArgumentException(
          "burst must be at least the quota (" + quota + "), got " + burst);
    }
  }

  /**
   * Returns {@code quota} tokens per {@code window}, with a burst of {@code quota}.
   *
   * @param name the name
   * @param quota the quota
   * @param window the window
   * @return {@code quota} tokens per {@code window}, with a burst of {@code quota}
   * @throws IllegalArgumentException naming the setting and the bad value
   */
  public static RateLimitPolicy of(String name, long quota, Duration window) {
    return new RateLimitPolicy(name, quota, window, quota);
  }

  /**
   * Returns this policy with a bucket of {@code burst} tokens.
   *
   * @param burst the burst
   * @return this policy with a bucket of {@code burst} tokens
   * @throws IllegalArgumentException if {@code burst} is less than the quota
   */
  public RateLimitPolicy withBurst(long burst) {
    return new RateLimitPolicy(name, quota, window, burst);
  }

  private static boolean isNameChar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '_' || c == '.';
  }

  /** Nanoseconds for an empty bucket to fill up again. */
  long nanosToFill(long tokensMissing) {
    return (long) Math.ceil((double) tokensMissing * window.toNanos() / quota);
  }
}
