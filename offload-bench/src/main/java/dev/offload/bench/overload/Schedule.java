package dev.offload.bench.overload;

import java.time.Duration;

/**
 * A fixed-rate send schedule: request {@code i} is due {@code i / rate} seconds after the start,
 * whatever the answers to the earlier ones do. The first {@code warmup} of the run is sent but not
 * counted, so the figures describe the steady state.
 *
 * @param ratePerSecond the offered load, requests per second
 * @param warmup how long requests are sent before they are counted
 * @param measured how long requests are sent and counted
 */
public record Schedule(double ratePerSecond, Duration warmup, Duration measured) {

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException if the rate is not positive and finite, the warmup is
   *     negative or the measured span is not positive
   */
  public Schedule {
    if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
      throw new IllegalArgumentException("rate must be positive and finite: " + ratePerSecond);
    }
    if (warmup.isNegative()) {
      throw new IllegalArgumentException("warmup must not be negative: " + warmup);
    }
    if (measured.isZero() || measured.isNegative()) {
      throw new IllegalArgumentException("measured span must be positive: " + measured);
    }
  }

  /** Returns the nanoseconds between two consecutive sends. */
  public double intervalNanos() {
    return 1e9 / ratePerSecond;
  }

  /** Returns how many requests the whole run sends: the warmup's and the measured ones. */
  public long count() {
    return warmupCount() + (long) Math.floor(measured.toNanos() / intervalNanos());
  }

  /** Returns how many requests are sent during the warmup (their index is below this). */
  public long warmupCount() {
    return (long) Math.ceil(warmup.toNanos() / intervalNanos());
  }

  /**
   * Returns when request {@code index} is due, in nanoseconds after the start.
   *
   * @param index the request's index, from zero
   * @return its offset from the start; never drifts, since it is not a sum of intervals
   */
  public long offsetNanos(long index) {
    return Math.round(index * intervalNanos());
  }

  /**
   * Returns whether request {@code index} is counted.
   *
   * @param index the request's index, from zero
   * @return true past the warmup
   */
  public boolean counted(long index) {
    return index >= warmupCount();
  }

  /** Returns the measured span in seconds, the denominator of goodput. */
  public double measuredSeconds() {
    return measured.toNanos() / 1e9;
  }
}
