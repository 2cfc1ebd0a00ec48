package dev.offload.bench;

import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.guard.KeyResolver;
import dev.offload.core.guard.RateLimit;
import dev.offload.core.guard.RateLimitPolicy;
import dev.offload.redis.RedisRateLimits;
import io.lettuce.core.RedisClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
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
 * A rate-limit decision with the buckets in this process and in a local Redis (batched and
 * exact), for one hot key and for many keys, in one run: the README reports the Redis modes as
 * ratios to the in-memory guard. Sample time, so the median (p0.50) is there as well as the mean.
 * Starts its own {@code redis-server} on a free loopback port (it must be installed: {@code
 * apt-get install redis-server}).
 *
 * <p>Run: {@code java -jar offload-bench/target/benchmarks.jar RedisRateLimitBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class RedisRateLimitBenchmark {
  /** Far more than a run can spend: every decision is an admission. */
  private static final long PLENTY = 1_000_000_000L;
  private static final int MANY = 10_000;

  @Param({"in-memory", "batched", "exact"})
  public String buckets;

  @Param({"hot", "many"})
  public String keys;

  private Process redis;
  private RedisClient client;
  private RedisRateLimits shared;
  private OffloadRouter router;
  private OffloadRequest[] requests;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws IOException, InterruptedException {
    RateLimit.Builder limit = RateLimit.builder()
        .name("bench")
        .key(KeyResolver.header("X-Api-Key"))
        .limit(RateLimitPolicy.of("per-second", PLENTY, Duration.ofSeconds(1)));
    if (!buckets.equals("in-memory")) {
      int port = startRedis();
      client = RedisClient.create("redis://127.0.0.1:" + port);
      RedisRateLimits.Builder b = RedisRateLimits.builder(client);
      shared = (buckets.equals("exact") ? b.exact(Duration.ofSeconds(1)) : b).build();
      limit.buckets(shared);
    }
    router = OffloadRouter.builder()
        .guard("bench", limit.build())
        .otherwise(OffloadStrategy.reject(410, "gone"))
        .build();
    requests = new OffloadRequest[keys.equals("hot") ? 1 : MANY];
    for (int i = 0; i < requests.length; i++) {
      requests[i] = OffloadRequest.get("/api/items").header("X-Api-Key", "client-" + i).build();
    }
  }

  private int startRedis() throws IOException, InterruptedException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind",
        "127.0.0.1", "--save", "", "--dir", Files.createTempDirectory("bench-redis").toString())
        .redirectErrorStream(true).start();
    BufferedReader log = new BufferedReader(
        new InputStreamReader(redis.getInputStream(), StandardCharsets.UTF_8));
    for (String line; (line = log.readLine()) != null; ) {
      if (line.contains("Ready to accept connections")) {
        Thread drain = new Thread(() -> {
          try {
            while (log.readLine() != null) {
              // keep the pipe empty
            }
          } catch (IOException ignored) {
            // the server stopped
          }
        });
        drain.setDaemon(true);
        drain.start();
        return port;
      }
    }
    throw new IOException("redis-server did not start (exit " + redis.waitFor() + ")");
  }

  @TearDown(Level.Trial)
  public void tearDown() throws InterruptedException {
    if (shared != null) {
      shared.close();
      client.shutdown();
      redis.destroy();
      redis.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Benchmark
  public Decision decide() {
    OffloadRequest r = requests[next];
    next = next + 1 == requests.length ? 0 : next + 1;
    return router.decide(r);
  }
}
