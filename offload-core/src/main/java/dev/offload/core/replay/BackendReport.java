package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the replayed traffic did to one simulated backend (or worker queue, or the host's own
 * handler, named {@link TrafficReplay#HOST}).
 *
 * @param name the backend's name
 * @param requests requests the router sent it
 * @param requestsByInstance requests per instance the router's decisions named (the {@code
 *     Forward}'s instance URI; the queue or host name otherwise), sorted by name
 * @param offloadRatio the share of all replayed requests that never reached it, 0..1
 * @param meanRate requests per second over the whole replay (simulated time)
 * @param peakRate requests per second in the busiest window
 * @param peakInFlight the most requests it held at once (working or waiting for a slot)
 * @param timeouts requests whose latency exceeded the backend's read timeout (completed as
 *     {@code READ_TIMEOUT}, 504)
 * @param p50 the median latency of its requests (queueing + service)
 * @param p99 their 99th percentile latency
 * @param windows p50/p99 over time, one entry per window in which requests completed
 * @param capacity the fewest instances keeping p99 under the replay's target
 */
public record BackendReport(String name, long requests, Map<String, Long> requestsByInstance,
    double offloadRatio, double meanRate, double peakRate, long peakInFlight, long timeouts,
    Duration p50, Duration p99, List<LatencyWindow> windows, CapacityAnswer capacity) {
  /**
   * Checks the values and copies the collections.
   *
   * @param name see {@link #name()}
   * @param requests see {@link #requests()}
   * @param requestsByInstance see {@link #requestsByInstance()}
   * @param offloadRatio see {@link #offloadRatio()}
   * @param meanRate see {@link #meanRate()}
   * @param peakRate see {@link #peakRate()}
   * @param peakInFlight see {@link #peakInFlight()}
   * @param timeouts see {@link #timeouts()}
   * @param p50 see {@link #p50()}
   * @param p99 see {@link #p99()}
   * @param windows see {@link #windows()}
   * @param capacity see {@link #capacity()}
   */
  public BackendReport {
    requireNonNull(name, "name");
    requestsByInstance = java.util.Collections.unmodifiableMap(
        new java.util.TreeMap<>(requireNonNull(requestsByInstance, "requestsByInstance")));
    requireNonNull(p50, "p50");
    requireNonNull(p99, "p99");
    windows = List.copyOf(requireNonNull(windows, "windows"));
    requireNonNull(capacity, "capacity");
  }
}
