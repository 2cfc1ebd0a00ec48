package dev.offload.core.async;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The meters of one {@link TaskPool}, all tagged {@code pool}: {@code offload.tasks.submitted},
 * {@code offload.tasks.rejected} ({@code reason}: full, invalid, shutdown), {@code
 * offload.tasks.completed} and {@code offload.tasks.duration} ({@code outcome}: succeeded,
 * failed, cancelled), {@code offload.tasks.queue.depth}. Without a registry, nothing.
 */
final class TaskMetrics {
  private final Counter submitted;
  private final Map<TaskState, Counter> completed = new EnumMap<>(TaskState.class);
  private final Map<TaskState, Timer> durations = new EnumMap<>(TaskState.class);
  private final MeterRegistry registry;
  private final String pool;

  TaskMetrics(MeterRegistry registry, String pool, Supplier<Number> depth) {
    this.registry = registry;
    this.pool = pool;
    if (registry == null) {
      submitted = null;
      return;
    }
    submitted = Counter.builder("offload.tasks.submitted")
        .description("Tasks accepted into the pool's queue").tag("pool", pool).register(registry);
    Gauge.builder("offload.tasks.queue.depth", depth)
        .description("Tasks waiting for a worker").tag("pool", pool).register(registry);
    for (TaskState state : TaskState.values()) {
      if (state.isFinal()) {
        completed.put(state, Counter.builder("offload.tasks.completed")
            .description("Tasks that reached a final state").tag("pool", pool)
            .tag("outcome", state.tag()).register(registry));
        durations.put(state, Timer.builder("offload.tasks.duration")
            .description("Time a task ran on a worker").tag("pool", pool)
            .tag("outcome", state.tag()).register(registry));
      }
    }
  }

  void submitted() {
    if (submitted != null) {
      submitted.increment();
    }
  }

  void rejected(String reason) {
    if (registry != null) {
      Counter.builder("offload.tasks.rejected").description("Submissions the pool refused")
          .tag("pool", pool).tag("reason", reason).register(registry).increment();
    }
  }

  void completed(TaskState outcome, long runNanos) {
    if (registry != null) {
      completed.get(outcome).increment();
      if (runNanos >= 0) {
        durations.get(outcome).record(runNanos, TimeUnit.NANOSECONDS);
      }
    }
  }
}
