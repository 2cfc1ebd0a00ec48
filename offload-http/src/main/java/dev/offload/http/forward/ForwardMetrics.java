package dev.offload.http.forward;

import dev.offload.core.Backend;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The forwarding meters. Durations come from the decision's completion record, measured on the
 * router's ticker, so there is one clock. Thread-safe.
 */
final class ForwardMetrics {
  private final MeterRegistry registry;
  private final Map<String, AtomicInteger> active = new ConcurrentHashMap<>();

  ForwardMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Counts a forward in progress; returns the counter to decrement when it ends. */
  AtomicInteger started(Backend backend) {
    AtomicInteger count = active.get(backend.name());
    if (count == null) {
      count = active.computeIfAbsent(backend.name(), name -> {
        AtomicInteger c = new AtomicInteger();
        Gauge.builder(Forwarder.ACTIVE_METER, c, AtomicInteger::get)
            .description("Requests being forwarded to a backend")
            .baseUnit("requests")
            .tag("backend", name)
            .strongReference(true)
            .register(registry);
        return c;
      });
    }
    count.incrementAndGet();
    return count;
  }

  void ended(Backend backend, AtomicInteger activeCount, ForwardOutcome outcome,
      long latencyNanos) {
    activeCount.decrementAndGet();
    Timer.builder(Forwarder.REQUESTS_METER)
        .description("Requests forwarded to backends, by backend, status sent and outcome")
        .tag("backend", backend.name())
        .tag("status", outcome.status() < 0 ? "none" : Integer.toString(outcome.status()))
        .tag("outcome", outcome.tag())
        .register(registry)
        .record(latencyNanos, TimeUnit.NANOSECONDS);
  }

  void retried(Backend backend) {
    Counter.builder(Forwarder.RETRIES_METER)
        .description("Requests sent to a backend again under the retry policy")
        .baseUnit("requests")
        .tag("backend", backend.name())
        .register(registry)
        .increment();
  }
}
