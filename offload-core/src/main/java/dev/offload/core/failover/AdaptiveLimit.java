package dev.offload.core.failover;

import com.google.common.collect.MapMaker;
import com.netflix.concurrency.limits.limit.AbstractLimit;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limit.VegasLimit;
import dev.offload.core.Backend;
import dev.offload.core.Outcome;
import java.util.concurrent.ConcurrentMap;

/**
 * The adaptive concurrency limit condition ({@link Load#adaptiveLimit()}): one Netflix
 * concurrency-limits {@code Limit} per backend, fed with each completion's latency (measured on
 * the router's ticker, so the limit never reads a clock of its own) and the backend's in-flight
 * count. Reading the limit is a volatile read.
 */
final class AdaptiveLimit implements Load {
  enum Algorithm { GRADIENT2, VEGAS }

  private final Algorithm algorithm;
  private final ConcurrentMap<Backend, AbstractLimit> limits =
      new MapMaker().weakKeys().makeMap();

  AdaptiveLimit(Algorithm algorithm) {
    this.algorithm = algorithm;
  }

  @Override
  public boolean exceeded(BackendLoad load, long nowNanos) {
    return load.inFlight() >= limit(load).getLimit();
  }

  @Override
  public String describe() {
    return algorithm == Algorithm.GRADIENT2 ? "adaptiveLimit(gradient2)" : "adaptiveLimit(vegas)";
  }

  /** Returns the current limit of {@code load}, for tests and explanations. */
  int currentLimit(BackendLoad load) {
    return limit(load).getLimit();
  }

  private AbstractLimit limit(BackendLoad load) {
    AbstractLimit limit = limits.get(load.backend());
    if (limit != null) {
      return limit;
    }
    AbstractLimit created = limits.computeIfAbsent(load.backend(), b ->
        algorithm == Algorithm.GRADIENT2 ? Gradient2Limit.newBuilder().build()
            : VegasLimit.newBuilder().build());
    load.observe(this, (completion, now) -> created.onSample(now - completion.latencyNanos(),
        completion.latencyNanos(), (int) Math.min(Integer.MAX_VALUE, load.inFlight() + 1),
        completion.outcome() == Outcome.FAILURE));
    return created;
  }
}
