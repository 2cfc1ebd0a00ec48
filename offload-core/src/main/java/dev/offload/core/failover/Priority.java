package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import dev.offload.core.OffloadRequest;
import java.util.function.ToIntFunction;

/**
 * The priority of a request when every target is saturated: {@link Failover} sheds the lowest
 * priorities first. From {@link #LOWEST} (0, shed first) to {@link #HIGHEST} (9, never shed).
 *
 * <pre>{@code
 * .shedWhenSaturated(Priority.by(request ->
 *     request.path().startsWith("/api/orders/checkout") ? Priority.HIGHEST : Priority.LOWEST))
 * }</pre>
 *
 * <p>Runs on every request while saturated: pure, fast, thread-safe.
 */
@FunctionalInterface
public interface Priority {
  /** The lowest priority, shed first. */
  int LOWEST = 0;
  /** The default priority. */
  int NORMAL = 5;
  /** The highest priority, never shed. */
  int HIGHEST = 9;

  /**
   * Returns the priority of {@code request}, {@link #LOWEST}..{@link #HIGHEST}.
   *
   * @param request the request
   * @return its priority
   */
  int of(OffloadRequest request);

  /**
   * Returns a priority computed by {@code function}; a value outside {@link #LOWEST}..{@link
   * #HIGHEST} fails the request with an {@link IllegalStateException} naming it.
   *
   * @param function from request to priority
   * @return the priority
   */
  static Priority by(ToIntFunction<OffloadRequest> function) {
    requireNonNull(function, "function");
    return request -> {
      int priority = function.applyAsInt(request);
      if (priority < LOWEST || priority > HIGHEST) {
        throw new IllegalStateException(
            "a priority must be in " + LOWEST + ".." + HIGHEST + ", got " + priority);
      }
      return priority;
    };
  }
}
