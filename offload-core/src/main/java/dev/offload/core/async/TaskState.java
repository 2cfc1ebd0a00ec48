package dev.offload.core.async;

/**
 * Where a task is in its life: {@code QUEUED -> RUNNING -> SUCCEEDED | FAILED}, and {@code
 * CANCELLED} from either of the first two. The last three are final: a task in a final state
 * never changes again.
 */
public enum TaskState {
  /** Accepted and waiting for a worker. */
  QUEUED("queued"),
  /** A worker is running it. */
  RUNNING("running"),
  /** It ran and produced a result, which can be fetched until it expires. */
  SUCCEEDED("succeeded"),
  /** It ran and threw, or did not finish before the pool shut down. */
  FAILED("failed"),
  /** It was cancelled before it finished, or the pool shut down before it ran. */
  CANCELLED("cancelled");

  private final String tag;

  TaskState(String tag) {
    this.tag = tag;
  }

  /**
   * Returns the lower-case name used in status documents and as the {@code outcome} metric tag.
   *
   * @return the lower-case name, e.g. {@code queued}
   */
  public String tag() {
    return tag;
  }

  /**
   * Returns whether the state is final (succeeded, failed or cancelled).
   *
   * @return true for a final state
   */
  public boolean isFinal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }
}
