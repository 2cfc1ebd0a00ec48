package dev.offload.core.failover.internal;

import dev.offload.core.Completion;
import dev.offload.core.Outcome;

/**
 * Completions of the last {@code slots} x {@code slotNanos} nanoseconds, on a clock the caller
 * passes in (the router's ticker): counts, backend-blamed failures, and a latency histogram with
 * buckets 25% wide (four per power of two, from 1 microsecond) from which percentiles are read,
 * clamped to the largest latency seen. Each slot has its own lock, so recording never contends
 * with recording on another slot or another instance; no global lock. Thread-safe.
 */
public final class LatencyWindow {
  private static final int BUCKETS = 256;

  private final long slotNanos;
  private final Slot[] slots;

  /**
   * A window of {@code slots} slots of {@code slotNanos} each.
   *
   * @param slots how many slots
   * @param slotNanos the length of one slot
   */
  public LatencyWindow(int slots, long slotNanos) {
    if (slots < 1 || slotNanos < 1) {
      throw new IllegalArgumentException("slots and slotNanos must be positive");
    }
    this.slotNanos = slotNanos;
    this.slots = new Slot[slots];
    for (int i = 0; i < slots; i++) {
      this.slots[i] = new Slot();
    }
  }

  /**
   * Records {@code completion} at time {@code nowNanos}. Dropped work is not recorded.
   *
   * @param completion what happened
   * @param nowNanos now, on the router's ticker
   */
  public void record(Completion completion, long nowNanos) {
    if (completion.outcome() == Outcome.DROPPED) {
      return; // abandoned (the client left, explain): says nothing about the backend
    }
    long epoch = Math.floorDiv(nowNanos, slotNanos);
    Slot slot = slots[(int) Math.floorMod(epoch, (long) slots.length)];
    synchronized (slot) {
      if (slot.epoch != epoch) {
        slot.reset(epoch);
      }
      slot.requests++;
      if (completion.failure().blamesBackend()) {
        slot.failures++;
      }
      long latency = completion.latencyNanos();
      slot.counts[index(latency / 1000)]++;
      slot.maxNanos = Math.max(slot.maxNanos, latency);
    }
  }

  /**
   * Returns the totals of the slots within the window ending at {@code nowNanos}.
   *
   * @param nowNanos now, on the router's ticker
   * @return the totals of the slots within the window ending at {@code nowNanos}
   */
  public Totals totals(long nowNanos) {
    long epoch = Math.floorDiv(nowNanos, slotNanos);
    long requests = 0;
    long failures = 0;
    long max = 0;
    long[] counts = new long[BUCKETS];
    for (Slot slot : slots) {
      synchronized (slot) {
        if (slot.epoch > epoch - slots.length && slot.epoch <= epoch) {
          requests += slot.requests;
          failures += slot.failures;
          max = Math.max(max, slot.maxNanos);
          for (int i = 0; i < BUCKETS; i++) {
            counts[i] += slot.counts[i];
          }
        }
      }
    }
    return new Totals(requests, failures, max, counts);
  }

  /** Sums over the window. */
  public static final class Totals {
    private final long requests;
    private final long failures;
    private final long maxNanos;
    private final long[] counts;

    Totals(long requests, long failures, long maxNanos, long[] counts) {
      this.requests = requests;
      this.failures = failures;
      this.maxNanos = maxNanos;
      this.counts = counts;
    }

    /**
     * Completions recorded (dropped ones are not).
     *
     * @return the completions recorded (dropped ones are not)
     */
    public long requests() {
      return requests;
    }

    /**
     * Completions whose failure blames the backend.
     *
     * @return the completions whose failure blames the backend
     */
    public long failures() {
      return failures;
    }

    /**
     * Returns the latency at {@code quantile} (0..1]: the upper bound of the bucket holding it,
     * never above the largest latency recorded; 0 when nothing was recorded.
     *
     * @param quantile in (0, 1]
     * @return nanoseconds
     */
    public long latencyNanos(double quantile) {
      if (requests == 0) {
        return 0;
      }
      long rank = Math.max(1, (long) Math.ceil(quantile * requests));
      long seen = 0;
      for (int i = 0; i < BUCKETS; i++) {
        seen += counts[i];
        if (seen >= rank) {
          return Math.min(maxNanos, upperBoundMicros(i) * 1000 + 999);
        }
      }
      return maxNanos;
    }
  }

  /** The bucket of {@code micros}: exact below 4, then four buckets per power of two. */
  static int index(long micros) {
    if (micros < 4) {
      return (int) Math.max(0, micros);
    }
    int msb = 63 - Long.numberOfLeadingZeros(micros);
    int sub = (int) ((micros >>> (msb - 2)) & 3);
    return Math.min(BUCKETS - 1, msb * 4 + sub - 4);
  }

  /** The largest value, in microseconds, that falls into bucket {@code index}. */
  static long upperBoundMicros(int index) {
    if (index < 4) {
      return index;
    }
    int msb = (index + 4) / 4;
    int sub = (index + 4) % 4;
    if (msb >= 61) {
      return Long.MAX_VALUE / 1000;
    }
    return ((4L + sub + 1) << (msb - 2)) - 1;
  }

  private static final class Slot {
    long epoch = Long.MIN_VALUE;
    long requests;
    long failures;
    long maxNanos;
    final long[] counts = new long[BUCKETS];

    void reset(long newEpoch) {
      epoch = newEpoch;
      requests = 0;
      failures = 0;
      maxNanos = 0;
      java.util.Arrays.fill(counts, 0);
    }
  }
}
