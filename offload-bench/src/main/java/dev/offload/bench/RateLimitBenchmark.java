package dev.offload.bench;

import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.guard.RateLimit;
import dev.offload.core.guard.RateLimitPolicy;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one {@link RateLimit} guard adds to {@code decide} for an admitted request: the same
 * router with and without it, on one thread, and on two threads with distinct keys and with one
 * hot key; Bucket4j's own {@code tryConsume} on one bucket as the reference in the same run.
 *
 * <p>The limit is far above what a run can spend, so every request is admitted (with its
 * {@code RateLimit} fields built, as by default). The route answers a plain {@code Reject(410)},
 * which holds no handle, so the difference is the guard: key resolution (the client address as
 * a string), the Caffeine lookup, the Bucket4j consumption and the fields.
 *
 * <p>Run: {@code java -jar offload-bench/target/benchmarks.jar RateLimitBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RateLimitBenchmark {
  /** Bucket4j's highest rate, one token per nanosecond: more than a run can spend. */
  private static final long PLENTY = 1_000_000_000L;

  private OffloadRouter without;
  private OffloadRouter with;
  private Bucket bucket;
  private OffloadRequest hot;
  private final AtomicInteger threadIds = new AtomicInteger();

  /** Each benchmark thread's own client, for the distinct-keys case. */
  @State(Scope.Thread)
  public static class PerThread {
    OffloadRequest own;

    @Setup(Level.Trial)
    public void setUp(RateLimitBenchmark shared) {
      own = OffloadRequest.get("/api/items").clientAddress(
          "198.51.100." + (1 + shared.threadIds.getAndIncrement())).build();
    }
  }

  @Setup(Level.Trial)
  public void setUp() {
    without = OffloadRouter.builder().otherwise(OffloadStrategy.reject(410, "gone")).build();
    with = OffloadRouter.builder()
        .guard("per-client", RateLimit.builder()
            .limit(RateLimitPolicy.of("per-second", PLENTY, Duration.ofSeconds(1)))
            .build())
        .otherwise(OffloadStrategy.reject(410, "gone"))
        .build();
    bucket = Bucket.builder()
        .addLimit(limit -> limit.capacity(PLENTY).refillGreedy(PLENTY, Duration.ofSeconds(1)))
        .build();
    hot = OffloadRequest.get("/api/items").clientAddress("203.0.113.7").build();
  }

  @Benchmark
  public Decision withoutGuard() {
    return without.decide(hot);
  }

  @Benchmark
  public Decision withRateLimit() {
    return with.decide(hot);
  }

  @Benchmark
  public boolean bucket4jTryConsume() {
    return bucket.tryConsume(1);
  }

  @Benchmark
  @Threads(2)
  public Decision withRateLimit2ThreadsDistinctKeys(PerThread thread) {
    return with.decide(thread.own);
  }

  @Benchmark
  @Threads(2)
  public Decision withRateLimit2ThreadsHotKey() {
    return with.decide(hot);
  }

  @Benchmark
  @Threads(2)
  public boolean bucket4jTryConsume2ThreadsHotBucket() {
    return bucket.tryConsume(1);
  }
}
