package dev.offload.bench;

import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of {@link OffloadRouter#decide} for a hostile path against a glob that a backtracking
 * matcher takes a power of the path length to answer: two or three {@code **} with literals
 * between them, and many {@code *} within one segment. Each path nearly matches and then misses
 * at its very end, so a matcher has to consider it all.
 *
 * <p>Matching is linear in the path, so the time per operation should grow about tenfold from
 * {@code length=1000} to {@code length=10000} and with no pattern run away from the others (the
 * recursive matcher this replaced took about 54 s of CPU for {@code /**}{@code /a/**}{@code /b.js}
 * at 100,000 segments). The path is normalized when the request is built, in setup, so this
 * measures routing only.
 *
 * <p>Run: {@code java -jar offload-bench/target/benchmarks.jar GlobAttackBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GlobAttackBenchmark {

  /** The route's glob. */
  @Param({"/**/a/**/b.js", "/**/a/**/a/**/b.js", "/**/a/**/img/*.png", "*a*a*a*b"})
  public String pattern;

  /** Path segments (the {@code *a*a*a*b} case: characters of its one long segment). */
  @Param({"1000", "10000"})
  public int length;

  private OffloadRouter router;
  private OffloadRequest request;

  @Setup(Level.Trial)
  public void setUp() {
    router = OffloadRouter.builder()
        .route("glob", Route.get(pattern), OffloadStrategy.reject(404, "never"))
        .build();
    String path = switch (pattern) {
      case "/**/a/**/b.js" -> "/hello" + "/a".repeat(length) + "/xb.js";
      case "/**/a/**/a/**/b.js" -> "/a".repeat(length) + "/xb.js";
      case "/**/a/**/img/*.png" -> "/a".repeat(length) + "/x.png";
      case "*a*a*a*b" -> "/" + "a".repeat(length) + "/b";
      default -> throw new IllegalArgumentException("no hostile path for " + pattern);
    };
    request = OffloadRequest.get(path).build();
    Decision decision = router.decide(request);
    if (!(decision instanceof Decision.PassThrough)) {
      throw new IllegalStateException(pattern + " should miss, decided " + decision);
    }
  }

  @Benchmark
  public Decision decideHostilePath() {
    return router.decide(request);
  }
}
