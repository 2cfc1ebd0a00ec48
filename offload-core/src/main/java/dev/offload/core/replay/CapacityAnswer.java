package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The fewest instances of one backend that keep its p99 latency under a target at the replayed
 * load: the requests the router sent it, at the times it sent them (scaled), re-queued on {@code
 * instances} instances of the simulated concurrency each. The routing is held fixed: a router
 * that would route differently with more capacity behind it is not asked again.
 *
 * @param instances the answer; 0 when even {@code maxInstances} did not meet the target
 * @param concurrency the per-instance concurrency assumed
 * @param p99Target the target
 * @param p99 the p99 latency with {@code instances} (with {@code maxInstances} when not met)
 * @param maxInstances the most instances tried
 */
public record CapacityAnswer(int instances, int concurrency, Duration p99Target, Duration p99,
    int maxInstances) {
  /**
   * Checks the values.
   *
   * @param instances see {@link #instances()}
   * @param concurrency see {@link #concurrency()}
   * @param p99Target see {@link #p99Target()}
   * @param p99 see {@link #p99()}
   * @param maxInstances see {@link #maxInstances()}
   */
  public CapacityAnswer {
    requireNonNull(p99Target, "p99Target");
    requireNonNull(p99, "p99");
  }

  /**
   * Returns whether some instance count up to {@code maxInstances} met the target.
   *
   * @return true when {@link #instances()} is an answer
   */
  public boolean met() {
    return instances > 0;
  }
}
