package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * A durable queue shared by the instances of a fleet, which a {@link TaskPool} hands its accepted
 * tasks to instead of keeping them in its own in-memory queue ({@link TaskPool.Builder#queue}).
 * The pool persists each task with {@link #offer} before it answers 202; its workers, on every
 * instance, {@link #poll} for tasks (new ones, and ones an instance that died had taken) and
 * {@link #ack} each one once its final snapshot is in the pool's {@link TaskStore}. Delivery is
 * at least once: a task whose worker died before the ack runs again elsewhere, so tasks must be
 * idempotent. offload-redis's {@code RedisTaskQueue} is the implementation (Redis Streams).
 *
 * <pre>{@code
 * TaskPool pool = TaskPool.builder("thumbnails")
 *     .task(resize)
 *     .store(redisStore)                 // shared: any instance answers a task's status
 *     .queue(redisQueue)                 // shared: any instance runs it
 *     .build();
 * }</pre>
 *
 * <p>Without a queue (the default) the pool keeps its own in-memory queue, as before. A queue
 * serves one pool. Implementations must be thread-safe: {@link #poll} is called by every worker
 * of the pool at once.
 */
public interface TaskQueue {
  /**
   * Persists an accepted task, so that it survives this instance: returns only once the queue
   * has acknowledged it (or failed). Called on the request thread, before the 202; bounded by the
   * implementation's command timeout.
   *
   * @param task the task
   * @param capacity the pool's queue capacity: the bound on tasks waiting fleet-wide
   * @return empty when the task is persisted, else why it is not (then nothing of it is kept)
   */
  Optional<Refusal> offer(QueuedTask task, int capacity);

  /**
   * Waits up to {@code maxWait} for a task for one of this instance's workers: a new one, or one
   * reclaimed from an instance that took it and did not acknowledge it in time.
   *
   * @param maxWait the longest wait
   * @return the delivery, or empty when none came in time
   * @throws InterruptedException if the worker was interrupted (the pool is shutting down)
   * @throws RuntimeException when the queue cannot be reached (the pool logs it and tries again)
   */
  Optional<Delivery> poll(Duration maxWait) throws InterruptedException;

  /**
   * Acknowledges a delivery whose final snapshot is stored: it is never delivered again.
   *
   * @param delivery what {@link #poll} returned
   * @throws RuntimeException when the queue cannot be reached (the task stays pending and is
   *     delivered again after the reclaim timeout)
   */
  void ack(Delivery delivery);

  /**
   * Gives up a delivery without acknowledging it: its task could not be started, or its final
   * snapshot could not be stored. It stays pending and is delivered again, to any instance, after
   * the queue's reclaim timeout. Never throws. Default: nothing to do.
   *
   * @param delivery what {@link #poll} returned
   */
  default void release(Delivery delivery) {}

  /**
   * Returns the number of tasks waiting fleet-wide, as last seen: no I/O, read by {@code decide}
   * for backpressure.
   *
   * @return the waiting tasks last seen
   */
  int depth();

  /**
   * Stops using the queue (closes its connections); called by {@link TaskPool#shutdown}. Tasks
   * delivered to this instance and not acknowledged stay pending and are reclaimed by another.
   */
  void close();

  /**
   * A task as the queue persists it: what a worker on any instance needs to run it.
   *
   * @param id the task's id (its snapshot's id in the store)
   * @param pool the pool's name
   * @param request the request, with its body and owner
   * @param idempotencyKey the client's {@code Idempotency-Key}, or empty
   */
  record QueuedTask(String id, String pool, TaskRequest request, Optional<String> idempotencyKey) {
    /**
     * Checks the values.
     *
     * @param id see {@link #id()}
     * @param pool see {@link #pool()}
     * @param request see {@link #request()}
     * @param idempotencyKey see {@link #idempotencyKey()}
     */
    public QueuedTask {
      requireNonNull(id, "id");
      requireNonNull(pool, "pool");
      requireNonNull(request, "request");
      requireNonNull(idempotencyKey, "idempotencyKey");
    }
  }

  /**
   * One delivery of a task to a worker.
   *
   * @param task the task
   * @param receipt the queue's handle for {@link #ack} (a stream entry id)
   * @param reclaimed whether it was taken over from a worker that did not acknowledge it
   */
  record Delivery(QueuedTask task, String receipt, boolean reclaimed) {
    /**
     * Checks the values.
     *
     * @param task see {@link #task()}
     * @param receipt see {@link #receipt()}
     * @param reclaimed see {@link #reclaimed()}
     */
    public Delivery {
      requireNonNull(task, "task");
      requireNonNull(receipt, "receipt");
    }
  }

  /**
   * Why {@link #offer} did not persist a task: the client is answered 503 with the reason.
   *
   * @param reason why, for the client (no internals)
   * @param full whether the queue is full (else it is unreachable); the {@code reason} tag of
   *     {@code offload.tasks.rejected} is {@code full} or {@code unavailable}
   */
  record Refusal(String reason, boolean full) {
    /**
     * Checks the values.
     *
     * @param reason see {@link #reason()}
     * @param full see {@link #full()}
     */
    public Refusal {
      requireNonNull(reason, "reason");
    }
  }
}
