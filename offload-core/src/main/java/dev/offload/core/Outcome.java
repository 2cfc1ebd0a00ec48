package dev.offload.core;

/** How the work behind a {@link DecisionHandle} ended. */
public enum Outcome {
  /** The work completed: the backend answered, the task was accepted, the bytes were sent. */
  SUCCESS,
  /** The work failed: the backend was unreachable, timed out or answered malformed. */
  FAILURE,
  /** The work was abandoned before it produced a result: the client left, or no one ran it. */
  DROPPED
}
