package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import dev.offload.core.internal.Settings;
import java.time.Duration;

/**
 * A condition on a backend's measured load, under which {@link Failover} moves requests to the
 * alternative backend (and, when every target is over its condition, sheds them).
 *
 * <pre>{@code
 * FailoverStrategy.primary(orders)
 *     .alternative(replica)
 *     .when(Load.inFlightAbove(200).or(Load.p99Above(Duration.ofMillis(250))))
 * }</pre>
 *
 * <p>{@link #exceeded} runs on every request: it must read, never block, and be thread-safe.
 * Figures come from {@link BackendLoad} at {@code nowNanos} on the router's ticker.
 */
@FunctionalInterface
public interface Load {
  /**
   * Returns whether {@code load} is over this condition at {@code nowNanos}.
   *
   * @param load the backend's load
   * @param nowNanos now, on the router's ticker
   * @return whether the condition holds
   */
  boolean exceeded(BackendLoad load, long nowNanos);

  /**
   * Returns a short description for explanations, e.g. {@code inFlightAbove(200)}.
   *
   * @return the description
   */
  default String describe() {
    return "Load";
  }

  /**
   * Returns the description of the part of this condition that holds (for {@link #or}, the first
   * part that does), or an empty string when none does.
   *
   * @param load the backend's load
   * @param nowNanos now, on the router's ticker
   * @return what fired, or {@code ""}
   */
  default String firing(BackendLoad load, long nowNanos) {
    return exceeded(load, nowNanos) ? describe() : "";
  }

  /**
   * Returns a condition that holds when this one or {@code other} does.
   *
   * @param other the other condition
   * @return the combined condition
   */
  default Load or(Load other) {
    requireNonNull(other, "other");
    Load self = this;
    return new Load() {
      @Override
      public boolean exceeded(BackendLoad load, long nowNanos) {
        return self.exceeded(load, nowNanos) || other.exceeded(load, nowNanos);
      }

      @Override
      public String firing(BackendLoad load, long nowNanos) {
        String first = self.firing(load, nowNanos);
        return first.isEmpty() ? other.firing(load, nowNanos) : first;
      }

      @Override
      public String describe() {
        return self.describe() + " or " + other.describe();
      }
    };
  }

  /**
   * Returns a condition that holds when this one and {@code other} both do.
   *
   * @param other the other condition
   * @return the combined condition
   */
  default Load and(Load other) {
    requireNonNull(other, "other");
    Load self = this;
    return new Load() {
      @Override
      public boolean exceeded(BackendLoad load, long nowNanos) {
        return self.exceeded(load, nowNanos) && other.exceeded(load, nowNanos);
      }

      @Override
      public String describe() {
        return "(" + self.describe() + " and " + other.describe() + ")";
      }
    };
  }

  /**
   * Returns a condition that holds when more than {@code limit} requests are in flight on the
   * backend (all instances).
   *
   * @param limit zero or more
   * @return the condition
   * @throws IllegalArgumentException if {@code limit} is negative
   */
  static Load inFlightAbove(long limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("inFlightAbove limit must not be negative, got " + limit);
    }
    return named("inFlightAbove(" + limit + ")", (load, now) -> load.inFlight() > limit);
  }

  /**
   * Returns a condition that holds when the p99 latency estimate of an instance not ejected is
   * above {@code limit}.
   *
   * @param limit positive
   * @return the condition
   * @throws IllegalArgumentException if {@code limit} is not positive
   */
  static Load p99Above(Duration limit) {
    long nanos = Settings.positive("p99Above limit", limit).toNanos();
    return named("p99Above(" + limit.toMillis() + "ms)",
        (load, now) -> load.p99EstimateNanos(now) > nanos);
  }

  /**
   * Returns a condition that holds when more than {@code rate} of the backend's completions
   * within {@link BackendLoad#WINDOW} failed.
   *
   * @param rate in [0, 1)
   * @return the condition
   * @throws IllegalArgumentException if {@code rate} is outside [0, 1)
   */
  static Load errorRateAbove(double rate) {
    if (!(rate >= 0 && rate < 1)) {
      throw new IllegalArgumentException("errorRateAbove rate must be in [0, 1), got " + rate);
    }
    return named("errorRateAbove(" + rate + ")", (load, now) -> load.errorRate(now) > rate);
  }

  /**
   * Returns a condition that holds when the requests in flight on the backend reach its adaptive
   * concurrency limit, learnt by Netflix concurrency-limits' {@code Gradient2Limit} (defaults)
   * from the latency of the backend's completions on the router's ticker. One limit per backend
   * the condition is evaluated on; it starts learning at the first evaluation.
   *
   * @return the condition
   */
  static Load adaptiveLimit() {
    return new AdaptiveLimit(AdaptiveLimit.Algorithm.GRADIENT2);
  }

  /**
   * Returns {@link #adaptiveLimit()} with the {@code VegasLimit} algorithm.
   *
   * @return the condition
   */
  static Load adaptiveLimitVegas() {
    return new AdaptiveLimit(AdaptiveLimit.Algorithm.VEGAS);
  }

  /**
   * Returns {@code condition} with {@code description} as what {@link #describe()} says.
   *
   * @param description for explanations
   * @param condition the condition
   * @return the described condition
   */
  static Load named(String description, Load condition) {
    requireNonNull(description, "description");
    requireNonNull(condition, "condition");
    return new Load() {
      @Override
      public boolean exceeded(BackendLoad load, long nowNanos) {
        return condition.exceeded(load, nowNanos);
      }

      @Override
      public String describe() {
        return description;
      }
    };
  }
}
