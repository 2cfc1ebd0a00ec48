package dev.offload.core;

/**
 * What a route does with a request it matched: one method, usable as a lambda. The three kinds
 * that the pattern names extend it: {@link dev.offload.core.cdn.CdnStrategy}, {@link
 * dev.offload.core.failover.FailoverStrategy} and {@link dev.offload.core.async.AsyncTaskStrategy}.
 *
 * <p>{@code decide} runs on the request thread for every matching request: it must not do I/O or
 * block, and it must be thread-safe. It reads time only through {@link DecisionContext#nanoTime()}.
 * If it throws an exception (a checked one thrown undeclared too), the router answers 500 and
 * counts the failure; the router itself keeps working.
 */
@FunctionalInterface
public interface OffloadStrategy {
  /** Returns the decision for {@code request}; never null. */
  Decision decide(OffloadRequest request, DecisionContext context);

  /** Returns a short description for explanations, e.g. {@code CdnStrategy.redirectTo(...)}. */
  default String describe() {
    return "OffloadStrategy";
  }

  /** Returns a strategy that lets the host's own handler answer. */
  static OffloadStrategy passThrough() {
    return new OffloadStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        return Decision.passThrough();
      }

      @Override
      public String describe() {
        return "passThrough";
      }
    };
  }

  /** Returns a strategy that always rejects with {@code status} and {@code reason}. */
  static OffloadStrategy reject(int status, String reason) {
    Decision.Reject reject = Decision.reject(status, reason);
    return new OffloadStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        return reject;
      }

      @Override
      public String describe() {
        return "reject(" + status + ")";
      }
    };
  }
}
