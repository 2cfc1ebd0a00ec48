package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import dev.offload.core.internal.Settings;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Passive outlier detection, as Envoy does it: an instance whose completions show it failing is
 * ejected (no longer chosen) for a while and comes back by itself. It is ejected after {@code
 * consecutive5xx} backend-blamed failures in a row (5xx answers, connect errors, timeouts), after
 * {@code consecutiveGatewayFailures} gateway failures in a row (connect refused or timed out, read
 * timeout, reset, 502/503/504), or when at least {@code failurePercentageMinimumRequests}
 * completions within {@link BackendLoad#WINDOW} failed at {@code failurePercentage} percent or
 * more. An ejection lasts {@code baseEjectionTime} x the number of times the instance was
 * ejected, at most {@code maxEjectionTime}, plus a jitter of up to {@code maxJitter} drawn from
 * the jitter source. At most {@code maxEjectionPercent} of a backend's instances are ejected at
 * once, but always at least one may be.
 *
 * <pre>{@code
 * BackendLoad.of(orders).outlierDetection(OutlierDetection.builder()
 *     .consecutive5xx(3)
 *     .baseEjectionTime(Duration.ofSeconds(10))
 *     .build());
 * }</pre>
 *
 * <p>Immutable; {@link #ofDefaults()} is Envoy's defaults with a jitter of up to one second.
 */
public final class OutlierDetection {
  /** Default backend-blamed failures in a row that eject: 5. */
  public static final int DEFAULT_CONSECUTIVE_5XX = 5;
  /** Default gateway failures in a row that eject: 5. */
  public static final int DEFAULT_CONSECUTIVE_GATEWAY_FAILURES = 5;
  /** Default failure percentage that ejects: 85. */
  public static final int DEFAULT_FAILURE_PERCENTAGE = 85;
  /** Default completions in the window before the failure percentage counts: 50. */
  public static final int DEFAULT_FAILURE_PERCENTAGE_MINIMUM_REQUESTS = 50;
  /** Default first ejection: 30 seconds. */
  public static final Duration DEFAULT_BASE_EJECTION_TIME = Duration.ofSeconds(30);
  /** Default longest ejection: 300 seconds. */
  public static final Duration DEFAULT_MAX_EJECTION_TIME = Duration.ofSeconds(300);
  /** Default most of a backend's instances ejected at once: 10 percent (at least one). */
  public static final int DEFAULT_MAX_EJECTION_PERCENT = 10;
  /** Default largest jitter added to an ejection: one second. */
  public static final Duration DEFAULT_MAX_JITTER = Duration.ofSeconds(1);

  private static final OutlierDetection DEFAULTS = builder().build();
  private static final OutlierDetection DISABLED = builder().enabled(false).build();

  final boolean enabled;
  final int consecutive5xx;
  final int consecutiveGatewayFailures;
  final int failurePercentage;
  final int failurePercentageMinimumRequests;
  final long baseEjectionNanos;
  final long maxEjectionNanos;
  final int maxEjectionPercent;
  final long maxJitterNanos;
  final DoubleSupplier jitter;

  private OutlierDetection(Builder b) {
    this.enabled = b.enabled;
    this.consecutive5xx = b.consecutive5xx;
    this.consecutiveGatewayFailures = b.consecutiveGatewayFailures;
    this.failurePercentage = b.failurePercentage;
    this.failurePercentageMinimumRequests = b.failurePercentageMinimumRequests;
    this.baseEjectionNanos = b.baseEjectionTime.toNanos();
    this.maxEjectionNanos = b.maxEjectionTime.toNanos();
    this.maxEjectionPercent = b.maxEjectionPercent;
    this.maxJitterNanos = b.maxJitter.toNanos();
    this.jitter = b.jitter;
  }

  /**
   * Returns Envoy's defaults (the {@code DEFAULT_*} constants).
   *
   * @return the default configuration
   */
  public static OutlierDetection ofDefaults() {
    return DEFAULTS;
  }

  /**
   * Returns a configuration that never ejects.
   *
   * @return the disabled configuration
   */
  public static OutlierDetection disabled() {
    return DISABLED;
  }

  /**
   * Returns a builder starting from the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns whether this configuration ejects at all.
   *
   * @return false for {@link #disabled()}
   */
  public boolean enabled() {
    return enabled;
  }

  /** How long the {@code times}-th ejection lasts, jitter included. */
  long ejectionNanos(int times) {
    long base = baseEjectionNanos * Math.max(1, times);
    if (base / Math.max(1, times) != baseEjectionNanos || base > maxEjectionNanos) {
      base = maxEjectionNanos; // capped (and no overflow)
    }
    double draw = Math.min(1.0, Math.max(0.0, jitter.getAsDouble()));
    return base + (long) (draw * maxJitterNanos);
  }

  /** Builds an {@link OutlierDetection}. Not thread-safe. */
  public static final class Builder {
    private boolean enabled = true;
    private int consecutive5xx = DEFAULT_CONSECUTIVE_5XX;
    private int consecutiveGatewayFailures = DEFAULT_CONSECUTIVE_GATEWAY_FAILURES;
    private int failurePercentage = DEFAULT_FAILURE_PERCENTAGE;
    private int failurePercentageMinimumRequests = DEFAULT_FAILURE_PERCENTAGE_MINIMUM_REQUESTS;
    private Duration baseEjectionTime = DEFAULT_BASE_EJECTION_TIME;
    private Duration maxEjectionTime = DEFAULT_MAX_EJECTION_TIME;
    private int maxEjectionPercent = DEFAULT_MAX_EJECTION_PERCENT;
    private Duration maxJitter = DEFAULT_MAX_JITTER;
    private DoubleSupplier jitter = () -> ThreadLocalRandom.current().nextDouble();

    private Builder() {}

    /**
     * Sets whether instances are ejected at all.
     *
     * @param enabled false to never eject
     * @return this builder
     */
    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    /**
     * Sets the backend-blamed failures in a row that eject.
     *
     * @param count at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code count} is below 1
     */
    public Builder consecutive5xx(int count) {
      this.consecutive5xx = atLeastOne("consecutive5xx", count);
      return this;
    }

    /**
     * Sets the gateway failures (connect refused or timed out, read timeout, reset, 502/503/504)
     * in a row that eject.
     *
     * @param count at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code count} is below 1
     */
    public Builder consecutiveGatewayFailures(int count) {
      this.consecutiveGatewayFailures = atLeastOne("consecutiveGatewayFailures", count);
      return this;
    }

    /**
     * Sets the failure percentage within the window that ejects, and the completions the window
     * must hold before it counts.
     *
     * @param percent 1..100
     * @param minimumRequests at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code percent} is outside 1..100 or {@code
     *     minimumRequests} below 1
     */
    public Builder failurePercentage(int percent, int minimumRequests) {
      if (percent < 1 || percent > 100) {
        throw new IllegalArgumentException("failurePercentage must be in 1..100, got " + percent);
      }
      this.failurePercentage = percent;
      this.failurePercentageMinimumRequests =
          atLeastOne("failurePercentage minimumRequests", minimumRequests);
      return this;
    }

    /**
     * Sets the first ejection's length; the n-th lasts n times as long, up to the maximum.
     *
     * @param time positive
     * @return this builder
     * @throws IllegalArgumentException if {@code time} is not positive
     */
    public Builder baseEjectionTime(Duration time) {
      this.baseEjectionTime = Settings.positive("baseEjectionTime", time);
      return this;
    }

    /**
     * Sets the longest ejection (before jitter).
     *
     * @param time positive
     * @return this builder
     * @throws IllegalArgumentException if {@code time} is not positive
     */
    public Builder maxEjectionTime(Duration time) {
      this.maxEjectionTime = Settings.positive("maxEjectionTime", time);
      return this;
    }

    /**
     * Sets the most of a backend's instances ejected at once, in percent (one is always
     * allowed).
     *
     * @param percent 0..100
     * @return this builder
     * @throws IllegalArgumentException if {@code percent} is outside 0..100
     */
    public Builder maxEjectionPercent(int percent) {
      if (percent < 0 || percent > 100) {
        throw new IllegalArgumentException("maxEjectionPercent must be in 0..100, got " + percent);
      }
      this.maxEjectionPercent = percent;
      return this;
    }

    /**
     * Sets the jitter: up to {@code max} added to each ejection, scaled by a draw from {@code
     * source} in [0, 1) (seed it, or return a constant, for a deterministic test).
     *
     * @param max zero or positive
     * @param source the draws; must be thread-safe
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is negative
     */
    public Builder jitter(Duration max, DoubleSupplier source) {
      requireNonNull(source, "source");
      this.maxJitter = Settings.notNegative("jitter max", max);
      this.jitter = source;
      return this;
    }

    /**
     * Returns the configuration.
     *
     * @return the configuration
     * @throws IllegalStateException if {@code maxEjectionTime} is below {@code baseEjectionTime}
     */
    public OutlierDetection build() {
      if (maxEjectionTime.compareTo(baseEjectionTime) < 0) {
        throw new IllegalStateException("maxEjectionTime " + maxEjectionTime
            + " is below baseEjectionTime " + baseEjectionTime);
      }
      return new OutlierDetection(this);
    }

    private static int atLeastOne(String setting, int value) {
      if (value < 1) {
        throw new IllegalArgumentException(setting + " must be at least 1, got " + value);
      }
      return value;
    }
  }
}
