package dev.offload.bench;

import dev.offload.core.async.TaskPool;
import dev.offload.core.async.TaskRequest;
import dev.offload.core.async.TaskResult;
import dev.offload.core.async.TaskSubmission;
import dev.offload.redis.tasks.RedisTaskQueue;
import dev.offload.redis.tasks.RedisTaskStore;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What persisting a task costs the request thread: {@code TaskPool.submit} of a 1 KiB request
 * with the default in-memory queue and store, against the same with {@code RedisTaskStore} and
 * {@code RedisTaskQueue} (snapshot {@code SET}, then the capacity check and {@code XADD} in one
 * script: two round trips, acknowledged before the 202). No worker runs the tasks (they would
 * compete for this 2-core machine's CPU, and an in-memory backlog grows the heap); each
 * iteration submits {@value #BATCH} tasks to a new pool (the score is milliseconds per batch), and
 * the Redis keys under {@code offload-bench} are deleted at the end. Needs a scratch Redis at {@code -Dredis=redis://127.0.0.1:6390}.
 *
 * <p>Run: {@code redis-server --port 6390 --save '' --appendonly no --daemonize yes; java
 * -Dredis=redis://127.0.0.1:6390 -jar offload-bench/target/benchmarks.jar
 * RedisTaskSubmitBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 5, batchSize = RedisTaskSubmitBenchmark.BATCH)
@Measurement(iterations = 10, batchSize = RedisTaskSubmitBenchmark.BATCH)
public class RedisTaskSubmitBenchmark {
  /** Submissions per iteration, each iteration on a new pool: the score is ms per batch. */
  static final int BATCH = 5_000;

  @Param({"memory", "redis"})
  public String where;

  private RedisClient client;
  private RedisTaskStore store;
  private TaskPool pool;
  private TaskRequest request;

  @Setup(Level.Trial)
  public void connect() {
    if (where.equals("redis")) {
      client = RedisClient.create(System.getProperty("redis", "redis://127.0.0.1:6390"));
      store = RedisTaskStore.builder(client).keyPrefix("offload-bench").build();
    }
    request = TaskRequest.builder("POST", "/api/thumbs").header("Content-Type", "image/png")
        .body(new byte[1024]).build();
  }

  @Setup(Level.Iteration)
  public void newPool() {
    TaskPool.Builder builder = TaskPool.builder("bench").queueCapacity(BATCH)
        .executor(work -> {}) // no worker: the tasks stay queued
        .task(r -> TaskResult.of(200, "text/plain", "ok".getBytes(StandardCharsets.US_ASCII)));
    if (where.equals("redis")) {
      builder.store(store).queue(RedisTaskQueue.builder(client, "bench")
          .keyPrefix("offload-bench").build());
    }
    pool = builder.build();
  }

  @TearDown(Level.Iteration)
  public void dropPool() throws InterruptedException {
    pool.shutdown(Duration.ZERO);
    if (client != null) { // the next pool starts with an empty stream
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        c.sync().unlink("offload-bench:queue:bench");
      }
    }
  }

  @TearDown(Level.Trial)
  public void disconnect() {
    if (client != null) {
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        ScanCursor cursor = ScanCursor.INITIAL;
        for (int i = 0; i < 1_000_000 && !cursor.isFinished(); i++) {
          KeyScanCursor<String> keys = c.sync().scan(cursor,
              ScanArgs.Builder.matches("offload-bench:*").limit(1000));
          if (!keys.getKeys().isEmpty()) {
            c.sync().unlink(keys.getKeys().toArray(new String[0]));
          }
          cursor = keys;
        }
      }
      store.close();
      client.shutdown();
    }
  }

  @Benchmark
  public TaskSubmission submit() {
    TaskSubmission submission = pool.submit(request, Optional.empty());
    if (!(submission instanceof TaskSubmission.Accepted)) {
      throw new IllegalStateException("not accepted: " + submission);
    }
    return submission;
  }
}
