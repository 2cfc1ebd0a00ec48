package dev.offload.core;

import java.util.Optional;

/**
 * A response that another request is already fetching, which the request holding this may wait
 * for instead of asking the origin again (request coalescing). A strategy attaches it to the
 * decision's handle ({@link DecisionHandle#waitFor}) in {@code decide}, which never waits; the
 * executor waits in {@link #await()}, bounded, before it executes the decision, and serves the
 * response it gets, or, when there is none, executes the decision itself.
 */
@FunctionalInterface
public interface PendingResponse {
  /**
   * Waits, at most as long as the implementation's own deadline, for the response.
   *
   * @return the response to answer with, or empty when this request must go to the origin itself
   *     (the other fetch failed, was not storable, or did not finish in time)
   * @throws InterruptedException if the waiting thread is interrupted
   */
  Optional<CachedResponse> await() throws InterruptedException;

  /**
   * Whether, after answering with the response {@link #await()} returned, the executor still
   * executes the decision, in the background and with an answer nobody reads, so that the
   * decision's {@link ResponseFill} refreshes what was served ({@code stale-while-revalidate}).
   * The decision's handle is then completed by that background execution. False by default.
   *
   * @return whether to refresh in the background after answering
   */
  default boolean refreshInBackground() {
    return false;
  }
}
