package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.Completion;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Outcome;
import dev.offload.core.failover.internal.CountWindow;
import dev.offload.core.failover.internal.LatencyWindow;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The load of one backend instance, fed by the completion records of the decisions forwarded to
 * it: requests in flight, and over the last {@link BackendLoad#WINDOW} the completions, the
 * failures that blame the backend, and latency percentiles. Time is always the caller's (the
 * router's ticker), never the system clock, so a test with a {@code FakeTicker} drives it.
 *
 * <p>Besides the window, the figures the router decides by on every request, read without locks:
 * an EWMA of the latency, a p99 estimate (the 0.99 expectile of the latencies: it rises at once
 * with slow completions and decays slowly with fast ones), the error rate over the window, and
 * whether passive outlier detection has ejected the instance ({@link OutlierDetection}). Latency
 * figures older than {@link BackendLoad#WINDOW} without a new completion are forgotten (read as
 * zero), so an instance that got no traffic while it was avoided is tried again.
 *
 * <p>Obtained from {@link BackendLoad#instance(URI)}. Thread-safe; recording takes only a lock
 * on one time slot of this instance.
 */
public final class InstanceLoad {
  /** Weight of the newest latency in the EWMA. */
  static final double EWMA_ALPHA = 0.2;
  /** Step toward a latency above the p99 estimate. */
  static final double P99_UP = 0.5;
  /** Step toward a latency below it: 99 times smaller, so the estimate is the 0.99 expectile. */
  static final double P99_DOWN = P99_UP / 99;

  private final BackendLoad owner;
  private final int index;
  private final URI uri;
  private final LongAdder inFlight = new LongAdder();
  private final LatencyWindow window;
  private final CountWindow counts;
  private final AtomicLong ewmaNanos = new AtomicLong(-1);
  private final AtomicLong p99Nanos = new AtomicLong(-1);
  private volatile long lastCompletionNanos;
  final AtomicInteger consecutive5xx = new AtomicInteger();
  final AtomicInteger consecutiveGatewayFailures = new AtomicInteger();
  volatile long ejectedUntilNanos = Long.MIN_VALUE;
  volatile int timesEjected;
  private volatile boolean failingChecks;
  /** The listener for the last ticker seen: one router's ticker, so one listener, no garbage. */
  private volatile TickerListener listener;

  InstanceLoad(BackendLoad owner, int index, URI uri) {
    this.owner = owner;
    this.index = index;
    this.uri = uri;
    long slotNanos = BackendLoad.WINDOW.toNanos() / BackendLoad.WINDOW_SLOTS;
    this.window = new LatencyWindow(BackendLoad.WINDOW_SLOTS, slotNanos);
    this.counts = new CountWindow(BackendLoad.WINDOW_SLOTS, slotNanos);
  }

  /** Returns the position of this instance in {@link dev.offload.core.Backend#instances()}. */
  int index() {
    return index;
  }

  /**
   * Returns the EWMA of the latency, or 0 when nothing completed within the window.
   *
   * @param nowNanos now, on the router's ticker
   * @return nanoseconds
   */
  public long ewmaLatencyNanos(long nowNanos) {
    return fresh(ewmaNanos.get(), nowNanos);
  }

  /**
   * Returns the p99 latency estimate (the 0.99 expectile), or 0 when nothing completed within the
   * window.
   *
   * @param nowNanos now, on the router's ticker
   * @return nanoseconds
   */
  public long p99EstimateNanos(long nowNanos) {
    return fresh(p99Nanos.get(), nowNanos);
  }

  /**
   * Returns the completions within the window.
   *
   * @param nowNanos now, on the router's ticker
   * @return the count (dropped work is not counted)
   */
  public long recentRequests(long nowNanos) {
    return counts.requests(nowNanos);
  }

  /**
   * Returns the share of completions within the window whose failure blames the backend.
   *
   * @param nowNanos now, on the router's ticker
   * @return 0..1, 0 when nothing completed
   */
  public double errorRate(long nowNanos) {
    long requests = counts.requests(nowNanos);
    return requests == 0 ? 0 : (double) counts.failures(nowNanos) / requests;
  }

  /**
   * Returns whether outlier detection has ejected this instance at {@code nowNanos}; an ejection
   * ends by itself when its time is up.
   *
   * @param nowNanos now, on the router's ticker
   * @return whether it is ejected
   */
  public boolean ejected(long nowNanos) {
    return failingChecks || nowNanos < ejectedUntilNanos;
  }

  /**
   * Sets whether active health checks find this instance unhealthy: while they do, it reads as
   * ejected; when they pass again, it is back at once, also from an outlier ejection.
   *
   * @param unhealthy whether the checks fail
   * @param nowNanos now, on the router's ticker
   */
  public void activeCheck(boolean unhealthy, long nowNanos) {
    failingChecks = unhealthy;
    if (!unhealthy) {
      unEject(nowNanos);
    }
  }

  /**
   * Returns how many times outlier detection has ejected this instance.
   *
   * @return the count
   */
  public int timesEjected() {
    return timesEjected;
  }

  /**
   * Brings an ejected instance back at once (an active health check passed).
   *
   * @param nowNanos now, on the router's ticker
   */
  public void unEject(long nowNanos) {
    if (nowNanos < ejectedUntilNanos) {
      ejectedUntilNanos = nowNanos;
    }
  }

  long failures(long nowNanos) {
    return counts.failures(nowNanos);
  }

  void clearCounts() {
    counts.clear();
    consecutive5xx.set(0);
    consecutiveGatewayFailures.set(0);
  }

  private long fresh(long value, long nowNanos) {
    if (value < 0 || nowNanos - lastCompletionNanos > BackendLoad.WINDOW.toNanos()) {
      return 0;
    }
    return value;
  }

  private void measure(Completion completion, long nowNanos) {
    if (completion.outcome() == Outcome.DROPPED) {
      owner.dropped();
      return;
    }
    window.record(completion, nowNanos);
    boolean stale = nowNanos - lastCompletionNanos > BackendLoad.WINDOW.toNanos();
    lastCompletionNanos = nowNanos;
    long x = completion.latencyNanos();
    long old;
    do {
      old = ewmaNanos.get();
    } while (!ewmaNanos.compareAndSet(old,
        old < 0 || stale ? x : old + Math.round(EWMA_ALPHA * (x - old))));
    do {
      old = p99Nanos.get();
    } while (!p99Nanos.compareAndSet(old, old < 0 || stale ? x
        : old + Math.round((x > old ? P99_UP : P99_DOWN) * (x - old))));
    boolean failed = completion.failure().blamesBackend();
    counts.record(nowNanos, failed);
    owner.completed(this, completion, failed, nowNanos);
  }

  /** Whether {@code completion} is a gateway failure as Envoy counts them. */
  static boolean gatewayFailure(Completion completion) {
    FailureKind kind = completion.failure();
    return switch (kind) {
      case CONNECT_REFUSED, CONNECT_TIMEOUT, READ_TIMEOUT, RESET -> true;
      default -> completion.status() == 502 || completion.status() == 503
          || completion.status() == 504;
    };
  }

  /**
   * Returns the instance's base URI.
   *
   * @return the instance's base URI
   */
  public URI uri() {
    return uri;
  }

  /**
   * Returns the number of decisions forwarded here whose handles are not completed yet.
   *
   * @return the number of decisions forwarded here whose handles are not completed yet
   */
  public long inFlight() {
    return inFlight.sum();
  }

  /**
   * Takes an in-flight slot and returns the handle that gives it back when completed and records
   * its completion (at the time it completes, on {@code ticker}).
   *
   * @param ticker the router's ticker
   * @return the handle to complete exactly once
   */
  public DecisionHandle acquire(Ticker ticker) {
    requireNonNull(ticker, "ticker");
    TickerListener current = listener;
    if (current == null || current.ticker != ticker) {
      current = new TickerListener(ticker);
      listener = current;
    }
    inFlight.increment();
    return DecisionHandle.create(ticker, current);
  }

  /** Gives the slot back and records the completion at the time it completes. */
  private final class TickerListener implements DecisionHandle.Listener {
    private final Ticker ticker;

    TickerListener(Ticker ticker) {
      this.ticker = ticker;
    }

    @Override
    public void onComplete(Completion completion) {
      inFlight.decrement();
      measure(completion, ticker.read());
    }
  }

  /**
   * Records a completion that did not go through a handle of {@link #acquire} (an active health
   * check, a test feeding load): it changes the window, the health figures and outlier detection,
   * not the in-flight count.
   *
   * @param completion what happened
   * @param nowNanos when it completed, on the router's ticker
   */
  public void record(Completion completion, long nowNanos) {
    measure(requireNonNull(completion, "completion"), nowNanos);
  }

  /**
   * Returns the load now, {@code nowNanos} read from the router's ticker.
   *
   * @param nowNanos now, on the router's ticker
   * @return the load now, {@code nowNanos} read from the router's ticker
   */
  public LoadSnapshot snapshot(long nowNanos) {
    LatencyWindow.Totals totals = window.totals(nowNanos);
    return new LoadSnapshot(uri, inFlight(), totals.requests(), totals.failures(),
        Duration.ofNanos(totals.latencyNanos(0.5)), Duration.ofNanos(totals.latencyNanos(0.99)));
  }

  @Override
  public String toString() {
    return "InstanceLoad(" + uri + ", inFlight=" + inFlight() + ")";
  }
}
