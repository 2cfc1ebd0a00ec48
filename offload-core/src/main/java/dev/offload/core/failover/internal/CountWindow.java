package dev.offload.core.failover.internal;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Completions and failures of the last {@code slots} x {@code slotNanos} nanoseconds, on the
 * caller's clock, without locks: each slot is three longs (epoch, completions, failures) in one
 * {@link AtomicLongArray}. A recording that races with the reset of its slot for a new epoch may
 * be lost; the counts are an estimate that errs by at most the recordings of that instant.
 * Thread-safe.
 */
public final class CountWindow {
  private static final long EMPTY = Long.MIN_VALUE;

  private final int slots;
  private final long slotNanos;
  private final AtomicLongArray cells;

  /**
   * A window of {@code slots} slots of {@code slotNanos} nanoseconds each.
   *
   * @param slots how many slots, at least 1
   * @param slotNanos the length of one slot, at least 1
   * @throws IllegalArgumentException if either is below 1
   */
  public CountWindow(int slots, long slotNanos) {
    if (slots < 1 || slotNanos < 1) {
      throw new IllegalArgumentException(
          "slots and slotNanos must be positive, got " + slots + " and " + slotNanos);
    }
    this.slots = slots;
    this.slotNanos = slotNanos;
    this.cells = new AtomicLongArray(slots * 3);
    clear();
  }

  /**
   * Counts one completion at {@code nowNanos}.
   *
   * @param nowNanos the time, on the caller's clock
   * @param failed whether it counts as a failure
   */
  public void record(long nowNanos, boolean failed) {
    long epoch = Math.floorDiv(nowNanos, slotNanos);
    int base = (int) Math.floorMod(epoch, (long) slots) * 3;
    long seen = cells.get(base);
    if (seen != epoch && seen < epoch && cells.compareAndSet(base, seen, epoch)) {
      cells.set(base + 1, 0);
      cells.set(base + 2, 0);
    } else if (seen > epoch) {
      return; // older than the slot's current epoch: out of the window already
    }
    cells.incrementAndGet(base + 1);
    if (failed) {
      cells.incrementAndGet(base + 2);
    }
  }

  /**
   * Returns the completions within the window ending at {@code nowNanos}.
   *
   * @param nowNanos the end of the window
   * @return the count
   */
  public long requests(long nowNanos) {
    return sum(nowNanos, 1);
  }

  /**
   * Returns the failures within the window ending at {@code nowNanos}.
   *
   * @param nowNanos the end of the window
   * @return the count
   */
  public long failures(long nowNanos) {
    return sum(nowNanos, 2);
  }

  /** Forgets everything counted so far. */
  public void clear() {
    for (int i = 0; i < slots; i++) {
      cells.set(i * 3, EMPTY);
      cells.set(i * 3 + 1, 0);
      cells.set(i * 3 + 2, 0);
    }
  }

  private long sum(long nowNanos, int offset) {
    long epoch = Math.floorDiv(nowNanos, slotNanos);
    long sum = 0;
    for (int i = 0; i < slots; i++) {
      long slotEpoch = cells.get(i * 3);
      if (slotEpoch > epoch - slots && slotEpoch <= epoch) {
        sum += cells.get(i * 3 + offset);
      }
    }
    return sum;
  }
}
