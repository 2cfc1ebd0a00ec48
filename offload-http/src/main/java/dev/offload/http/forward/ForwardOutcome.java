package dev.offload.http.forward;

import dev.offload.core.Completion;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Outcome;

/**
 * How one forward ended: the value the decision's completion record and the forwarding metrics
 * are both built from.
 *
 * @param tag the {@code outcome} tag of {@value Forwarder#REQUESTS_METER}
 * @param outcome the handle's outcome
 * @param failure the failure, {@link FailureKind#NONE} when none
 * @param status the status sent to the client, -1 when none was sent
 * @param bytes response body bytes relayed to the client
 */
record ForwardOutcome(String tag, Outcome outcome, FailureKind failure, int status, long bytes) {
  /** A bug: nothing more is known. */
  static final ForwardOutcome ERROR =
      new ForwardOutcome("error", Outcome.FAILURE, FailureKind.INTERNAL_ERROR, -1, 0);

  static ForwardOutcome of(String tag, Outcome outcome, FailureKind failure, int status) {
    return new ForwardOutcome(tag, outcome, failure, status, 0);
  }

  /** The client went away, or could not be written to. */
  static ForwardOutcome clientGone(int status, long bytes) {
    return new ForwardOutcome("client_gone", Outcome.DROPPED, FailureKind.CLIENT_GONE, status,
        bytes);
  }

  /** Completes {@code handle} with this outcome, unless it was completed already. */
  boolean completeIfOpen(DecisionHandle handle) {
    return handle.tryComplete(outcome, failure, status < 0 ? Completion.NO_STATUS : status, bytes);
  }
}
