package dev.offload.bench;

import dev.offload.core.Backend;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.guard.KeyResolver;
import dev.offload.core.guard.RateLimit;
import dev.offload.core.guard.RateLimitPolicy;
import dev.offload.core.replay.AccessLogReader;
import dev.offload.core.replay.LogEntry;
import dev.offload.core.replay.LogFormat;
import dev.offload.core.replay.ReplayReport;
import dev.offload.core.replay.ServiceTime;
import dev.offload.core.replay.SimulatedBackend;
import dev.offload.core.replay.TrafficReplay;
import dev.offload.core.testing.FakeTicker;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Log lines per second through {@link TrafficReplay}: {@code parse} only reads a Combined log
 * ({@link AccessLogReader}); {@code replay} reads it and replays every line through a router with
 * a rate limit, an edge cache, a CDN redirect and least-loaded forwarding to two instances,
 * against a simulated backend (fresh router and ticker per invocation, as a replay must). The log
 * is {@value #LINES} lines held in memory (a file read adds the disk), 200 requests per second
 * of log time. Multiply the score (lines/s) by 60 for lines per minute.
 *
 * <p>Run: {@code java -jar offload-bench/target/benchmarks.jar ReplayBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ReplayBenchmark {
  static final int LINES = 100_000;

  private String log;

  @Setup
  public void setUp() {
    DateTimeFormatter clf = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);
    ZonedDateTime start = ZonedDateTime.of(2026, 11, 28, 6, 0, 0, 0, ZoneOffset.UTC);
    SplittableRandom random = new SplittableRandom(17);
    StringBuilder out = new StringBuilder(LINES * 130);
    for (int i = 0; i < LINES; i++) {
      int r = random.nextInt(100);
      String target = r < 40 ? "/api/orders/" + random.nextInt(1000)
          : r < 70 ? "/static/" + random.nextInt(50) + ".js"
          : r < 85 ? "/assets/app.css" : "/hello";
      out.append("10.0.").append(random.nextInt(4)).append('.').append(random.nextInt(250))
          .append(" - - [").append(clf.format(start.plusNanos(i * 5_000_000L)))
          .append("] \"GET ").append(target).append(" HTTP/1.1\" 200 512 \"-\" \"bench/1\" 0.0")
          .append(20 + random.nextInt(30)).append('\n');
    }
    log = out.toString();
  }

  /** Reads the log, parsing every line. */
  @Benchmark
  @OperationsPerInvocation(LINES)
  public long parse() throws IOException {
    long sum = 0;
    try (AccessLogReader reader = AccessLogReader.of(log, LogFormat.COMBINED)) {
      for (Optional<LogEntry> e = reader.next(); e.isPresent(); e = reader.next()) {
        sum += e.get().status();
      }
    }
    return sum;
  }

  /** Reads and replays the log through a fresh router. */
  @Benchmark
  @OperationsPerInvocation(LINES)
  public ReplayReport replay() throws IOException {
    FakeTicker ticker = new FakeTicker();
    BackendLoad orders = BackendLoad.of(Backend.builder("orders")
        .instance(URI.create("http://orders-1:8080"))
        .instance(URI.create("http://orders-2:8080"))
        .build());
    OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .guard("rate", RateLimit.builder().key(KeyResolver.clientAddress())
            .limit(RateLimitPolicy.of("per-client", 50, Duration.ofSeconds(1)))
            .appliesTo(Route.prefix("/api/")).ticker(ticker).build())
        .route("assets", Route.get("/assets/**"),
            CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
        .route("static", Route.get("/static/**"),
            CdnStrategy.edgeCache(EdgeCache.builder().ticker(ticker).build()))
        .route("orders", Route.prefix("/api/"), (request, context) -> orders.forward(context))
        .otherwise(OffloadStrategy.passThrough())
        .build();
    TrafficReplay replay = TrafficReplay.builder(router, ticker)
        .backend(SimulatedBackend.of("orders", 2, 8, ServiceTime.fromLog(Duration.ofMillis(40))))
        .responseHeaders(e -> Headers.of("Cache-Control", "max-age=60"))
        .build();
    try (AccessLogReader reader = AccessLogReader.of(log, LogFormat.COMBINED)) {
      return replay.run(reader);
    }
  }
}
