package dev.offload.redis;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** {@code offload.redis.commands}: a timer per operation and outcome ({@code ok}, {@code error}). */
final class RedisMetrics {
  private final MeterRegistry registry;

  RedisMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Records one command of {@code operation} that started at {@code startedNanos} (System). */
  void command(String operation, String outcome, long startedNanos) {
    if (registry != null) {
      Timer.builder("offload.redis.commands")
          .description("Redis commands by operation and outcome")
          .tag("operation", operation).tag("outcome", outcome)
          .register(registry)
          .record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
    }
  }
}
