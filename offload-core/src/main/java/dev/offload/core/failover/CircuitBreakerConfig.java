package dev.offload.core.failover;

import dev.offload.core.internal.Settings;
import java.time.Duration;

/**
 * When a backend's circuit breaker opens and how it closes again. The breaker opens when, within
 * {@link BackendLoad#WINDOW}, at least {@code minimumRequests} completions were recorded on the
 * backend and {@code failureRate} or more of them blame it; after {@code openDuration} (on the
 * router's ticker) it lets {@code halfOpenProbes} requests through: if all succeed it closes, the
 * first failure opens it again.
 *
 * <pre>{@code
 * BackendLoad.of(orders).circuitBreaker(CircuitBreakerConfig.builder()
 *     .failureRate(0.5, 20)
 *     .openDuration(Duration.ofSeconds(5))
 *     .halfOpenProbes(3)
 *     .build());
 * }</pre>
 *
 * <p>A small state machine of our own rather than Resilience4j's: its breaker reads a {@code
 * java.time.Clock} and does its own sliding windows, while ours must run on the router's ticker
 * and is fed by the completion records the load figures already count. Immutable.
 */
public final class CircuitBreakerConfig {
  /** Default share of failed completions that opens the circuit: 0.5. */
  public static final double DEFAULT_FAILURE_RATE = 0.5;
  /** Default completions within the window before the rate counts: 20. */
  public static final int DEFAULT_MINIMUM_REQUESTS = 20;
  /** Default time the circuit stays open: 10 seconds. */
  public static final Duration DEFAULT_OPEN_DURATION = Duration.ofSeconds(10);
  /** Default probes let through while half-open: 3. */
  public static final int DEFAULT_HALF_OPEN_PROBES = 3;

  private static final CircuitBreakerConfig DEFAULTS = builder().build();
  private static final CircuitBreakerConfig DISABLED = builder().enabled(false).build();

  final boolean enabled;
  final double failureRate;
  final int minimumRequests;
  final long openNanos;
  final int halfOpenProbes;

  private CircuitBreakerConfig(Builder b) {
    this.enabled = b.enabled;
    this.failureRate = b.failureRate;
    this.minimumRequests = b.minimumRequests;
    this.openNanos = b.openDuration.toNanos();
    this.halfOpenProbes = b.halfOpenProbes;
  }

  /**
   * Returns the defaults (the {@code DEFAULT_*} constants).
   *
   * @return the default configuration
   */
  public static CircuitBreakerConfig ofDefaults() {
    return DEFAULTS;
  }

  /**
   * Returns a configuration whose circuit never opens.
   *
   * @return the disabled configuration
   */
  public static CircuitBreakerConfig disabled() {
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

  /** Builds a {@link CircuitBreakerConfig}. Not thread-safe. */
  public static final class Builder {
    private boolean enabled = true;
    private double failureRate = DEFAULT_FAILURE_RATE;
    private int minimumRequests = DEFAULT_MINIMUM_REQUESTS;
    private Duration openDuration = DEFAULT_OPEN_DURATION;
    private int halfOpenProbes = DEFAULT_HALF_OPEN_PROBES;

    private Builder() {}

    /**
     * Sets whether the circuit can open at all.
     *
     * @param enabled false for a breaker that stays closed
     * @return this builder
     */
    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    /**
     * Sets the share of failed completions that opens the circuit, and how many completions the
     * window must hold first.
     *
     * @param rate in (0, 1]
     * @param minimumRequests at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code rate} is outside (0, 1] or {@code
     *     minimumRequests} below 1
     */
    public Builder failureRate(double rate, int minimumRequests) {
      if (!(rate > 0 && rate <= 1)) {
        throw new IllegalArgumentException("failureRate must be in (0, 1], got " + rate);
      }
      if (minimumRequests < 1) {
        throw new IllegalArgumentException(
            "failureRate minimumRequests must be at least 1, got " + minimumRequests);
      }
      this.failureRate = rate;
      this.minimumRequests = minimumRequests;
      return this;
    }

    /**
     * Sets how long the circuit stays open before probing.
     *
     * @param duration positive
     * @return this builder
     * @throws IllegalArgumentException if {@code duration} is not positive
     */
    public Builder openDuration(Duration duration) {
      this.openDuration = Settings.positive("openDuration", duration);
      return this;
    }

    /**
     * Sets how many probe requests a half-open circuit lets through.
     *
     * @param probes at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code probes} is below 1
     */
    public Builder halfOpenProbes(int probes) {
      if (probes < 1) {
        throw new IllegalArgumentException("halfOpenProbes must be at least 1, got " + probes);
      }
      this.halfOpenProbes = probes;
      return this;
    }

    /**
     * Returns the configuration.
     *
     * @return the configuration
     */
    public CircuitBreakerConfig build() {
      return new CircuitBreakerConfig(this);
    }
  }
}
