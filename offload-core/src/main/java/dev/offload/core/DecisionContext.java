package dev.offload.core;

import com.google.common.base.Ticker;

/**
 * What a strategy or guard gets besides the request: the router's clock, the name of the route
 * or guard, and a place to note the inputs it read so that {@link OffloadRouter#explain} can show
 * them.
 *
 * <pre>{@code
 * FailoverStrategy busyAware = (request, context) -> {
 *   long inFlight = BackendLoad.of(primary).inFlight();
 *   context.note("primary.inFlight", inFlight);
 *   return BackendLoad.of(inFlight < 100 ? primary : replica).forward(context);
 * };
 * }</pre>
 *
 * <p>{@code note} costs nothing when the router is only deciding. Not to be kept past the call.
 */
public interface DecisionContext {
  /**
   * Returns the name of the route (or guard) being evaluated.
   *
   * @return the name of the route (or guard) being evaluated
   */
  String name();

  /**
   * Returns the router's clock, in nanoseconds (the injected ticker: fake in tests).
   *
   * @return the router's clock, in nanoseconds (the injected ticker: fake in tests)
   */
  long nanoTime();

  /**
   * Returns the router's ticker, for what outlives the call: a {@link DecisionHandle} measures
   * its latency on it ({@link DecisionHandle#create(Ticker, DecisionHandle.Listener)}).
   *
   * @return the router's ticker, for what outlives the call: a {@link DecisionHandle} measures its
   *     latency on it ({@link DecisionHandle#create(Ticker, DecisionHandle.Listener)})
   */
  Ticker ticker();

  /**
   * Records an input for the explanation; ignored unless the router is explaining.
   *
   * @param input the input
   * @param value the value
   */
  void note(String input, Object value);

  /**
   * Returns whether this evaluation is for {@link OffloadRouter#explain}. While explaining, a
   * guard or strategy reads its state but does not consume it: it takes no token, uses no
   * half-open probe, holds no queue place and acquires no in-flight slot, so that {@code explain}
   * never changes what the next request gets.
   *
   * @return whether this evaluation is for {@link OffloadRouter#explain}
   */
  boolean explaining();
}
