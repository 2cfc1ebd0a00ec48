package dev.offload.core;

import java.util.Optional;

/**
 * A check that a guard cannot make inside {@code decide}, because it needs I/O (an external
 * authorizer, as nginx {@code auth_request} or Envoy {@code ext_authz}): the guard admits with
 * {@link GuardVerdict#withDeferredCheck}, and the executor runs the check before it executes the
 * decision, on the request's thread, bounded by the check's own timeout.
 *
 * <p>The check answers with a response to send instead of executing the decision (a denial:
 * 401, 403, 503), or empty to go on; going on, it may first set fields on the request forwarded
 * ({@link DecisionHandle#setRequestHeaders}) or attributes for the host ({@link
 * DecisionHandle#putAttribute}). <b>It fails closed:</b> an exception or an interrupt becomes a
 * 500 or 503 answer, never an execution. A {@link Decision.Redirect}, which has no handle and
 * cannot wait, is refused with 500 by the router when a guard deferred a check; exempt public
 * redirect routes in the guard. While explaining, the check is never run.
 */
@FunctionalInterface
public interface DeferredCheck {
  /**
   * Runs the check for the decision holding {@code handle}; may block, bounded.
   *
   * @param handle the handle
   * @return the answer instead of the decision, or empty to execute the decision
   * @throws InterruptedException if interrupted while waiting (the request is then refused)
   */
  Optional<CachedResponse> check(DecisionHandle handle) throws InterruptedException;
}
