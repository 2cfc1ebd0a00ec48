package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What is known about one task at one moment: what its status document shows and what a {@link
 * TaskStore} keeps. Immutable.
 *
 * @param id the task's id: 128 random bits, URL-safe base64 (22 characters)
 * @param pool the name of the pool that runs it
 * @param owner the subject that alone may read, fetch or cancel it; empty when anyone holding
 *     the id may
 * @param state where the task is
 * @param progress how far it is, 0..1, once the task reported any
 * @param cancelRequested whether cancellation was asked for while it ran
 * @param result the response to replay, present only when {@link TaskState#SUCCEEDED} and not yet
 *     expired
 * @param error why it failed or was cancelled, for the client (no internals)
 * @param createdNanos when it was accepted, on the pool's ticker
 * @param finishedNanos when it reached a final state, on the pool's ticker; 0 until then
 * @param expiresAtNanos when a final task is forgotten, on the pool's ticker; {@link
 *     Long#MAX_VALUE} until final
 */
public record TaskSnapshot(
    String id,
    String pool,
    Optional<String> owner,
    TaskState state,
    OptionalDouble progress,
    boolean cancelRequested,
    Optional<TaskResult> result,
    Optional<String> error,
    long createdNanos,
    long finishedNanos,
    long expiresAtNanos) {

  /**
   * Checks the values.
   *
   * @param id see {@link #id()}
   * @param pool see {@link #pool()}
   * @param owner see {@link #owner()}
   * @param state see {@link #state()}
   * @param progress see {@link #progress()}
   * @param cancelRequested see {@link #cancelRequested()}
   * @param result see {@link #result()}
   * @param error see {@link #error()}
   * @param createdNanos see {@link #createdNanos()}
   * @param finishedNanos see {@link #finishedNanos()}
   * @param expiresAtNanos see {@link #expiresAtNanos()}
   * @throws IllegalArgumentException if a result is present on a task that did not succeed
   */
  public TaskSnapshot {
    requireNonNull(id, "id");
    requireNonNull(pool, "pool");
    requireNonNull(owner, "owner");
    requireNonNull(state, "state");
    requireNonNull(progress, "progress");
    requireNonNull(result, "result");
    requireNonNull(error, "error");
    if (result.isPresent() && state != TaskState.SUCCEEDED) {
      throw new IllegalArgumentException("only a succeeded task has a result, this one is "
          + state);
    }
  }

  /**
   * Returns whether {@code requester} may see this task: anyone holding the id when the task has
   * no owner, else only its owner. A task that is not visible must be answered like one that
   * does not exist (404), so that ids of others cannot be probed.
   *
   * @param requester the subject of the identity asking, or empty when none was admitted
   * @return whether the task is visible to {@code requester}
   */
  public boolean visibleTo(Optional<String> requester) {
    requireNonNull(requester, "requester");
    return owner.isEmpty() || owner.equals(requester);
  }

  /**
   * Returns this snapshot without its result, as kept once the result expired or was evicted.
   *
   * @return the snapshot without a result
   */
  public TaskSnapshot withoutResult() {
    return result.isEmpty() ? this : new TaskSnapshot(id, pool, owner, state, progress,
        cancelRequested, Optional.empty(), error, createdNanos, finishedNanos, expiresAtNanos);
  }

  /**
   * Returns the bytes the result holds, the weight of this snapshot in a bounded store.
   *
   * @return the result body's length, 0 without a result
   */
  public int resultBytes() {
    return result.map(TaskResult::bodyLength).orElse(0);
  }
}
