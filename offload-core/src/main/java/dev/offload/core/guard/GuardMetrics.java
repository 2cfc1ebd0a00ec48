package dev.offload.core.guard;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/** The meters guards share: {@code offload.guard.decisions}. */
final class GuardMetrics {
  private GuardMetrics() {}

  static Counter decisions(MeterRegistry registry, String guard, String result) {
    return Counter.builder("offload.guard.decisions")
        .description("requests a guard checked, by result")
        .baseUnit("requests")
        .tag("guard", guard)
        .tag("result", result)
        .register(registry);
  }
}
