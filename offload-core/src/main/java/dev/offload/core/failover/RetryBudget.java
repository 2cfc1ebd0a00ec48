package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import com.google.common.collect.MapMaker;
import dev.offload.core.Backend;
import dev.offload.core.Completion;
import dev.offload.core.FailureKind;
import dev.offload.core.Outcome;
import dev.offload.core.failover.internal.CountWindow;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.util.concurrent.ConcurrentMap;

/**
 * Caps retries so that they cannot multiply the load on a backend in an outage: within {@link
 * BackendLoad#WINDOW}, the retries to a backend may be at most {@code ratio} of the completions
 * the backend recorded in that window (the requests it served or failed), or {@code
 * minRetriesPerSecond} per second of the window, whichever is more. With the default 20 %, during
 * an outage the backend sees at most 1.2 times the requests offered, plus the small minimum.
 *
 * <pre>{@code
 * RetryBudget budget = RetryBudget.builder(ticker).ratio(0.2).minRetriesPerSecond(3).build();
 * Forwarder.builder().retryPolicy(RetryPolicy.budgeted(budget))
 * }</pre>
 *
 * <p>It also picks where a retry goes ({@link #retryTarget}): another instance of the backend,
 * not ejected, with the fewest requests in flight. Share one per router (it keeps one count per
 * backend it saw). Thread-safe; time from the injected ticker.
 */
public final class RetryBudget {
  /** Default share of the backend's completions that may be retries: 0.2. */
  public static final double DEFAULT_RATIO = 0.2;
  /** Default retries per second allowed whatever the traffic: 3. */
  public static final int DEFAULT_MIN_RETRIES_PER_SECOND = 3;

  private final Ticker ticker;
  private final double ratio;
  private final long minRetries;
  private final ConcurrentMap<Backend, CountWindow> retries = new MapMaker().weakKeys().makeMap();
  private final Counter allowed;
  private final Counter exhausted;

  private RetryBudget(Builder b) {
    this.ticker = b.ticker;
    this.ratio = b.ratio;
    this.minRetries = (long) b.minRetriesPerSecond * BackendLoad.WINDOW.toSeconds();
    if (b.registry != null) {
      allowed = Counter.builder("offload.retries")
          .description("Retries the budget allowed or refused")
          .tag("outcome", "retried").register(b.registry);
      exhausted = Counter.builder("offload.retries")
          .description("Retries the budget allowed or refused")
          .tag("outcome", "budget_exhausted").register(b.registry);
    } else {
      allowed = null;
      exhausted = null;
    }
  }

  /**
   * Returns a builder with the defaults, on {@code ticker} (the router's).
   *
   * @param ticker the router's ticker
   * @return a new builder
   */
  public static Builder builder(Ticker ticker) {
    return new Builder(requireNonNull(ticker, "ticker"));
  }

  /**
   * Takes one retry from {@code load}'s budget, if there is one left.
   *
   * @param load the backend to retry on
   * @return whether the retry may go
   */
  public boolean tryAcquire(BackendLoad load) {
    requireNonNull(load, "load");
    long now = ticker.read();
    CountWindow window = retries.computeIfAbsent(load.backend(),
        b -> new CountWindow(BackendLoad.WINDOW_SLOTS,
            BackendLoad.WINDOW.toNanos() / BackendLoad.WINDOW_SLOTS));
    if (window.requests(now) >= limit(load, now)) {
      if (exhausted != null) {
        exhausted.increment();
      }
      return false;
    }
    window.record(now, false);
    if (allowed != null) {
      allowed.increment();
    }
    return true;
  }

  /**
   * Returns how many more retries {@code load}'s budget allows now.
   *
   * @param load the backend
   * @return zero or more
   */
  public long available(BackendLoad load) {
    long now = ticker.read();
    CountWindow window = retries.get(load.backend());
    long used = window == null ? 0 : window.requests(now);
    return Math.max(0, limit(load, now) - used);
  }

  private long limit(BackendLoad load, long now) {
    long completions = 0;
    for (InstanceLoad instance : load.instanceArray()) {
      completions += instance.recentRequests(now);
    }
    return Math.max(minRetries, (long) (ratio * completions));
  }

  /**
   * Returns where to send a retry of a request that failed on {@code failed}: another instance
   * not ejected with the fewest in flight, or {@code failed} when there is no other. Records the
   * failed attempt on {@code failed} (its own completion reports only the final outcome).
   *
   * @param load the backend
   * @param failed the instance the attempt failed on
   * @param kind how it failed
   * @return the instance to retry on
   */
  public URI retryTarget(BackendLoad load, URI failed, FailureKind kind) {
    requireNonNull(load, "load");
    requireNonNull(failed, "failed");
    requireNonNull(kind, "kind");
    long now = ticker.read();
    InstanceLoad from = load.instance(failed);
    if (kind != FailureKind.NONE) {
      from.record(new Completion(Outcome.FAILURE, kind, Completion.NO_STATUS, 0, 0), now);
    }
    InstanceLoad best = null;
    for (InstanceLoad instance : load.instanceArray()) {
      if (instance != from && !instance.ejected(now)
          && (best == null || instance.inFlight() < best.inFlight())) {
        best = instance;
      }
    }
    return best == null ? failed : best.uri();
  }

  /** Builds a {@link RetryBudget}. Not thread-safe. */
  public static final class Builder {
    private final Ticker ticker;
    private double ratio = DEFAULT_RATIO;
    private int minRetriesPerSecond = DEFAULT_MIN_RETRIES_PER_SECOND;
    private MeterRegistry registry;

    private Builder(Ticker ticker) {
      this.ticker = ticker;
    }

    /**
     * Sets the share of the backend's completions that may be retries.
     *
     * @param ratio in [0, 1]
     * @return this builder
     * @throws IllegalArgumentException if {@code ratio} is outside [0, 1]
     */
    public Builder ratio(double ratio) {
      if (!(ratio >= 0 && ratio <= 1)) {
        throw new IllegalArgumentException("ratio must be in [0, 1], got " + ratio);
      }
      this.ratio = ratio;
      return this;
    }

    /**
     * Sets the retries per second allowed whatever the traffic.
     *
     * @param retries zero or more
     * @return this builder
     * @throws IllegalArgumentException if {@code retries} is negative
     */
    public Builder minRetriesPerSecond(int retries) {
      if (retries < 0) {
        throw new IllegalArgumentException(
            "minRetriesPerSecond must not be negative, got " + retries);
      }
      this.minRetriesPerSecond = retries;
      return this;
    }

    /**
     * Counts retries on {@code registry} as {@code offload.retries} (tag {@code outcome}: {@code
     * retried}, {@code budget_exhausted}).
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Returns the budget.
     *
     * @return the budget
     */
    public RetryBudget build() {
      return new RetryBudget(this);
    }
  }

  @Override
  public String toString() {
    return "RetryBudget(ratio=" + ratio + ", min=" + minRetries + " per "
        + BackendLoad.WINDOW.toSeconds() + "s)";
  }
}
