package dev.offload.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The router's meters. Created lazily, one per (route, decision kind) that actually occurs, and
 * kept in arrays so that recording a decision is an array read and a striped increment.
 */
final class RouterMetrics {
  static final String DECISIONS = "offload.decisions";
  static final String DECIDE_DURATION = "offload.decide.duration";
  static final String STRATEGY_ERRORS = "offload.strategy.errors";

  private static final Decision.Kind[] KINDS = Decision.Kind.values();

  private final MeterRegistry registry;
  private final String[] slotNames;
  private final AtomicReferenceArray<Counter> counters;
  private final AtomicReferenceArray<Timer> timers;

  RouterMetrics(MeterRegistry registry, String[] slotNames, boolean timeDecisions) {
    this.registry = registry;
    this.slotNames = slotNames;
    this.counters = new AtomicReferenceArray<>(slotNames.length * KINDS.length);
    this.timers = timeDecisions ? new AtomicReferenceArray<>(slotNames.length) : null;
  }

  boolean timesDecisions() {
    return timers != null;
  }

  void record(int slot, Decision.Kind kind, long elapsedNanos) {
    int i = slot * KINDS.length + kind.ordinal();
    Counter counter = counters.get(i);
    if (counter == null) {
      counter =
          Counter.builder(DECISIONS)
              .description("Routing decisions, by route and kind of decision")
              .baseUnit("decisions")
              .tag("route", slotNames[slot])
              .tag("decision", kind.tag())
              .register(registry);
      counters.set(i, counter);
    }
    counter.increment();
    if (timers != null) {
      Timer timer = timers.get(slot);
      if (timer == null) {
        timer =
            Timer.builder(DECIDE_DURATION)
                .description("Time spent in OffloadRouter.decide")
                .tag("route", slotNames[slot])
                .register(registry);
        timers.set(slot, timer);
      }
      timer.record(elapsedNanos, TimeUnit.NANOSECONDS);
    }
  }

  void strategyError(String name, Throwable error) {
    Counter.builder(STRATEGY_ERRORS)
        .description("Strategies and guards that threw or returned null; answered with 500")
        .baseUnit("errors")
        .tag("route", name)
        .tag("exception", error.getClass().getSimpleName())
        .register(registry)
        .increment();
  }
}
