package dev.offload.bench.overload;

import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.failover.Load;
import dev.offload.core.failover.Priority;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.jdk.OffloadHttpHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * The overload experiment of issue 9, open loop, on loopback: a primary and an alternative
 * backend of the same capacity C ({@link #WORKERS} workers, {@link #SERVICE} each), the real
 * gateway (JDK {@code HttpServer} + {@code OffloadHttpHandler}) in front, and requests sent at
 * their intended times (0.5, 1, 2 and 4 x C) whatever the answers do, their latency measured
 * from that time (no coordinated omission) into HdrHistogram. Three arms, interleaved per load,
 * each on fresh backends and a fresh gateway: (a) everything to the primary, (b) {@code
 * FailoverStrategy} to the alternative when the primary is saturated, (c) (b) with priority
 * shedding, half the requests marked low priority. Then the switch time: (b) at 0.5 x C, the
 * primary killed, the time to the first request the alternative served.
 *
 * <p>{@code java -cp offload-bench/target/benchmarks.jar
 * dev.offload.bench.overload.OverloadExperiment [measuredSeconds]}
 */
public final class OverloadExperiment {
  static final int WORKERS = 4;
  static final Duration SERVICE = Duration.ofMillis(20);
  static final int BACKEND_QUEUE = 64;
  static final double[] MULTIPLES = {0.5, 1, 2, 4};
  static final String PRIORITY = "X-Priority";

  /** The two backends of one run, as the router names them. */
  record Targets(Backend primary, Backend alternative) {}

  /** One arm: its name and how it builds the router. */
  record Arm(String name, Function<Targets, OffloadRouter> router) {}

  static final List<Arm> ARMS = List.of(
      new Arm("a: all to primary", t -> router(FailoverStrategy.to(t.primary()))),
      new Arm("b: FailoverStrategy", t -> router(failover(t))),
      new Arm("c: b + shedding", t -> router(failover(t).shedWhenSaturated(Priority.by(
          request -> request.header(PRIORITY).map("low"::equals).orElse(false)
              ? Priority.LOWEST : Priority.HIGHEST)))));

  private OverloadExperiment() {}

  /** The failover of arms (b) and (c): to the alternative while the primary's workers are full. */
  static dev.offload.core.failover.Failover failover(Targets t) {
    return FailoverStrategy.primary(t.primary()).alternative(t.alternative())
        .when(Load.inFlightAbove(WORKERS));
  }

  static OffloadRouter router(dev.offload.core.OffloadStrategy strategy) {
    return OffloadRouter.builder().route("api", Route.prefix("/api/"), strategy).build();
  }

  /**
   * Runs the experiment and prints the table and the summary line.
   *
   * @param args {@code [measuredSeconds]} (default 5)
   * @throws Exception if a server cannot start
   */
  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    // small answers in two writes: without TCP_NODELAY the JDK server waits for delayed ACKs
    System.setProperty("sun.net.httpserver.nodelay", "true");
    // the gateway logs backend failures (throttled); the table is the output here
    java.util.logging.LogManager.getLogManager().reset();
    double capacity = WORKERS * 1e9 / SERVICE.toNanos();
    System.out.printf(Locale.ROOT, "backends: %d workers x %d ms = C = %.0f req/s each;"
        + " warm-up 2 s, measured %d s per run%n", WORKERS, SERVICE.toMillis(), capacity, seconds);
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2))
        .executor(Executors.newFixedThreadPool(4)).build();
    List<RunResult> results = new ArrayList<>();
    RunResult unloaded = null;
    for (double multiple : MULTIPLES) {
      for (Arm arm : ARMS) {
        Schedule schedule = new Schedule(multiple * capacity, Duration.ofSeconds(2),
            Duration.ofSeconds(seconds));
        RunResult r = run(client, arm, multiple, schedule);
        results.add(r);
        System.out.println(r.row());
        if (multiple == MULTIPLES[0] && arm == ARMS.get(0)) {
          unloaded = r;
        }
      }
    }
    System.out.println();
    System.out.println(RunResult.header());
    results.forEach(r -> System.out.println(r.row()));
    double switchMs = switchTime(client, capacity);
    System.out.printf(Locale.ROOT, "%nfrom the primary's kill to the first request the alternative"
        + " served: %.0f ms%n", switchMs);
    RunResult a2 = find(results, "a", 2);
    RunResult b2 = find(results, "b", 2);
    RunResult c4 = find(results, "c", 4);
    System.out.printf(Locale.ROOT, "goodput_b_vs_a_at_2x=%.2f p99_b_at_2x_vs_unloaded=%.2f"
        + " goodput_c_at_4x_vs_total_capacity=%.2f shed_p99_ms_c_at_4x=%s switch_ms=%.0f%n",
        b2.goodput() / a2.goodput(), b2.okP99() / unloaded.okP99(),
        c4.goodput() / (2 * capacity), RunResult.ms(c4.shedP99()), switchMs);
    System.exit(0); // the client's selector thread is not a daemon
  }

  private static RunResult find(List<RunResult> results, String arm, double multiple) {
    return results.stream().filter(r -> r.arm().startsWith(arm) && r.multiple() == multiple)
        .findFirst().orElseThrow();
  }

  /** One arm at one load, on fresh backends and a fresh gateway. */
  static RunResult run(HttpClient client, Arm arm, double multiple, Schedule schedule)
      throws Exception {
    try (CapacityBackend primary = new CapacityBackend("primary", WORKERS, SERVICE, BACKEND_QUEUE);
        CapacityBackend alternative =
            new CapacityBackend("alternative", WORKERS, SERVICE, BACKEND_QUEUE);
        Gateway gateway = new Gateway(arm.router().apply(targets(primary, alternative)))) {
      Tally tally = new Tally();
      send(client, gateway.uri(), schedule, tally, null);
      return tally.result(arm.name(), multiple, schedule);
    }
  }

  static Targets targets(CapacityBackend primary, CapacityBackend alternative) {
    return new Targets(
        Backend.builder("primary").instance(primary.uri()).readTimeout(Duration.ofSeconds(5))
            .build(),
        Backend.builder("alternative").instance(alternative.uri())
            .readTimeout(Duration.ofSeconds(5)).build());
  }

  /**
   * Sends the schedule open loop: request {@code i} at {@code start + offset(i)}, never waiting
   * for answers; then waits for the answers (at most the client timeout).
   */
  static void send(HttpClient client, URI gateway, Schedule schedule, Tally tally,
      Observer observer) throws InterruptedException {
    long count = schedule.count();
    List<CompletableFuture<?>> pending = new ArrayList<>();
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    for (long i = 0; i < count; i++) {
      long intended = start + schedule.offsetNanos(i);
      for (long wait = intended - System.nanoTime(); wait > 0;
          wait = intended - System.nanoTime()) {
        LockSupport.parkNanos(wait);
      }
      boolean counted = schedule.counted(i);
      if (counted) {
        tally.sent(System.nanoTime() - intended);
      }
      HttpRequest request = HttpRequest.newBuilder(gateway.resolve("/api/work/" + i))
          .timeout(Duration.ofSeconds(10))
          .header(PRIORITY, i % 2 == 0 ? "low" : "high").build();
      pending.add(client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
          .whenComplete((response, error) -> {
            long now = System.nanoTime();
            if (observer != null && response != null) {
              observer.answered(intended, now, response);
            }
            if (!counted) {
              return;
            }
            if (response != null) {
              tally.answered(response.statusCode(), now - intended);
            } else if (error instanceof HttpTimeoutException
                || error.getCause() instanceof HttpTimeoutException) {
              tally.timedOut();
            } else {
              tally.failed();
            }
          }));
    }
    try {
      CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
          .get(15, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      // counted per request above; a request still open after this is reported as lost
    }
  }

  /** Sees every answer with its intended send time (for the switch-time measurement). */
  interface Observer {
    void answered(long intendedNanos, long answeredNanos, HttpResponse<?> response);
  }

  /**
   * (b) at 0.5 x C; after 2 s the primary is killed: returns the milliseconds from the kill to
   * the first answer the alternative served to a request sent after the kill.
   */
  static double switchTime(HttpClient client, double capacity) throws Exception {
    try (CapacityBackend primary = new CapacityBackend("primary", WORKERS, SERVICE, BACKEND_QUEUE);
        CapacityBackend alternative =
            new CapacityBackend("alternative", WORKERS, SERVICE, BACKEND_QUEUE);
        Gateway gateway = new Gateway(ARMS.get(1).router().apply(targets(primary, alternative)))) {
      AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
      AtomicLong firstServed = new AtomicLong(Long.MAX_VALUE);
      ExecutorService killer = Executors.newSingleThreadExecutor();
      killer.submit(() -> {
        LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
        killedAt.set(System.nanoTime());
        primary.kill();
      });
      Schedule schedule = new Schedule(0.5 * capacity, Duration.ZERO, Duration.ofSeconds(4));
      send(client, gateway.uri(), schedule, new Tally(), (intended, answered, response) -> {
        if (intended >= killedAt.get() && response.statusCode() == 200
            && response.headers().firstValue(CapacityBackend.SERVED_BY)
                .filter("alternative"::equals).isPresent()) {
          firstServed.accumulateAndGet(answered, Math::min);
        }
      });
      killer.shutdown();
      return firstServed.get() == Long.MAX_VALUE ? Double.NaN
          : (firstServed.get() - killedAt.get()) / 1e6;
    }
  }

  /** The gateway under test: a JDK {@code HttpServer} with offload in front of a 404 host. */
  static final class Gateway implements AutoCloseable {
    private final HttpServer server;
    private final OffloadExecutor executor;
    private final ExecutorService threads = Executors.newFixedThreadPool(512);

    Gateway(OffloadRouter router) throws IOException {
      this.executor = OffloadExecutor.of(router);
      this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
      server.setExecutor(threads);
      server.createContext("/", OffloadHttpHandler.wrap(executor, exchange -> {
        exchange.sendResponseHeaders(404, -1);
        exchange.close();
      }));
      server.start();
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void close() {
      server.stop(0);
      threads.shutdownNow();
      executor.close();
    }
  }
}
