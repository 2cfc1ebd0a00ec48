package dev.offload.core;

/**
 * What a strategy or guard gets besides the request: the router's clock, the name of the route
 * or guard, and a place to note the inputs it read so that {@link OffloadRouter#explain} can show
 * them.
 *
 * <pre>{@code
 * FailoverStrategy busyAware = (request, context) -> {
 *   long inFlight = primary.inFlight();
 *   context.note("primary.inFlight", inFlight);
 *   return new Decision.Forward(inFlight < 100 ? primary : replica, ...);
 * };
 * }</pre>
 *
 * <p>{@code note} costs nothing when the router is only deciding. Not to be kept past the call.
 */
public interface DecisionContext {
  /** Returns the name of the route (or guard) being evaluated. */
  String name();

  /** Returns the router's clock, in nanoseconds (the injected ticker: fake in tests). */
  long nanoTime();

  /** Records an input for the explanation; ignored unless the router is explaining. */
  void note(String input, Object value);

  /** Returns whether this evaluation is for {@link OffloadRouter#explain}. */
  boolean explaining();
}
