package dev.offload.core.replay.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The state of one simulated backend during a replay: its slots, what it was sent, and its
 * latencies, overall and per window. Single-threaded, like the replay.
 */
public final class BackendSim {
  /** One window's figures: start offset, completed, p50 and p99 in nanoseconds. */
  public record Window(long startNanos, long completed, long p50Nanos, long p99Nanos) {}

  private final String name;
  private final int concurrency;
  private final SlotQueue slots;
  private final long windowNanos;
  private final long origin;
  private final TreeMap<String, Long> byInstance = new TreeMap<>();
  private final Histogram all = new Histogram(3);
  private final Histogram window = new Histogram(3);
  private final List<Window> windows = new ArrayList<>();
  private long[] arrivals = new long[1024];
  private long[] services = new long[1024];
  private int requests;
  private long inFlight;
  private long peakInFlight;
  private long timeouts;
  private long windowIndex = -1;
  private long arrivalWindow = -1;
  private long arrivalsInWindow;
  private long peakArrivalsInWindow;

  /**
   * A backend of {@code instances} x {@code concurrency} slots.
   *
   * @param name its name
   * @param instances its instances
   * @param concurrency slots per instance
   * @param windowNanos the length of a window
   * @param origin the ticker value windows are counted from
   */
  public BackendSim(String name, int instances, int concurrency, long windowNanos, long origin) {
    this.name = name;
    this.concurrency = concurrency;
    this.slots = new SlotQueue(Math.multiplyExact(instances, concurrency));
    this.windowNanos = windowNanos;
    this.origin = origin;
  }

  /**
   * Returns the name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Returns the per-instance concurrency.
   *
   * @return slots per instance
   */
  public int concurrency() {
    return concurrency;
  }

  /**
   * A request for {@code instance} arrives.
   *
   * @param instance the instance the decision named
   * @param at its arrival, on the ticker
   * @param service its service time in nanoseconds
   * @return when it completes, on the ticker
   */
  public long admit(String instance, long at, long service) {
    byInstance.merge(instance, 1L, Long::sum);
    if (requests == arrivals.length) {
      arrivals = Arrays.copyOf(arrivals, requests * 2);
      services = Arrays.copyOf(services, requests * 2);
    }
    arrivals[requests] = at;
    services[requests] = service;
    requests++;
    long index = (at - origin) / windowNanos;
    if (index != arrivalWindow) {
      arrivalWindow = index;
      arrivalsInWindow = 0;
    }
    arrivalsInWindow++;
    peakArrivalsInWindow = Math.max(peakArrivalsInWindow, arrivalsInWindow);
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    return slots.admit(at, service);
  }

  /**
   * A request completed.
   *
   * @param now when, on the ticker
   * @param latency its latency in nanoseconds
   * @param timedOut whether it completed as a timeout
   */
  public void completed(long now, long latency, boolean timedOut) {
    inFlight--;
    if (timedOut) {
      timeouts++;
    }
    long index = (now - origin) / windowNanos;
    if (index != windowIndex) {
      closeWindow();
      windowIndex = index;
    }
    long micros = Math.max(0, latency / 1000);
    all.recordValue(micros);
    window.recordValue(micros);
  }

  /** Ends the last window; call once, after the last completion. */
  public void finish() {
    closeWindow();
  }

  private void closeWindow() {
    if (window.getTotalCount() > 0) {
      windows.add(new Window(windowIndex * windowNanos, window.getTotalCount(),
          window.getValueAtPercentile(50) * 1000, window.getValueAtPercentile(99) * 1000));
      window.reset();
    }
  }

  /**
   * Returns the requests admitted.
   *
   * @return requests admitted
   */
  public int requests() {
    return requests;
  }

  /**
   * Returns requests per instance name.
   *
   * @return requests per instance
   */
  public TreeMap<String, Long> byInstance() {
    return byInstance;
  }

  /**
   * Returns the most requests held at once.
   *
   * @return the peak in-flight
   */
  public long peakInFlight() {
    return peakInFlight;
  }

  /**
   * Returns the most arrivals in one window.
   *
   * @return the peak arrivals per window
   */
  public long peakArrivalsInWindow() {
    return peakArrivalsInWindow;
  }

  /**
   * Returns the requests that timed out.
   *
   * @return timeouts
   */
  public long timeouts() {
    return timeouts;
  }

  /**
   * Returns a latency percentile.
   *
   * @param percentile 0..100
   * @return the latency in nanoseconds, 0 when nothing completed
   */
  public long latencyNanos(double percentile) {
    return all.getTotalCount() == 0 ? 0 : all.getValueAtPercentile(percentile) * 1000;
  }

  /**
   * Returns the windows closed so far.
   *
   * @return the windows
   */
  public List<Window> windows() {
    return windows;
  }

  /**
   * Returns the arrival times, in order; the first {@link #requests()} are valid.
   *
   * @return the arrival times
   */
  public long[] arrivals() {
    return arrivals;
  }

  /**
   * Returns the service times, parallel to {@link #arrivals()}.
   *
   * @return the service times
   */
  public long[] services() {
    return services;
  }
}
