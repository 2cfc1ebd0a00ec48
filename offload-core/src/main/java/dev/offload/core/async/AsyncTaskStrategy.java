package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.DecisionHandle;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.async.internal.Prefer;

/**
 * Offloads heavy work (image resizing, transcoding) to a dedicated worker pool or queue: the
 * client gets 202 and a status URL at once.
 *
 * <pre>{@code
 * TaskPool thumbnails = TaskPool.builder("thumbnails").workers(4).task(resize).build();
 * OffloadRouter router = OffloadRouter.builder()
 *     .route(Route.post("/api/thumbnails"), AsyncTaskStrategy.to(thumbnails))
 *     .route(Route.prefix("/offload/tasks"), AsyncTaskStrategy.statusEndpoint())
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe, no I/O in {@code decide}: it reads whether the pool has room and holds a place
 * through the decision's handle; submitting the task is the executor's job (offload-http's
 * {@code TaskEndpoint}).
 */
@FunctionalInterface
public interface AsyncTaskStrategy extends OffloadStrategy {

  /**
   * Returns a short description for explanations.
   *
   * @return the description
   */
  @Override
  default String describe() {
    return "AsyncTaskStrategy";
  }

  /**
   * The queue that {@link #statusEndpoint()} names in its decisions: the executor answers them
   * from the task stores (status, result, cancel) instead of submitting work. No pool may have
   * this name (it holds a character pool names may not).
   */
  String STATUS_QUEUE = "offload:task-status";

  /**
   * Returns a strategy that offloads every request to the pool: when the pool has room it
   * decides {@code Offload(pool.name(), handle)}, the handle holding a place in the queue until
   * the executor has submitted the task (or dropped it); when it has none it decides 503 with a
   * {@code Retry-After} estimated from the queue's depth and the measured throughput. With {@link
   * TaskPool.Builder#inlineWhenIdle} on, an idle pool and no {@code Prefer: respond-async}, the
   * handle carries {@link TaskPool#INLINE}: the executor waits for the task and answers with its
   * result. {@code explain} shows the depth, the capacity, the workers busy, and why; it holds no place.
   *
   * @param pool the pool
   * @return the strategy
   */
  static AsyncTaskStrategy to(TaskPool pool) {
    requireNonNull(pool, "pool");
    return new AsyncTaskStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        context.note("pool", pool.name());
        context.note("queue.depth", pool.depth());
        context.note("queue.capacity", pool.queueCapacity());
        context.note("workers.busy", pool.running() + "/" + pool.workers());
        boolean inline = pool.inlineWait().isPresent() && pool.isIdle()
            && !Prefer.respondAsync(request.headers());
        if (context.explaining()) {
          boolean room = pool.hasRoom();
          context.note("why", !room ? (pool.accepting() ? "refused: the queue is full"
              : "refused: the pool shut down")
              : inline ? "inline: the pool is idle and the client did not ask for respond-async"
              : "accepted: the queue has room");
          return room ? offload(pool, DecisionHandle.create(context.ticker()), inline)
              : refusal(pool);
        }
        if (!pool.tryReserve()) {
          pool.refusedAtDecide();
          return refusal(pool);
        }
        return offload(pool,
            DecisionHandle.create(context.ticker(), completion -> pool.release()), inline);
      }

      @Override
      public String describe() {
        return "AsyncTaskStrategy.to(" + pool.name() + ")";
      }
    };
  }

  /**
   * Returns the strategy for the task status paths ({@code GET {prefix}/{id}}, {@code GET
   * {prefix}/{id}/result}, {@code DELETE {prefix}/{id}}): route the prefix the executor's {@code
   * TaskEndpoint} serves to it, after the guards, so that the identity they admit decides who
   * sees a task. It decides {@code Offload(STATUS_QUEUE, handle)}; the executor answers.
   *
   * @return the strategy
   */
  static AsyncTaskStrategy statusEndpoint() {
    return new AsyncTaskStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        return new Decision.Offload(STATUS_QUEUE, DecisionHandle.create(context.ticker()));
      }

      @Override
      public String describe() {
        return "AsyncTaskStrategy.statusEndpoint()";
      }
    };
  }

  private static Decision.Offload offload(TaskPool pool, DecisionHandle handle, boolean inline) {
    if (inline) {
      handle.putAttribute(TaskPool.INLINE, Boolean.TRUE);
    }
    return new Decision.Offload(pool.name(), handle);
  }

  private static Decision.Reject refusal(TaskPool pool) {
    return Decision.reject(503, pool.accepting() ? "task queue '" + pool.name() + "' is full"
        : "task pool '" + pool.name() + "' is shutting down",
        Headers.of("Retry-After", Long.toString(pool.estimatedWait().toSeconds())));
  }

  /**
   * Returns a strategy that offloads every request to the named queue, executed by the
   * executor's {@code OffloadHandler}; prefer {@link #to(TaskPool)}, which checks for room.
   *
   * @param queue the queue's name
   * @return the strategy
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
