package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * One time window of a backend's replayed traffic (by completion time; windows in which nothing
 * completed are left out).
 *
 * @param start the window's start, from the start of the replay (simulated time)
 * @param completed requests that completed in it
 * @param p50 their median latency (queueing + service)
 * @param p99 their 99th percentile latency
 */
public record LatencyWindow(Duration start, long completed, Duration p50, Duration p99) {
  /**
   * Checks the values.
   *
   * @param start see {@link #start()}
   * @param completed see {@link #completed()}
   * @param p50 see {@link #p50()}
   * @param p99 see {@link #p99()}
   */
  public LatencyWindow {
    requireNonNull(start, "start");
    requireNonNull(p50, "p50");
    requireNonNull(p99, "p99");
  }
}
