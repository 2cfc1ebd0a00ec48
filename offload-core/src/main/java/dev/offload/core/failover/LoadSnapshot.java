package dev.offload.core.failover;

import java.net.URI;
import java.time.Duration;

/**
 * The measured load of one backend instance at one moment: what is in flight now, and what
 * completed within the window ({@link BackendLoad#WINDOW}) before it.
 *
 * @param instance the instance's base URI
 * @param inFlight decisions forwarded to it whose handles are not completed yet
 * @param requests completions within the window (dropped work is not counted)
 * @param failures of those, the ones whose failure blames the backend (connect refused or timed
 *     out, read timeout, reset, bad response, 5xx)
 * @param p50 median latency within the window, zero when nothing completed
 * @param p99 99th-percentile latency within the window, zero when nothing completed
 */
public record LoadSnapshot(
    URI instance, long inFlight, long requests, long failures, Duration p50, Duration p99) {

  /**
   * Returns {@code failures / requests}, or 0 when nothing completed.
   *
   * @return {@code failures / requests}, or 0 when nothing completed
   */
  public double errorRate() {
    return requests == 0 ? 0 : (double) failures / requests;
  }

  @Override
  public String toString() {
    return instance + "{inFlight=" + inFlight + ", requests=" + requests + ", failures="
        + failures + ", p50=" + p50.toMillis() + "ms, p99=" + p99.toMillis() + "ms}";
  }
}
