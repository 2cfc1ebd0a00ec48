package dev.offload.core;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What a route does with a request it matched: one method, usable as a lambda. The three kinds
 * that the pattern names extend it: {@link dev.offload.core.cdn.CdnStrategy}, {@link
 * dev.offload.core.failover.FailoverStrategy} and {@link dev.offload.core.async.AsyncTaskStrategy}.
 *
 * <p>{@code decide} runs on the request thread for every matching request: it must not do I/O or
 * block, and it must be thread-safe. It reads time only through {@link DecisionContext#nanoTime()}.
 * If it throws an exception (a checked one thrown undeclared too), the router answers 500 and
 * counts the failure; the router itself keeps working.
 *
 * <p><b>Explaining does not consume.</b> While {@link DecisionContext#explaining()} a strategy
 * reads its state but does not change it: it takes no in-flight slot, no token, no half-open
 * probe and no queue place, so that {@link OffloadRouter#explain} never changes what the next
 * request gets. A holding decision returned while explaining carries a handle that holds
 * nothing; the router completes it as dropped.
 */
@FunctionalInterface
public interface OffloadStrategy {
  /**
   * Returns the decision for {@code request}; never null.
   *
   * @param request the request
   * @param context the decision context
   * @return the decision for {@code request}; never null
   */
  Decision decide(OffloadRequest request, DecisionContext context);

  /**
   * Returns a short description for explanations, e.g. {@code CdnStrategy.redirectTo(...)}.
   *
   * @return a short description for explanations, e.g
   */
  default String describe() {
    return "OffloadStrategy";
  }

  /**
   * Returns the backends this strategy may forward to, so that the router can refuse two
   * different {@link Backend}s with one name (their metrics and logs would mix). Strategies that
   * forward list theirs; a lambda lists none, and is not checked.
   *
   * @return the backends, none by default
   */
  default List<Backend> backends() {
    return List.of();
  }

  /**
   * Returns {@code strategy} with {@code description} as what {@link #describe()} says, for
   * explanations and {@code OffloadRouter.toString()}.
   *
   * <pre>{@code
   * .otherwise(OffloadStrategy.of("teapot", (request, context) -> Decision.reject(418, "tea")))
   * }</pre>
   *
   * @param description what describes it in explanations
   * @param strategy the strategy
   * @return {@code strategy} with {@code description} as what {@link #describe()} says, for
   *     explanations and {@code OffloadRouter.toString()}
   */
  static OffloadStrategy of(String description, OffloadStrategy strategy) {
    requireNonNull(description, "description");
    requireNonNull(strategy, "strategy");
    return new OffloadStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        return strategy.decide(request, context);
      }

      @Override
      public String describe() {
        return description;
      }

      @Override
      public List<Backend> backends() {
        return strategy.backends();
      }
    };
  }

  /**
   * Returns a strategy that lets the host's own handler answer.
   *
   * @return a strategy that lets the host's own handler answer
   */
  static OffloadStrategy passThrough() {
    return of("passThrough", (request, context) -> Decision.passThrough(context));
  }

  /**
   * Returns a strategy that always rejects with {@code status} and {@code reason}.
   *
   * @param status the HTTP status code
   * @param reason the reason, for the problem body
   * @return a strategy that always rejects with {@code status} and {@code reason}
   */
  static OffloadStrategy reject(int status, String reason) {
    Decision.Reject reject = Decision.reject(status, reason);
    return of("reject(" + status + ")", (request, context) -> reject);
  }
}
