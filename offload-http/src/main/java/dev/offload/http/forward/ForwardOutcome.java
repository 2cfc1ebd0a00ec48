package dev.offload.http.forward;

import dev.offload.core.Completion;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Outcome;

/**
 * How one forward ended: the value the decision's completion record and the forwarding metrics
 * are both built from. Public for forwarders on another I/O style (offload-netty's); see {@link
 * ForwardRules}.
 *
 * @param tag the {@code outcome} tag of {@value Forwarder#REQUESTS_METER}
 * @param outcome the handle's outcome
 * @param failure the failure, {@link FailureKind#NONE} when none
 * @param status the status sent to the client, -1 when none was sent
 * @param bytes response body bytes relayed to the client
 */
public record ForwardOutcome(String tag, Outcome outcome, FailureKind failure, int status,
    long bytes) {
  /** A bug: nothing more is known. */
  public static final ForwardOutcome ERROR =
      new ForwardOutcome("error", Outcome.FAILURE, FailureKind.INTERNAL_ERROR, -1, 0);

  /**
   * Returns an outcome with no body bytes relayed.
   *
   * @param tag the {@code outcome} tag
   * @param outcome the handle's outcome
   * @param failure the failure
   * @param status the status sent, -1 when none
   * @return the outcome
   */
  public static ForwardOutcome of(String tag, Outcome outcome, FailureKind failure, int status) {
    return new ForwardOutcome(tag, outcome, failure, status, 0);
  }

  /**
   * Returns the outcome of a client that went away, or could not be written to.
   *
   * @param status the status sent, -1 when none
   * @param bytes the body bytes relayed before
   * @return the outcome
   */
  public static ForwardOutcome clientGone(int status, long bytes) {
    return new ForwardOutcome("client_gone", Outcome.DROPPED, FailureKind.CLIENT_GONE, status,
        bytes);
  }

  /**
   * Completes {@code handle} with this outcome, unless it was completed already.
   *
   * @param handle the forward's handle
   * @return whether this call completed it
   */
  public boolean completeIfOpen(DecisionHandle handle) {
    return handle.tryComplete(outcome, failure, status < 0 ? Completion.NO_STATUS : status, bytes);
  }
}
