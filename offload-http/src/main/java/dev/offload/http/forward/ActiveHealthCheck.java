package dev.offload.http.forward;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.Backend;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.InstanceLoad;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Active health checks of a backend's instances on OkHttp: every {@code interval}, a {@code GET}
 * of {@code path} on each instance, within {@code timeout}. After {@code unhealthyThreshold}
 * failed checks in a row (an unexpected status, a connect error, a timeout) the instance reads as
 * ejected ({@link InstanceLoad#activeCheck}); after {@code healthyThreshold} passed checks in a row
 * it is back at once, also from an ejection by passive outlier detection.
 *
 * <pre>{@code
 * ActiveHealthCheck check = ActiveHealthCheck.builder(orders, client, scheduler)
 *     .path("/health").interval(Duration.ofSeconds(5)).timeout(Duration.ofSeconds(1))
 *     .build();
 * check.start();
 * // ... at shutdown
 * check.close();
 * }</pre>
 *
 * <p>Lifecycle: {@link #start()} schedules the checks on the executor given, {@link #close()}
 * cancels them (the executor stays the caller's). {@link #checkNow()} runs one round on the
 * calling thread (tests). Thread-safe.
 */
public final class ActiveHealthCheck implements AutoCloseable {
  /** Default time between rounds: 5 seconds. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
  /** Default time one check may take: 1 second. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
  /** Default passed checks in a row that make an instance healthy: 2. */
  public static final int DEFAULT_HEALTHY_THRESHOLD = 2;
  /** Default failed checks in a row that make an instance unhealthy: 3. */
  public static final int DEFAULT_UNHEALTHY_THRESHOLD = 3;

  private final Backend backend;
  private final OkHttpClient client;
  private final ScheduledExecutorService scheduler;
  private final Ticker ticker;
  private final String path;
  private final Duration interval;
  private final int healthyThreshold;
  private final int unhealthyThreshold;
  private final int minStatus;
  private final int maxStatus;
  private final int[] passed;
  private final int[] failed;
  private ScheduledFuture<?> task;

  private ActiveHealthCheck(Builder b) {
    this.backend = b.backend;
    this.client = b.client.newBuilder().callTimeout(b.timeout.toMillis(), TimeUnit.MILLISECONDS)
        .retryOnConnectionFailure(false).build();
    this.scheduler = b.scheduler;
    this.ticker = b.ticker;
    this.path = b.path;
    this.interval = b.interval;
    this.healthyThreshold = b.healthyThreshold;
    this.unhealthyThreshold = b.unhealthyThreshold;
    this.minStatus = b.minStatus;
    this.maxStatus = b.maxStatus;
    this.passed = new int[backend.instances().size()];
    this.failed = new int[backend.instances().size()];
  }

  /**
   * Returns a builder.
   *
   * @param backend the backend whose instances are checked
   * @param client the client to derive the checks' client from
   * @param scheduler runs the rounds after {@link #start()}
   * @return a new builder
   */
  public static Builder builder(Backend backend, OkHttpClient client,
      ScheduledExecutorService scheduler) {
    return new Builder(requireNonNull(backend, "backend"), requireNonNull(client, "client"),
        requireNonNull(scheduler, "scheduler"));
  }

  /**
   * Schedules a round every interval, the first at once.
   *
   * @throws IllegalStateException if already started
   */
  public synchronized void start() {
    if (task != null) {
      throw new IllegalStateException("health checks of " + backend.name() + " already started");
    }
    task = scheduler.scheduleWithFixedDelay(this::checkNow, 0, interval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Cancels the scheduled rounds; a round under way finishes. */
  @Override
  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
    }
  }

  /** Runs one round of checks on the calling thread and applies the thresholds. */
  public synchronized void checkNow() {
    List<URI> instances = backend.instances();
    BackendLoad load = BackendLoad.of(backend);
    for (int i = 0; i < instances.size(); i++) {
      boolean ok = check(instances.get(i));
      InstanceLoad instance = load.instance(i);
      if (ok) {
        failed[i] = 0;
        if (++passed[i] >= healthyThreshold) {
          instance.activeCheck(false, ticker.read());
        }
      } else {
        passed[i] = 0;
        if (++failed[i] >= unhealthyThreshold) {
          instance.activeCheck(true, ticker.read());
        }
      }
    }
  }

  private boolean check(URI instance) {
    HttpUrl url = HttpUrl.get(instance.toString()).newBuilder().encodedPath(path).build();
    try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
      return response.code() >= minStatus && response.code() <= maxStatus;
    } catch (IOException e) {
      return false;
    }
  }

  /** Builds an {@link ActiveHealthCheck}. Not thread-safe. */
  public static final class Builder {
    private final Backend backend;
    private final OkHttpClient client;
    private final ScheduledExecutorService scheduler;
    private Ticker ticker = Ticker.systemTicker();
    private String path = "/health";
    private Duration interval = DEFAULT_INTERVAL;
    private Duration timeout = DEFAULT_TIMEOUT;
    private int healthyThreshold = DEFAULT_HEALTHY_THRESHOLD;
    private int unhealthyThreshold = DEFAULT_UNHEALTHY_THRESHOLD;
    private int minStatus = 200;
    private int maxStatus = 399;

    private Builder(Backend backend, OkHttpClient client, ScheduledExecutorService scheduler) {
      this.backend = backend;
      this.client = client;
      this.scheduler = scheduler;
    }

    /**
     * Sets the path checked on each instance.
     *
     * @param path starting with {@code /}
     * @return this builder
     * @throws IllegalArgumentException if {@code path} does not start with {@code /}
     */
    public Builder path(String path) {
      requireNonNull(path, "path");
      if (!path.startsWith("/")) {
        throw new IllegalArgumentException("path must start with '/', got '" + path + "'");
      }
      this.path = path;
      return this;
    }

    /**
     * Sets the router's ticker (the time an instance comes back is read from it).
     *
     * @param ticker the router's ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets the time between rounds.
     *
     * @param interval positive
     * @return this builder
     * @throws IllegalArgumentException if {@code interval} is not positive
     */
    public Builder interval(Duration interval) {
      this.interval = positive("interval", interval);
      return this;
    }

    /**
     * Sets the time one check may take.
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException if {@code timeout} is not positive
     */
    public Builder timeout(Duration timeout) {
      this.timeout = positive("timeout", timeout);
      return this;
    }

    /**
     * Sets the passed and failed checks in a row that change an instance's health.
     *
     * @param healthy at least 1
     * @param unhealthy at least 1
     * @return this builder
     * @throws IllegalArgumentException if either is below 1
     */
    public Builder thresholds(int healthy, int unhealthy) {
      if (healthy < 1 || unhealthy < 1) {
        throw new IllegalArgumentException("thresholds must be at least 1, got healthy "
            + healthy + " and unhealthy " + unhealthy);
      }
      this.healthyThreshold = healthy;
      this.unhealthyThreshold = unhealthy;
      return this;
    }

    /**
     * Sets the statuses that pass, {@code min..max} inclusive (default 200..399).
     *
     * @param min from 100
     * @param max up to 599, not below {@code min}
     * @return this builder
     * @throws IllegalArgumentException if the range is empty or outside 100..599
     */
    public Builder expectedStatuses(int min, int max) {
      if (min < 100 || max > 599 || min > max) {
        throw new IllegalArgumentException(
            "expectedStatuses must be a range within 100..599, got " + min + ".." + max);
      }
      this.minStatus = min;
      this.maxStatus = max;
      return this;
    }

    /**
     * Returns the health check, not started.
     *
     * @return the health check
     */
    public ActiveHealthCheck build() {
      return new ActiveHealthCheck(this);
    }

    private static Duration positive(String setting, Duration value) {
      requireNonNull(value, setting);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(setting + " must be positive, got " + value);
      }
      return value;
    }
  }
}
