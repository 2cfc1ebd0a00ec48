package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.OffloadRequest;
import java.util.List;
import dev.offload.core.OffloadStrategy;

/**
 * Routes dynamic requests to backends, and (as failover lands) away from busy or failing ones.
 *
 * <pre>{@code
 * Backend api = Backend.of("api", URI.create("http://127.0.0.1:8081"));
 * .route(Route.prefix("/api/"), FailoverStrategy.to(api))
 * }</pre>
 *
 * <p>An implementation that forwards names the instance and takes its in-flight slot, most simply
 * with {@link BackendLoad#forward(DecisionContext)}, and returns the {@link Decision.Forward}.
 * While {@code context.explaining()} it must not take a slot ({@code BackendLoad} does not).
 * Thread-safe, no I/O.
 */
@FunctionalInterface
public interface FailoverStrategy extends OffloadStrategy {

  @Override
  default String describe() {
    return "FailoverStrategy";
  }

  /**
   * Returns a strategy that forwards to {@code backend}, balanced over its healthy instances,
   * ready to fail over: add an {@link Failover#alternative(Backend)}, a {@link
   * Failover#when(Load)} condition, {@link Failover#readsOnly()} and {@link
   * Failover#shedWhenSaturated(Priority)}.
   *
   * <pre>{@code
   * FailoverStrategy.primary(orders)
   *     .alternative(replica)
   *     .when(Load.inFlightAbove(200).or(Load.p99Above(Duration.ofMillis(250))))
   *     .readsOnly()
   *     .shedWhenSaturated(Priority.by(request -> Priority.NORMAL))
   * }</pre>
   *
   * @param backend the primary backend
   * @return the strategy
   */
  static Failover primary(Backend backend) {
    return Failover.primary(backend);
  }

  /**
   * Returns a strategy that forwards every request to {@code backend}'s least-loaded instance
   * (fewest in flight, ties round-robin), with no failover.
   *
   * @param backend the backend
   * @return a strategy that forwards every request to {@code backend}'s least-loaded instance
   *     (fewest in flight, ties round-robin), with no failover
   */
  static FailoverStrategy to(Backend backend) {
    BackendLoad load = BackendLoad.of(requireNonNull(backend, "backend"));
    return new FailoverStrategy() {
      @Override
      public Decision decide(OffloadRequest request, DecisionContext context) {
        return load.forward(context);
      }

      @Override
      public String describe() {
        return "FailoverStrategy.to(" + backend.name() + ")";
      }

      @Override
      public List<Backend> backends() {
        return List.of(backend);
      }
    };
  }
}
