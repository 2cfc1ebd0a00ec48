package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.MapMaker;
import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.DecisionHandle;
import dev.offload.core.Completion;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The measured load of a {@link Backend}, per instance: the state that failover, balancing and
 * shedding decide by. There is one per {@code Backend} object (identity), created on first use
 * and kept as long as the backend is, so every route and strategy that names the same backend
 * sees the same figures; a {@code Backend} itself stays a plain description.
 *
 * <pre>{@code
 * // in a strategy: balance over the instances, taking an in-flight slot
 * FailoverStrategy strategy = (request, context) -> BackendLoad.of(orders).forward(context);
 * // anywhere: read it
 * LoadSnapshot a = BackendLoad.of(orders).instance(0).snapshot(ticker.read());
 * }</pre>
 *
 * <p>{@link #forward(DecisionContext)} follows the explain contract: while {@code
 * context.explaining()} it notes each instance's load and returns a decision whose handle holds
 * no slot and records nothing, so {@code explain} never changes the figures.
 *
 * <p>It also keeps the backend's health, fed by the same completions: passive outlier detection
 * per instance ({@link #outlierDetection(OutlierDetection)}, Envoy's defaults unless set) and one
 * circuit breaker for the backend ({@link #circuitBreaker(CircuitBreakerConfig)}, defaults unless
 * set). Both are configured once per backend, at startup, and read by {@link
 * FailoverStrategy#primary(Backend)}; {@link FailoverStrategy#to(Backend)} ignores them.
 * Thread-safe.
 */
public final class BackendLoad {
  /** How far back completions count in a {@link LoadSnapshot}: 10 seconds. */
  public static final Duration WINDOW = Duration.ofSeconds(10);
  /** The window moves in steps of {@code WINDOW / WINDOW_SLOTS}: one second. */
  static final int WINDOW_SLOTS = 10;

  private static final ConcurrentMap<Backend, BackendLoad> LOADS =
      new MapMaker().weakKeys().makeMap();

  private final Backend backend;
  private final InstanceLoad[] instances;
  private final AtomicInteger next = new AtomicInteger();
  private final CircuitBreaker breaker = new CircuitBreaker();
  private final LongAdder ejections = new LongAdder();
  private final List<Observer> observers = new CopyOnWriteArrayList<>();
  private final Set<Object> observedBy = ConcurrentHashMap.newKeySet();

  /** Told of every completion measured on this backend (not dropped work). */
  interface Observer {
    void completed(Completion completion, long nowNanos);
  }
  private final Set<MeterRegistry> boundTo = ConcurrentHashMap.newKeySet();
  private volatile OutlierDetection outlierDetection = OutlierDetection.ofDefaults();
  private volatile CircuitBreakerConfig circuitBreaker = CircuitBreakerConfig.ofDefaults();

  private BackendLoad(Backend backend) {
    this.backend = backend;
    List<URI> uris = backend.instances();
    this.instances = new InstanceLoad[uris.size()];
    for (int i = 0; i < instances.length; i++) {
      instances[i] = new InstanceLoad(this, i, uris.get(i));
    }
  }

  /**
   * Sets how this backend's instances are ejected (once, at startup).
   *
   * @param config the outlier detection, or {@link OutlierDetection#disabled()}
   * @return this
   */
  public BackendLoad outlierDetection(OutlierDetection config) {
    this.outlierDetection = requireNonNull(config, "config");
    return this;
  }

  /**
   * Sets when this backend's circuit opens and closes (once, at startup).
   *
   * @param config the breaker, or {@link CircuitBreakerConfig#disabled()}
   * @return this
   */
  public BackendLoad circuitBreaker(CircuitBreakerConfig config) {
    this.circuitBreaker = requireNonNull(config, "config");
    return this;
  }

  /**
   * Returns the circuit's state at {@code nowNanos} (an open circuit whose time is up reads as
   * half-open).
   *
   * @param nowNanos now, on the router's ticker
   * @return the state
   */
  public CircuitState circuitState(long nowNanos) {
    return breaker.state(circuitBreaker, nowNanos);
  }

  /**
   * Returns how many ejections outlier detection has made on this backend.
   *
   * @return the count
   */
  public long ejections() {
    return ejections.sum();
  }

  /**
   * Returns the largest p99 latency estimate of the instances not ejected, 0 when none has a
   * recent completion.
   *
   * @param nowNanos now, on the router's ticker
   * @return nanoseconds
   */
  public long p99EstimateNanos(long nowNanos) {
    long max = 0;
    for (InstanceLoad instance : instances) {
      if (!instance.ejected(nowNanos)) {
        max = Math.max(max, instance.p99EstimateNanos(nowNanos));
      }
    }
    return max;
  }

  /**
   * Returns the share of the backend's completions within the window that failed.
   *
   * @param nowNanos now, on the router's ticker
   * @return 0..1, 0 when nothing completed
   */
  public double errorRate(long nowNanos) {
    long requests = 0;
    long failures = 0;
    for (InstanceLoad instance : instances) {
      requests += instance.recentRequests(nowNanos);
      failures += instance.failures(nowNanos);
    }
    return requests == 0 ? 0 : (double) failures / requests;
  }

  /**
   * Returns how many instances are ejected at {@code nowNanos}.
   *
   * @param nowNanos now, on the router's ticker
   * @return the count
   */
  public int ejectedCount(long nowNanos) {
    int count = 0;
    for (InstanceLoad instance : instances) {
      if (instance.ejected(nowNanos)) {
        count++;
      }
    }
    return count;
  }

  InstanceLoad[] instanceArray() {
    return instances;
  }

  /** Whether a request may go to the backend; takes a half-open probe unless explaining. */
  boolean allow(long nowNanos, boolean explaining) {
    return breaker.allow(circuitBreaker, nowNanos, explaining);
  }

  /** Adds {@code observer} once per {@code owner}. */
  void observe(Object owner, Observer observer) {
    if (observedBy.add(owner)) {
      observers.add(observer);
    }
  }

  /** Registers the backend meters on {@code registry}, once per registry. */
  void bindMetrics(MeterRegistry registry) {
    if (!boundTo.add(registry)) {
      return;
    }
    Gauge.builder("offload.backend.inflight", this, BackendLoad::inFlight)
        .description("Requests forwarded to the backend and not completed yet")
        .tag("backend", backend.name())
        .register(registry);
    FunctionCounter.builder("offload.backend.ejections", this, load -> load.ejections())
        .description("Instances ejected by passive outlier detection")
        .tag("backend", backend.name())
        .register(registry);
    Timer latency = Timer.builder("offload.backend.latency")
        .description("Latency of the requests forwarded to the backend, on the router's ticker")
        .tag("backend", backend.name())
        .register(registry);
    observers.add((completion, now) ->
        latency.record(completion.latencyNanos(), TimeUnit.NANOSECONDS));
  }

  /** Called by an instance for dropped work: a half-open probe that says nothing is given back. */
  void dropped() {
    breaker.release();
  }

  /** Called by an instance for each completion it measured (not for dropped work). */
  void completed(InstanceLoad instance, Completion completion, boolean failed, long nowNanos) {
    OutlierDetection od = outlierDetection;
    if (od.enabled) {
      detectOutlier(od, instance, completion, failed, nowNanos);
    }
    CircuitBreakerConfig cb = circuitBreaker;
    if (cb.enabled) {
      // a 503 is the backend shedding load, not a broken backend: it counts in the error rate and
      // outlier detection, but never opens the circuit itself (under overload an open circuit
      // would turn the backend's spare capacity into 503s for the whole open duration)
      boolean breakerFailure = failed && completion.status() != 503;
      long requests = 0;
      long failures = 0;
      if (breakerFailure) {
        for (InstanceLoad each : instances) {
          requests += each.recentRequests(nowNanos);
          failures += each.failures(nowNanos);
        }
      }
      CircuitState moved = breaker.record(cb, breakerFailure, requests, failures, nowNanos);
      if (moved == CircuitState.CLOSED || moved == CircuitState.OPEN) {
        for (InstanceLoad each : instances) {
          each.clearCounts(); // a fresh window for the next verdict
        }
      }
    }
    for (Observer observer : observers) {
      observer.completed(completion, nowNanos);
    }
  }

  private void detectOutlier(OutlierDetection od, InstanceLoad instance, Completion completion,
      boolean failed, long nowNanos) {
    int in5xx = failed ? instance.consecutive5xx.incrementAndGet() : 0;
    boolean gateway = InstanceLoad.gatewayFailure(completion);
    int inGateway = gateway ? instance.consecutiveGatewayFailures.incrementAndGet() : 0;
    if (!failed) {
      instance.consecutive5xx.set(0);
    }
    if (!gateway) {
      instance.consecutiveGatewayFailures.set(0);
    }
    boolean eject = in5xx >= od.consecutive5xx || inGateway >= od.consecutiveGatewayFailures;
    if (!eject && failed) {
      long requests = instance.recentRequests(nowNanos);
      eject = requests >= od.failurePercentageMinimumRequests
          && instance.failures(nowNanos) * 100 >= od.failurePercentage * requests;
    }
    if (eject && !instance.ejected(nowNanos)) {
      synchronized (this) { // ejections are rare; the share check and the ejection go together
        int allowed = Math.max(1, instances.length * od.maxEjectionPercent / 100);
        if (!instance.ejected(nowNanos) && ejectedCount(nowNanos) < allowed) {
          int times = instance.timesEjected + 1;
          instance.timesEjected = times;
          instance.ejectedUntilNanos = nowNanos + od.ejectionNanos(times);
          instance.clearCounts();
          ejections.increment();
        }
      }
    }
  }

  /**
   * Returns the load state of {@code backend}, the same object for the same backend.
   *
   * @param backend the backend
   * @return the load state of {@code backend}, the same object for the same backend
   */
  public static BackendLoad of(Backend backend) {
    requireNonNull(backend, "backend");
    BackendLoad load = LOADS.get(backend);
    return load != null ? load : LOADS.computeIfAbsent(backend, BackendLoad::new);
  }

  /**
   * Returns the backend.
   *
   * @return the backend
   */
  public Backend backend() {
    return backend;
  }

  /**
   * Returns each instance's load, in the backend's order.
   *
   * @return each instance's load, in the backend's order
   */
  public List<InstanceLoad> instances() {
    return List.of(instances);
  }

  /**
   * Returns the load of the instance at {@code index} in {@link Backend#instances()}.
   *
   * @param index its position in the backend's instances, from 0
   * @return the load of the instance at {@code index} in {@link Backend#instances()}
   * @throws IndexOutOfBoundsException naming the backend if there is no such instance
   */
  public InstanceLoad instance(int index) {
    if (index < 0 || index >= instances.length) {
      throw new IndexOutOfBoundsException("backend " + backend.name() + " has "
          + instances.length + " instance(s), no index " + index);
    }
    return instances[index];
  }

  /**
   * Returns the load of {@code uri}.
   *
   * @param uri the instance's base URI
   * @return the load of {@code uri}
   * @throws IllegalArgumentException if it is not one of the backend's instances
   */
  public InstanceLoad instance(URI uri) {
    requireNonNull(uri, "uri");
    for (InstanceLoad instance : instances) {
      if (instance.uri().equals(uri)) {
        return instance;
      }
    }
    throw new IllegalArgumentException(
        uri + " is not an instance of backend " + backend.name() + " " + backend.instances());
  }

  /**
   * Returns the requests in flight on all instances.
   *
   * @return the requests in flight on all instances
   */
  public long inFlight() {
    long sum = 0;
    for (InstanceLoad instance : instances) {
      sum += instance.inFlight();
    }
    return sum;
  }

  /**
   * Returns every instance's load now, {@code nowNanos} from the router's ticker.
   *
   * @param nowNanos now, on the router's ticker
   * @return every instance's load now, {@code nowNanos} from the router's ticker
   */
  public List<LoadSnapshot> snapshot(long nowNanos) {
    List<LoadSnapshot> snapshots = new ArrayList<>(instances.length);
    for (InstanceLoad instance : instances) {
      snapshots.add(instance.snapshot(nowNanos));
    }
    return snapshots;
  }

  /**
   * Decides to forward to the least-loaded instance (fewest in flight; ties go round-robin) and
   * takes its in-flight slot. While explaining, notes each instance's in-flight count and takes
   * nothing.
   *
   * @param context the decision context
   * @return the forward decision
   */
  public Decision.Forward forward(DecisionContext context) {
    requireNonNull(context, "context");
    int start = instances.length == 1 ? 0
        : Math.floorMod(context.explaining() ? next.get() : next.getAndIncrement(),
            instances.length);
    InstanceLoad best = instances[start];
    long bestInFlight = best.inFlight();
    for (int i = 1; i < instances.length && bestInFlight > 0; i++) {
      InstanceLoad candidate = instances[(start + i) % instances.length];
      long inFlight = candidate.inFlight();
      if (inFlight < bestInFlight) {
        best = candidate;
        bestInFlight = inFlight;
      }
    }
    return forward(best, context);
  }

  /**
   * Decides to forward to {@code instance} and takes its in-flight slot (nothing while
   * explaining).
   *
   * @param instance the instance
   * @param context the decision context
   * @return the forward decision
   * @throws IllegalArgumentException if it is not one of the backend's instances
   */
  public Decision.Forward forward(URI instance, DecisionContext context) {
    requireNonNull(context, "context");
    return forward(instance(instance), context);
  }

  /** Forwards to {@code instance}, taking its slot unless explaining. */
  Decision.Forward forwardTo(InstanceLoad instance, DecisionContext context) {
    return forward(instance, context);
  }

  private Decision.Forward forward(InstanceLoad instance, DecisionContext context) {
    if (context.explaining()) {
      for (InstanceLoad each : instances) {
        context.note(backend.name() + "[" + each.uri() + "].inFlight", each.inFlight());
      }
      return new Decision.Forward(backend, instance.uri(), DecisionHandle.create(context.ticker()));
    }
    return new Decision.Forward(backend, instance.uri(), instance.acquire(context.ticker()));
  }

  @Override
  public String toString() {
    return "BackendLoad(" + backend.name() + ", inFlight=" + inFlight() + ")";
  }
}
