package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.Backend;
import dev.offload.core.internal.Settings;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;

/**
 * How many instances a backend needs for the load it measurably gets, as a signal for an
 * autoscaler: by Little's law the requests it holds at once are its arrival rate times its
 * latency ({@code L = λ W}); divided by the concurrency one instance should hold, rounded up, that
 * is the instances it needs. Read from {@link BackendLoad}: the completions of the last {@link
 * BackendLoad#WINDOW} give the rate, each instance's latency average (EWMA) weighted by its
 * completions gives the latency. The concurrency is smoothed over time (exponentially, time
 * constant {@link Builder#smoothing}) so a short burst does not scale a fleet up and down.
 *
 * <pre>{@code
 * CapacitySignal.builder(orders)
 *     .concurrencyPerInstance(8)          // what one instance holds at its target latency
 *     .ticker(ticker)                     // the router's
 *     .meterRegistry(registry)            // offload.backend.capacity.desired{backend="orders"}
 *     .build();
 * }</pre>
 *
 * <p>The gauge is read when the registry is scraped; reading advances the smoothing, so read it
 * from one place (the gauge, or {@link #desiredInstances()} in a test). Thread-safe.
 */
public final class CapacitySignal {
  /** Default time constant of the smoothing: 30 seconds. */
  public static final Duration DEFAULT_SMOOTHING = Duration.ofSeconds(30);

  private final BackendLoad load;
  private final Ticker ticker;
  private final double perInstance;
  private final int minInstances;
  private final double smoothingNanos;
  private double smoothed = Double.NaN;
  private long readAtNanos;

  private CapacitySignal(Builder b) {
    this.load = BackendLoad.of(b.backend);
    this.ticker = b.ticker;
    this.perInstance = b.concurrencyPerInstance;
    this.minInstances = b.minInstances;
    this.smoothingNanos = b.smoothing.toNanos();
    if (b.registry != null) {
      Gauge.builder("offload.backend.capacity.desired", this, s -> s.desiredInstances())
          .description("Instances the backend needs for its measured load (Little's law over a"
              + " per-instance concurrency target, smoothed)")
          .baseUnit("instances")
          .tag("backend", b.backend.name())
          .strongReference(true) // the registry keeps the signal: no field of the user's needed
          .register(b.registry);
    }
  }

  /**
   * Starts a signal for {@code backend}.
   *
   * @param backend the backend whose load is measured
   * @return a builder
   */
  public static Builder builder(Backend backend) {
    return new Builder(requireNonNull(backend, "backend"));
  }

  /**
   * Returns the concurrency the backend measurably holds now, unsmoothed: completions per second
   * over the window times their mean latency in seconds.
   *
   * @param nowNanos now, on the router's ticker
   * @return requests held at once, 0 when nothing completed within the window
   */
  public double measuredConcurrency(long nowNanos) {
    double requests = 0;
    double latencyNanosTimesRequests = 0;
    for (InstanceLoad instance : load.instanceArray()) {
      long n = instance.recentRequests(nowNanos);
      requests += n;
      latencyNanosTimesRequests += n * (double) instance.ewmaLatencyNanos(nowNanos);
    }
    if (requests == 0) {
      return 0;
    }
    double ratePerSecond = requests / (BackendLoad.WINDOW.toNanos() / 1e9);
    double meanLatencySeconds = latencyNanosTimesRequests / requests / 1e9;
    return ratePerSecond * meanLatencySeconds;
  }

  /**
   * Advances the smoothing to now and returns the smoothed concurrency.
   *
   * @return requests held at once, smoothed
   */
  public synchronized double smoothedConcurrency() {
    long now = ticker.read();
    double measured = measuredConcurrency(now);
    if (Double.isNaN(smoothed) || smoothingNanos == 0) {
      smoothed = measured;
    } else {
      double elapsed = Math.max(0, now - readAtNanos);
      double alpha = 1 - Math.exp(-elapsed / smoothingNanos);
      smoothed += alpha * (measured - smoothed);
    }
    readAtNanos = now;
    return smoothed;
  }

  /**
   * Advances the smoothing to now and returns the instances the backend needs: the smoothed
   * concurrency over the per-instance target, rounded up, at least the minimum.
   *
   * @return the desired number of instances
   */
  public int desiredInstances() {
    double needed = Math.ceil(smoothedConcurrency() / perInstance - 1e-9);
    return (int) Math.max(minInstances, Math.min(Integer.MAX_VALUE, needed));
  }

  @Override
  public String toString() {
    return "CapacitySignal(" + load.backend().name() + ", " + perInstance + " per instance)";
  }

  /** Settings of a {@link CapacitySignal}. */
  public static final class Builder {
    private final Backend backend;
    private double concurrencyPerInstance = Double.NaN;
    private int minInstances = 1;
    private Duration smoothing = DEFAULT_SMOOTHING;
    private Ticker ticker = Ticker.systemTicker();
    private MeterRegistry registry;

    private Builder(Backend backend) {
      this.backend = backend;
    }

    /**
     * Sets the requests one instance should hold at once (required): its worker count, or what
     * load tests showed it holds at its target latency.
     *
     * @param requests the concurrency target per instance
     * @return this builder
     * @throws IllegalArgumentException if it is not positive and finite
     */
    public Builder concurrencyPerInstance(double requests) {
      if (!(requests > 0) || Double.isInfinite(requests)) {
        throw new IllegalArgumentException(
            "concurrencyPerInstance must be positive and finite, got " + requests);
      }
      this.concurrencyPerInstance = requests;
      return this;
    }

    /**
     * Sets the fewest instances the signal asks for (default 1).
     *
     * @param instances the minimum
     * @return this builder
     * @throws IllegalArgumentException if it is negative
     */
    public Builder minInstances(int instances) {
      if (instances < 0) {
        throw new IllegalArgumentException("minInstances must not be negative, got " + instances);
      }
      this.minInstances = instances;
      return this;
    }

    /**
     * Sets the time constant of the smoothing (default {@link #DEFAULT_SMOOTHING}); zero for the
     * raw measurement.
     *
     * @param timeConstant how fast the signal follows the measurement
     * @return this builder
     * @throws IllegalArgumentException if it is negative
     */
    public Builder smoothing(Duration timeConstant) {
      this.smoothing = Settings.notNegative("smoothing", timeConstant);
      return this;
    }

    /**
     * Sets the clock (default the system ticker; give the router's).
     *
     * @param ticker the clock
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Registers the gauge {@code offload.backend.capacity.desired} (tag {@code backend}).
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Builds the signal.
     *
     * @return the signal
     * @throws IllegalStateException if {@link #concurrencyPerInstance} was not set
     */
    public CapacitySignal build() {
      if (Double.isNaN(concurrencyPerInstance)) {
        throw new IllegalStateException("CapacitySignal for backend " + backend.name()
            + " needs concurrencyPerInstance(n): the requests one instance should hold");
      }
      return new CapacitySignal(this);
    }
  }
}
