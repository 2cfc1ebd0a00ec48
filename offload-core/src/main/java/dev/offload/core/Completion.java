package dev.offload.core;

import static java.util.Objects.requireNonNull;

/**
 * What happened to one executed decision: the record a {@link DecisionHandle} hands its listener
 * when it completes. Load and health statistics, outlier detection, circuit breakers, retry
 * budgets and cache fills are all fed from it.
 *
 * <pre>{@code
 * DecisionHandle handle = DecisionHandle.create(ticker, completion -> {
 *   if (completion.failure().blamesBackend()) errors.increment();
 *   latencies.record(completion.latencyNanos());
 * });
 * }</pre>
 *
 * @param outcome how the work ended
 * @param failure why it failed, {@link FailureKind#NONE} when it did not
 * @param status the HTTP status sent to the client (or received from the backend when nothing
 *     was sent), {@value #NO_STATUS} when none is known
 * @param latencyNanos nanoseconds from the decision to its completion, on the router's ticker
 * @param bytes response body bytes relayed to the client, 0 when none or unknown
 */
public record Completion(
    Outcome outcome, FailureKind failure, int status, long latencyNanos, long bytes) {
  /** The {@link #status()} when no HTTP status is known. */
  public static final int NO_STATUS = 0;

  /**
   * Checks the values.
   *
   * @param outcome the outcome
   * @param failure the failure
   * @param status the HTTP status code
   * @param latencyNanos the latency nanos
   * @param bytes the number of bytes
   * @throws IllegalArgumentException if {@code status} is neither {@value #NO_STATUS} nor in
   * 100..599, {@code latencyNanos} or {@code bytes} is negative, or a success names a failure
   */
  public Completion {
    requireNonNull(outcome, "outcome");
    requireNonNull(failure, "failure");
    if (status != NO_STATUS && (status < 100 || status > 599)) {
      throw new IllegalArgumentException("status must be 0 (none) or in 100..599, got " + status);
    }
    if (latencyNanos < 0) {
      throw new IllegalArgumentException("latencyNanos must not be negative, got " + latencyNanos);
    }
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must not be negative, got " + bytes);
    }
    if (outcome == Outcome.SUCCESS && failure != FailureKind.NONE) {
      throw new IllegalArgumentException("a SUCCESS completion has no failure, got " + failure);
    }
  }

  /**
   * Returns whether a status is known.
   *
   * @return whether a status is known
   */
  public boolean hasStatus() {
    return status != NO_STATUS;
  }
}
