package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.Completion;
import dev.offload.core.DecisionHandle;
import dev.offload.core.failover.internal.LatencyWindow;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * The load of one backend instance, fed by the completion records of the decisions forwarded to
 * it: requests in flight, and over the last {@link BackendLoad#WINDOW} the completions, the
 * failures that blame the backend, and latency percentiles. Time is always the caller's (the
 * router's ticker), never the system clock, so a test with a {@code FakeTicker} drives it.
 *
 * <p>Obtained from {@link BackendLoad#instance(URI)}. Thread-safe; recording takes only a lock
 * on one time slot of this instance.
 */
public final class InstanceLoad {
  private final URI uri;
  private final LongAdder inFlight = new LongAdder();
  private final LatencyWindow window;
  /** The listener for the last ticker seen: one router's ticker, so one listener, no garbage. */
  private volatile TickerListener listener;

  InstanceLoad(URI uri) {
    this.uri = uri;
    this.window = new LatencyWindow(BackendLoad.WINDOW_SLOTS,
        BackendLoad.WINDOW.toNanos() / BackendLoad.WINDOW_SLOTS);
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
   * @param ticker the clock
   * @return this handle
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
      window.record(completion, ticker.read());
    }
  }

  /**
   * Records a completion that did not go through a handle of {@link #acquire} (an active health
   * check, a test feeding load): it changes the window, not the in-flight count.
   *
   * @param nowNanos when it completed, on the router's ticker
   * @param completion the completion
   */
  public void record(Completion completion, long nowNanos) {
    window.record(requireNonNull(completion, "completion"), nowNanos);
  }

  /**
   * Returns the load now, {@code nowNanos} read from the router's ticker.
   *
   * @param nowNanos the now nanos
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
