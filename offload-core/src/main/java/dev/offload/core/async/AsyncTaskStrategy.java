package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.DecisionHandle;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadStrategy;

/**
 * Offloads heavy work (image resizing, transcoding) to a dedicated worker pool or queue: the
 * client gets 202 and a status URL at once.
 *
 * <pre>{@code
 * .route(Route.post("/api/images/**"), AsyncTaskStrategy.toQueue("images"))
 * }</pre>
 *
 * <p>Thread-safe, no I/O in {@code decide}: submitting the task is the executor's job.
 */
@FunctionalInterface
public interface AsyncTaskStrategy extends OffloadStrategy {

  @Override
  default String describe() {
    return "AsyncTaskStrategy";
  }

  /**
   * Returns a strategy that offloads every request to the named queue.
   *
   * @param queue the queue
   * @return a strategy that offloads every request to the named queue
   * @throws IllegalArgumentException if {@code queue} is blank
   */
  static AsyncTaskStrategy toQueue(String queue) {
    requireNonNull(queue, "queue");
    if (queue.isBlank()) {
      throw new IllegalArgumentException("queue name must not be blank");
    }
    return new AsyncTaskStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        return new Decision.Offload(queue, DecisionHandle.create());
      }

      @Override
      public String describe() {
        return "AsyncTaskStrategy.toQueue(" + queue + ")";
      }
    };
  }
}
