package dev.offload.http.forward;

import static java.util.Objects.requireNonNull;

import dev.offload.core.FailureKind;
import dev.offload.core.internal.HttpMethods;
import java.io.IOException;

/**
 * Whether the forwarder sends a request again after an attempt failed before any response
 * arrived (nothing has been sent to the client yet, so the client only ever sees the last
 * attempt's answer). The default is {@link #staleConnection()}; retry budgets and failover to
 * another instance plug in here.
 *
 * <pre>{@code
 * Forwarder.builder().retryPolicy(RetryPolicy.never())
 * }</pre>
 *
 * <p>Thread-safe: shared by all requests.
 */
@FunctionalInterface
public interface RetryPolicy {
  /**
   * One failed attempt.
   *
   * @param request what was sent
   * @param attempt the number of the attempt that failed, from 1
   * @param failure what it failed with
   * @param kind the failure, classified
   * @param replayable whether the request can be sent again at all: false when it had a body
   *     (a streamed body cannot be replayed)
   */
  record Attempt(OutgoingRequest request, int attempt, IOException failure, FailureKind kind,
      boolean replayable) {
    /**
     * Checks the values.
     *
     * @param request the request
     * @param attempt the attempt
     * @param failure the failure
     * @param kind the kind
     * @param replayable the replayable
     */
    public Attempt {
      requireNonNull(request, "request");
      requireNonNull(failure, "failure");
      requireNonNull(kind, "kind");
    }
  }

  /**
   * Returns whether to send the request again after {@code failed}.
   *
   * @param failed the failed
   * @return whether to send the request again after {@code failed}
   */
  boolean retry(Attempt failed);

  /**
   * Never sends a request again.
   *
   * @return the policy
   */
  static RetryPolicy never() {
    return failed -> false;
  }

  /**
   * The default: resends a request once, only when it is replayable, its method is idempotent
   * (RFC 9110 section 9.2.2: {@code GET}, {@code HEAD}, {@code OPTIONS}, {@code PUT}, {@code
   * DELETE}), and the attempt failed the way a pooled connection fails when the backend closed
   * it while it was idle: the read found the end of the stream or a reset ({@link
   * FailureKind#RESET}). Not after a timeout (the backend may be working on it), a connect
   * failure (no connection was reused, and a second attempt would meet the same refusal) or a
   * malformed response (the backend answered). nginx and Envoy resend in this case too.
   *
   * @return the policy
   */
  static RetryPolicy staleConnection() {
    return failed -> failed.attempt() == 1
        && failed.replayable()
        && failed.kind() == FailureKind.RESET
        && HttpMethods.isIdempotent(failed.request().method());
  }
}
