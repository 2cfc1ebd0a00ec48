package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.MapMaker;
import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.DecisionHandle;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

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
 * no slot and records nothing, so {@code explain} never changes the figures. Thread-safe.
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

  private BackendLoad(Backend backend) {
    this.backend = backend;
    List<URI> uris = backend.instances();
    this.instances = new InstanceLoad[uris.size()];
    for (int i = 0; i < instances.length; i++) {
      instances[i] = new InstanceLoad(uris.get(i));
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
   * @param index the index
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
   * @param uri one of the backend's instances
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
   * @param nowNanos the now nanos
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
