package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * What {@link TaskPool#submit} did with a request: a value, one record per answer.
 *
 * <pre>{@code
 * switch (pool.submit(request, key)) {
 *   case TaskSubmission.Accepted a -> answer202(a.task(), a.retryAfter());
 *   case TaskSubmission.Invalid i -> answer400(i.reason());
 *   case TaskSubmission.Refused r -> answer503(r.reason(), r.retryAfter());
 * }
 * }</pre>
 */
public sealed interface TaskSubmission {
  /**
   * Accepted: the task is queued (or, for a repeated idempotency key, it is the task accepted
   * the first time, in whatever state it is now).
   *
   * @param task the task's snapshot
   * @param repeated whether an earlier submission with the same idempotency key created it
   * @param retryAfter when the client should poll first: the queue's estimated wait
   */
  record Accepted(TaskSnapshot task, boolean repeated, Duration retryAfter)
      implements TaskSubmission {
    /**
     * Checks the values.
     *
     * @param task see {@link #task()}
     * @param repeated see {@link #repeated()}
     * @param retryAfter see {@link #retryAfter()}
     */
    public Accepted {
      requireNonNull(task, "task");
      requireNonNull(retryAfter, "retryAfter");
    }
  }

  /**
   * Refused up front: the pool's {@link TaskValidator} said why (400).
   *
   * @param reason the validator's reason, for the client
   */
  record Invalid(String reason) implements TaskSubmission {
    /**
     * Checks the values.
     *
     * @param reason see {@link #reason()}
     */
    public Invalid {
      requireNonNull(reason, "reason");
    }
  }

  /**
   * Refused for now: the queue is full or the pool is shutting down (503). Nothing was kept.
   *
   * @param reason why, for the client
   * @param retryAfter when a retry may succeed: estimated from the queue's depth and the measured
   *     throughput
   */
  record Refused(String reason, Duration retryAfter) implements TaskSubmission {
    /**
     * Checks the values.
     *
     * @param reason see {@link #reason()}
     * @param retryAfter see {@link #retryAfter()}
     */
    public Refused {
      requireNonNull(reason, "reason");
      requireNonNull(retryAfter, "retryAfter");
    }
  }
}
