package dev.offload.core.async;

import java.util.Optional;

/**
 * Where a {@link TaskPool} keeps its tasks' snapshots and idempotency keys, and where the status
 * endpoint and result replay read them. {@link #inMemory} is the default; a durable store (Redis
 * Streams) can implement the same interface.
 *
 * <pre>{@code
 * TaskStore store = InMemoryTaskStore.builder().maxResultBytes(256L << 20).build();
 * TaskPool pool = TaskPool.builder("thumbnails").task(resize).store(store).build();
 * }</pre>
 *
 * <p>Contract: a task that is not final is kept until it is (it is bounded by the pools' queue
 * capacities, not by the store); a final one is kept until {@link TaskSnapshot#expiresAtNanos()}
 * or until the store needs the room, and is then remembered as {@linkplain #expired expired}
 * (410) for a while. Implementations must be thread-safe; none of the methods may block for long
 * (they run on request threads and workers).
 */
public interface TaskStore {
  /**
   * Stores {@code task}, replacing what was stored under its id.
   *
   * @param task the snapshot to keep
   */
  void put(TaskSnapshot task);

  /**
   * Returns the task stored under {@code id}, if it is known and not expired.
   *
   * @param id the task's id
   * @return the snapshot, or empty
   */
  Optional<TaskSnapshot> get(String id);

  /**
   * Returns what is remembered of a task that was known but whose record expired or was evicted
   * (its snapshot without the result), so that it can be answered 410 Gone rather than 404.
   *
   * @param id the task's id
   * @return the task's last snapshot without its result, or empty when it is not remembered
   */
  Optional<TaskSnapshot> expired(String id);

  /**
   * Forgets a task that was never accepted (a submission that lost an idempotency race or found
   * the queue full).
   *
   * @param id the task's id
   */
  void remove(String id);

  /**
   * Claims an idempotency key for task {@code id}, atomically: the first claim wins.
   *
   * @param key the scoped key (the pool, the owner and the client's {@code Idempotency-Key})
   * @param id the id of the task the caller is submitting
   * @return empty when {@code id} now holds the key, else the id of the task that holds it
   */
  Optional<String> claimKey(String key, String id);

  /**
   * Releases a key claimed by {@code id} whose task was not accepted; does nothing when another
   * task holds it.
   *
   * @param key the scoped key
   * @param id the id that claimed it
   */
  void releaseKey(String key, String id);

  /**
   * Returns the default in-memory store with default settings, on the system ticker.
   *
   * @return a new store
   */
  static TaskStore inMemory() {
    return InMemoryTaskStore.builder().build();
  }
}
