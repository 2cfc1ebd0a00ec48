package dev.offload.http.forward;

import static java.util.Objects.requireNonNull;

import dev.offload.core.FailureKind;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.RetryBudget;
import dev.offload.core.internal.HttpMethods;
import java.io.IOException;
import java.net.URI;

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
     * @param request what was sent
     * @param attempt the number of the attempt that failed, from 1
     * @param failure why it failed, or NONE
     * @param kind the failure
     * @param replayable whether the request can be sent again at all
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
   * @param failed the failed attempt
   * @return whether to send the request again after {@code failed}
   */
  boolean retry(Attempt failed);

  /**
   * Returns the instance to send the retry to; called once {@link #retry} said yes. The default
   * is the instance that failed.
   *
   * @param failed the failed attempt
   * @return one of the backend's instances
   */
  default URI retryTo(Attempt failed) {
    return failed.request().instance();
  }

  /**
   * Returns the longest time one attempt may take, zero for no limit beyond the backend's own
   * timeouts. The default is zero.
   *
   * @return the per-try timeout
   */
  default java.time.Duration perTryTimeout() {
    return java.time.Duration.ZERO;
  }

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

  /**
   * Retries within {@code budget}, once, on another healthy instance: an idempotent request
   * without a body after a connect failure, a reset or a read timeout; any method when nothing
   * was sent (the connection was refused or not established in time). Never after a malformed
   * response, never after the response started (the forwarder only asks before it has one), and
   * only while the budget ({@link RetryBudget}: by default 20 % of the backend's completions, at
   * least 3 per second) has room.
   *
   * <pre>{@code
   * RetryBudget budget = RetryBudget.builder(ticker).meterRegistry(registry).build();
   * Forwarder.builder().retryPolicy(RetryPolicy.budgeted(budget))
   * }</pre>
   *
   * @param budget the budget, shared by the router's forwards
   * @return the policy
   */
  static RetryPolicy budgeted(RetryBudget budget) {
    return budgeted(budget, java.time.Duration.ZERO);
  }

  /**
   * Returns {@link #budgeted(RetryBudget)} with a per-try timeout: an attempt that takes longer
   * fails as a read timeout, and an idempotent request is retried on another instance within
   * the budget.
   *
   * @param budget the budget, shared by the router's forwards
   * @param perTryTimeout the longest one attempt may take; zero for none
   * @return the policy
   * @throws IllegalArgumentException if {@code perTryTimeout} is negative
   */
  static RetryPolicy budgeted(RetryBudget budget, java.time.Duration perTryTimeout) {
    requireNonNull(budget, "budget");
    requireNonNull(perTryTimeout, "perTryTimeout");
    if (perTryTimeout.isNegative()) {
      throw new IllegalArgumentException("perTryTimeout must not be negative, got "
          + perTryTimeout);
    }
    return new RetryPolicy() {
      @Override
      public java.time.Duration perTryTimeout() {
        return perTryTimeout;
      }

      @Override
      public boolean retry(Attempt failed) {
        if (failed.attempt() != 1 || !failed.replayable()) {
          return false;
        }
        boolean nothingSent = failed.kind() == FailureKind.CONNECT_REFUSED
            || failed.kind() == FailureKind.CONNECT_TIMEOUT;
        boolean idempotent = HttpMethods.isIdempotent(failed.request().method());
        boolean retryable = nothingSent || (idempotent
            && (failed.kind() == FailureKind.RESET || failed.kind() == FailureKind.READ_TIMEOUT));
        return retryable && budget.tryAcquire(BackendLoad.of(failed.request().backend()));
      }

      @Override
      public URI retryTo(Attempt failed) {
        OutgoingRequest request = failed.request();
        return budget.retryTarget(BackendLoad.of(request.backend()), request.instance(),
            failed.kind());
      }
    };
  }
}
