package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What {@link TaskPool#shutdown} did: every task it had accepted is final afterwards.
 *
 * @param drained whether every queued and running task finished within the drain timeout
 * @param cancelled ids of queued tasks that never ran (now {@link TaskState#CANCELLED})
 * @param abandoned ids of tasks still running at the timeout (now {@link TaskState#FAILED}; their
 *     late results are discarded); with a durable {@link TaskQueue}, left unacknowledged in it
 *     (their state unchanged) for another instance to reclaim
 */
public record ShutdownReport(boolean drained, List<String> cancelled, List<String> abandoned) {
  /**
   * Checks and copies the values.
   *
   * @param drained see {@link #drained()}
   * @param cancelled see {@link #cancelled()}
   * @param abandoned see {@link #abandoned()}
   */
  public ShutdownReport {
    cancelled = List.copyOf(requireNonNull(cancelled, "cancelled"));
    abandoned = List.copyOf(requireNonNull(abandoned, "abandoned"));
  }
}
