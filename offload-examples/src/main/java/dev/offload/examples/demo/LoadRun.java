package dev.offload.examples.demo;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.Backend;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.LoadSnapshot;
import dev.offload.http.forward.Forwarder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Drives a bounded, fixed traffic mix at a running {@link DemoGateway} on loopback: steady, then
 * three times the rate for the middle third, then steady again. The same {@link Plan} sends the
 * same requests in the same order at the same planned times, so two runs (offloading on and
 * off) can be compared.
 *
 * <p>Bounded: the number of requests is fixed by the plan, at most {@value #MAX_OUTSTANDING} are
 * outstanding at once (the sender waits beyond that), and each has a 20 s timeout. Only the
 * demo's own loopback addresses are contacted.
 */
public final class LoadRun {
  /** Requests outstanding at once, at most. */
  public static final int MAX_OUTSTANDING = 256;

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);
  private static final String PNG = "/dev/offload/examples/demo/static/logo.png";

  private final DemoGateway demo;
  private final Plan plan;
  private final Ticker ticker = Ticker.systemTicker(); // real time: when to send
  private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
  private final LongAdder sent = new LongAdder();
  private final LongAdder answered = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final Map<String, Double> decisionsBefore;
  private final Map<String, Double> cacheBefore;
  private final double retriesBefore;
  private final Map<String, Double> tasksBefore;

  private LoadRun(DemoGateway demo, Plan plan) {
    this.demo = demo;
    this.plan = plan;
    this.decisionsBefore = countsByTag(demo.registry(), "offload.decisions", "decision");
    this.cacheBefore = countsByTag(demo.registry(), "offload.cache.requests", "result");
    this.retriesBefore = retries(demo.registry());
    this.tasksBefore = tasks(demo.registry());
  }

  /**
   * Runs {@code plan} against {@code demo}, calling {@code onSecond} about once a second (on
   * another thread) and once more at the end, and returns what happened.
   *
   * @param demo a running demo gateway
   * @param plan how long and how fast
   * @param onSecond receives a snapshot of the run so far
   * @return the final snapshot, once every request was answered or timed out
   * @throws InterruptedException if interrupted while sending or waiting
   */
  public static Snapshot run(DemoGateway demo, Plan plan, Consumer<Snapshot> onSecond)
      throws InterruptedException {
    requireNonNull(demo, "demo");
    requireNonNull(plan, "plan");
    requireNonNull(onSecond, "onSecond");
    return new LoadRun(demo, plan).run(onSecond);
  }

  private Snapshot run(Consumer<Snapshot> onSecond) throws InterruptedException {
    demo.orders().resetCounts();
    demo.replica().resetCounts();
    List<Step> mix = mix(demo.gatewayUri());
    long[] offsets = plan.offsetsNanos();
    ExecutorService clientThreads = Executors.newFixedThreadPool(4, DemoThreads.named("load"));
    var ticks = Executors.newSingleThreadScheduledExecutor(DemoThreads.named("load-view"));
    HttpClient client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(5))
        .executor(clientThreads)
        .build();
    Semaphore outstanding = new Semaphore(MAX_OUTSTANDING);
    long start = ticker.read();
    AtomicLong elapsed = new AtomicLong();
    ticks.scheduleAtFixedRate(() -> onSecond.accept(snapshot(ticker.read() - start, false)),
        1, 1, TimeUnit.SECONDS);
    try {
      for (int i = 0; i < offsets.length; i++) {
        long wait = start + offsets[i] - ticker.read();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        if (Thread.interrupted()) {
          throw new InterruptedException("load run interrupted");
        }
        outstanding.acquire();
        sent.increment();
        client.sendAsync(mix.get(i % mix.size()).request(), HttpResponse.BodyHandlers.discarding())
            .whenComplete((response, failure) -> {
              if (failure == null) {
                statuses.computeIfAbsent(response.statusCode(), k -> new LongAdder()).increment();
                answered.increment();
              } else {
                failed.increment();
              }
              outstanding.release();
            });
      }
      // every request answered or timed out: the timeouts bound this wait
      outstanding.tryAcquire(MAX_OUTSTANDING, REQUEST_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
      elapsed.set(ticker.read() - start);
    } finally {
      ticks.shutdownNow();
      ticks.awaitTermination(5, TimeUnit.SECONDS);
      clientThreads.shutdownNow();
    }
    Snapshot last = snapshot(elapsed.get(), true);
    onSecond.accept(last);
    return last;
  }

  private Snapshot snapshot(long elapsedNanos, boolean done) {
    Map<String, Long> decisions = delta(
        countsByTag(demo.registry(), "offload.decisions", "decision"), decisionsBefore);
    Map<String, Long> cache = delta(
        countsByTag(demo.registry(), "offload.cache.requests", "result"), cacheBefore);
    Map<Integer, Long> byStatus = new TreeMap<>();
    statuses.forEach((status, n) -> byStatus.put(status, n.sum()));
    long now = demo.options().ticker().read(); // the router's clock, for its load windows
    return new Snapshot(demo.options().offloading(), plan, Duration.ofNanos(elapsedNanos), done,
        sent.sum(), answered.sum(), failed.sum(), byStatus, decisions, cache,
        delta(tasks(demo.registry()), tasksBefore),
        Math.round(retries(demo.registry()) - retriesBefore),
        backend(demo.orders(), demo.ordersBackend(), now),
        backend(demo.replica(), demo.replicaBackend(), now));
  }

  private static BackendStats backend(DemoBackend backend, Backend described, long now) {
    LoadSnapshot load = BackendLoad.of(described).snapshot(now).get(0);
    return new BackendStats(backend.name(), backend.received(), backend.inFlight(),
        backend.peakInFlight(), load.p99());
  }

  /** Tasks submitted ({@code submitted}) and finished, by outcome ({@code succeeded}, ...). */
  private static Map<String, Double> tasks(MeterRegistry registry) {
    Map<String, Double> tasks = countsByTag(registry, "offload.tasks.completed", "outcome");
    tasks.put("submitted", registry.find("offload.tasks.submitted").counters().stream()
        .mapToDouble(Counter::count).sum());
    return tasks;
  }

  private static double retries(MeterRegistry registry) {
    return registry.find(Forwarder.RETRIES_METER).counters().stream()
        .mapToDouble(Counter::count).sum();
  }

  private static Map<String, Double> countsByTag(MeterRegistry registry, String meter,
      String tag) {
    Map<String, Double> counts = new TreeMap<>();
    for (Counter counter : registry.find(meter).counters()) {
      String value = counter.getId().getTag(tag);
      if (value != null) {
        counts.merge(value, counter.count(), Double::sum);
      }
    }
    return counts;
  }

  private static Map<String, Long> delta(Map<String, Double> now, Map<String, Double> before) {
    Map<String, Long> delta = new TreeMap<>();
    now.forEach((k, v) -> {
      long d = Math.round(v - before.getOrDefault(k, 0.0));
      if (d != 0) {
        delta.put(k, d);
      }
    });
    return delta;
  }

  /** The fixed mix, one request per entry, sent round-robin. */
  static List<Step> mix(URI gateway) {
    byte[] png;
    try (InputStream in = LoadRun.class.getResourceAsStream(PNG)) {
      png = requireNonNull(in, PNG).readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String key = DemoGateway.API_KEY;
    byte[] order = "{\"item\":\"book\",\"quantity\":1}".getBytes(StandardCharsets.UTF_8);
    List<Step> mix = new ArrayList<>();
    mix.add(Step.get(gateway, "/assets/app.css", null));
    mix.add(Step.get(gateway, "/static/app.js", null));
    mix.add(Step.get(gateway, "/api/orders/17", key));
    mix.add(Step.get(gateway, "/hello", null));
    mix.add(Step.get(gateway, "/static/logo.png", null));
    mix.add(Step.get(gateway, "/api/orders/42", key));
    mix.add(Step.get(gateway, "/assets/app.css", null));
    mix.add(Step.post(gateway, "/api/orders", key, "application/json", order));
    mix.add(Step.get(gateway, "/static/app.js", null));
    mix.add(Step.get(gateway, "/api/echo?from=load", key));
    mix.add(Step.get(gateway, "/api/orders/7", null));          // no key: 401
    mix.add(Step.get(gateway, "/static/logo.png", null));
    mix.add(Step.post(gateway, "/api/thumbnails", key, "image/png", png));
    mix.add(Step.get(gateway, "/api/orders/9", key));
    mix.add(Step.get(gateway, "/assets/app.css", null));
    mix.add(Step.get(gateway, "/hello", null));
    mix.add(Step.get(gateway, "/api/orders/3", "not-the-key")); // wrong key: 403
    mix.add(Step.get(gateway, "/static/app.js", null));
    mix.add(Step.get(gateway, "/api/orders/11", key));
    mix.add(Step.get(gateway, "/api/orders/5", key));
    return mix;
  }

  /** One request of the mix. */
  record Step(String method, URI uri, String apiKey, String contentType, byte[] body) {
    static Step get(URI gateway, String target, String apiKey) {
      return new Step("GET", gateway.resolve(target), apiKey, null, null);
    }

    static Step post(URI gateway, String target, String apiKey, String type, byte[] body) {
      return new Step("POST", gateway.resolve(target), apiKey, type, body);
    }

    HttpRequest request() {
      HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT);
      if (apiKey != null) {
        b.header(DemoGateway.API_KEY_HEADER, apiKey);
      }
      if (body != null) {
        b.header("Content-Type", contentType);
        b.method(method, HttpRequest.BodyPublishers.ofByteArray(body));
      } else {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      }
      return b.build();
    }
  }

  /**
   * How long and how fast: {@code rate} requests per second for the first third of {@code
   * duration}, three times that for the second, {@code rate} again for the last.
   *
   * @param duration the whole run
   * @param rate requests per second in the steady thirds
   */
  public record Plan(Duration duration, int rate) {
    /** The default run: 18 s at 30 requests per second, 90 in the spike (900 requests). */
    public static final Plan DEFAULT = new Plan(Duration.ofSeconds(18), 30);

    /**
     * Checks the plan.
     *
     * @param duration the whole run
     * @param rate requests per second in the steady thirds
     * @throws IllegalArgumentException if {@code duration} is under 1 s or over 60 s, or
     *     {@code rate} outside 1..1000
     */
    public Plan {
      requireNonNull(duration, "duration");
      if (duration.compareTo(Duration.ofSeconds(1)) < 0
          || duration.compareTo(Duration.ofSeconds(60)) > 0) {
        throw new IllegalArgumentException("duration must be 1..60 s, was " + duration);
      }
      if (rate < 1 || rate > 1000) {
        throw new IllegalArgumentException("rate must be 1..1000 requests/s, was " + rate);
      }
    }

    /**
     * Returns the planned send times, from the start of the run.
     *
     * @return one offset per request, in nanoseconds, ascending
     */
    long[] offsetsNanos() {
      long third = duration.toNanos() / 3;
      List<Long> offsets = new ArrayList<>();
      for (int phase = 0; phase < 3; phase++) {
        int perSecond = phase == 1 ? 3 * rate : rate;
        long count = third * perSecond / 1_000_000_000L;
        for (long i = 0; i < count; i++) {
          offsets.add(phase * third + i * 1_000_000_000L / perSecond);
        }
      }
      return offsets.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Returns how many requests the plan sends.
     *
     * @return the number of requests
     */
    public int requests() {
      return offsetsNanos().length;
    }

    /**
     * Returns the phase at {@code elapsed}.
     *
     * @param elapsed time since the start
     * @return {@code "steady"} or {@code "spike x3"}
     */
    public String phase(Duration elapsed) {
      long third = duration.toNanos() / 3;
      long t = elapsed.toNanos();
      return t >= third && t < 2 * third ? "spike x3" : "steady";
    }
  }

  /**
   * What one backend saw.
   *
   * @param name the backend's name
   * @param received requests it received (counted by the backend itself)
   * @param inFlight requests queued or being served there now
   * @param peakInFlight the most at once during the run
   * @param p99 the 99th-percentile latency the gateway measured over the last 10 s
   */
  public record BackendStats(String name, long received, int inFlight, int peakInFlight,
      Duration p99) {}

  /**
   * The run so far, or at its end.
   *
   * @param offloading whether the demo's route table was on (else everything went to orders)
   * @param plan the plan
   * @param elapsed time since the start
   * @param done whether every request was answered or timed out
   * @param sent requests sent
   * @param answered requests answered (any status)
   * @param failed requests that got no answer (connection failure or timeout)
   * @param statuses answers by status code
   * @param decisions the router's decisions by kind ({@code offload.decisions}, tag {@code
   *     decision}) during the run
   * @param cache the edge cache's answers by result ({@code offload.cache.requests})
   * @param retries forwarded requests sent again on a dead pooled connection ({@code
   *     offload.forward.retries}): a backend may receive such a request twice
   * @param orders what {@code orders} saw
   * @param replica what {@code orders-replica} saw
   */
  public record Snapshot(boolean offloading, Plan plan, Duration elapsed, boolean done,
      long sent, long answered, long failed, Map<Integer, Long> statuses,
      Map<String, Long> decisions, Map<String, Long> cache, Map<String, Long> tasks,
      long retries, BackendStats orders,
      BackendStats replica) {
    /**
     * Copies the maps.
     *
     * @param offloading whether the demo's route table was on
     * @param plan the plan
     * @param elapsed time since the start
     * @param done whether every request was answered or timed out
     * @param sent requests sent
     * @param answered requests answered
     * @param failed requests that got no answer
     * @param statuses answers by status code
     * @param decisions the router's decisions by kind
     * @param cache the edge cache's answers by result
     * @param tasks thumbnail tasks: {@code submitted}, and finished by outcome ({@code
     *     succeeded}, {@code failed}, {@code cancelled})
     * @param retries forwarded requests sent again
     * @param orders what orders saw
     * @param replica what orders-replica saw
     * @throws NullPointerException if a component is null
     */
    public Snapshot {
      requireNonNull(plan, "plan");
      requireNonNull(elapsed, "elapsed");
      statuses = Map.copyOf(statuses);
      decisions = Map.copyOf(decisions);
      cache = Map.copyOf(cache);
      tasks = Map.copyOf(tasks);
      requireNonNull(orders, "orders");
      requireNonNull(replica, "replica");
    }

    /**
     * Returns the decisions of one kind.
     *
     * @param kind {@code redirect}, {@code serve_cached}, {@code pass_through}, {@code forward},
     *     {@code offload} or {@code reject}
     * @return how many, 0 if none
     */
    public long decisions(String kind) {
      return decisions.getOrDefault(kind, 0L);
    }

    /**
     * Returns the tasks accepted into the thumbnail workers' queue.
     *
     * @return how many
     */
    public long tasksQueued() {
      return tasks.getOrDefault("submitted", 0L);
    }

    /**
     * Returns the tasks that reached a final state (succeeded, failed or cancelled).
     *
     * @return how many
     */
    public long tasksDone() {
      return tasks.entrySet().stream().filter(e -> !e.getKey().equals("submitted"))
          .mapToLong(Map.Entry::getValue).sum();
    }

    /**
     * Returns the answers with one status.
     *
     * @param status the status code
     * @return how many, 0 if none
     */
    public long status(int status) {
      return statuses.getOrDefault(status, 0L);
    }

    /**
     * Returns the sum of all decisions: one per request that reached the router.
     *
     * @return the total
     */
    public long decided() {
      return decisions.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Returns the share of requests sent that never reached {@code orders}.
     *
     * @return 0..1, or 0 before anything was sent
     */
    public double offloadRatio() {
      return sent == 0 ? 0 : Math.max(0, sent - orders.received()) / (double) sent;
    }

    /**
     * Returns the share of edge-cache lookups answered from memory ({@code hit} of all results).
     *
     * @return 0..1, or 0 before any lookup
     */
    public double cacheHitRatio() {
      long all = cache.values().stream().mapToLong(Long::longValue).sum();
      return all == 0 ? 0 : cache.getOrDefault("hit", 0L) / (double) all;
    }
  }
}
