package dev.offload.bench;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.failover.Load;
import dev.offload.core.failover.Priority;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * What failover adds to {@link OffloadRouter#decide}: one route, forwarding to a backend of two
 * instances, with {@code FailoverStrategy.to(backend)} (least in flight, no health) against the
 * full {@code FailoverStrategy.primary(backend).alternative(replica).when(inFlightAbove(200) or
 * p99Above(250 ms)).readsOnly().shedWhenSaturated(...)} with power-of-two-choices, outlier
 * detection and the circuit breaker. Each operation completes its handle ({@code onSuccess()}),
 * which records the completion into the health figures: a real request pays that too.
 *
 * <p>Run: {@code java -jar offload-bench/target/benchmarks.jar FailoverDecideBenchmark -t 1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(2)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class FailoverDecideBenchmark {
  private OffloadRouter plain;
  private OffloadRouter failover;
  private OffloadRequest get;

  @Setup(Level.Trial)
  public void setUp() {
    Backend orders = Backend.builder("orders").instance(URI.create("http://127.0.0.1:8081"))
        .instance(URI.create("http://127.0.0.1:8082")).build();
    Backend plainOrders = Backend.builder("orders").instance(URI.create("http://127.0.0.1:8081"))
        .instance(URI.create("http://127.0.0.1:8082")).build();
    Backend replica = Backend.of("replica", URI.create("http://127.0.0.1:8083"));
    plain = OffloadRouter.builder()
        .route("orders", Route.prefix("/api/orders"), FailoverStrategy.to(plainOrders)).build();
    failover = OffloadRouter.builder()
        .route("orders", Route.prefix("/api/orders"), FailoverStrategy.primary(orders)
            .alternative(replica)
            .when(Load.inFlightAbove(200).or(Load.p99Above(Duration.ofMillis(250))))
            .readsOnly()
            .shedWhenSaturated(Priority.by(request -> Priority.NORMAL)))
        .build();
    get = OffloadRequest.get("/api/orders/42").build();
  }

  /** {@code FailoverStrategy.to(backend)}: the baseline. */
  @Benchmark
  public Decision to() {
    Decision d = plain.decide(get);
    ((Decision.Holding) d).handle().onSuccess();
    return d;
  }

  /** The full failover strategy, primary healthy. */
  @Benchmark
  public Decision primaryAlternativeWhenReadsOnlyShed() {
    Decision d = failover.decide(get);
    ((Decision.Holding) d).handle().onSuccess();
    return d;
  }
}
