package dev.offload.core.replay.internal;

import java.util.Arrays;

/**
 * The capacity answer: re-queues recorded arrivals and service times on {@code k} instances and
 * searches the fewest that keep the p99 latency at or under a target. With the arrivals fixed,
 * more slots never make a first-come-first-served queue's latencies worse, so the search is a
 * bisection.
 */
public final class Capacity {
  private Capacity() {}

  /**
   * Searches the fewest instances.
   *
   * @param arrivals arrival times, in order
   * @param services service times, parallel
   * @param count how many of them are valid
   * @param concurrency slots per instance
   * @param targetNanos the p99 target
   * @param maxInstances the most instances tried
   * @return {instances (0 if not met), p99 nanos at the answer (or at the most)}
   */
  public static long[] fewestInstances(long[] arrivals, long[] services, int count,
      int concurrency, long targetNanos, int maxInstances) {
    if (count == 0) {
      return new long[] {1, 0};
    }
    long atMax = p99(arrivals, services, count, (long) maxInstances * concurrency);
    if (atMax > targetNanos) {
      return new long[] {0, atMax};
    }
    int low = 1;
    int high = maxInstances;
    long best = atMax;
    while (low < high) {
      int mid = (low + high) >>> 1;
      long p99 = p99(arrivals, services, count, (long) mid * concurrency);
      if (p99 <= targetNanos) {
        high = mid;
        best = p99;
      } else {
        low = mid + 1;
      }
    }
    if (high == maxInstances) {
      best = atMax;
    }
    return new long[] {high, best};
  }

  /**
   * Returns the p99 latency of the recorded requests on {@code slots} slots.
   *
   * @param arrivals arrival times, in order
   * @param services service times, parallel
   * @param count how many of them are valid
   * @param slots the slots
   * @return the p99 latency in nanoseconds
   */
  public static long p99(long[] arrivals, long[] services, int count, long slots) {
    SlotQueue queue = new SlotQueue((int) Math.min(slots, count));
    long[] latencies = new long[count];
    for (int i = 0; i < count; i++) {
      latencies[i] = queue.admit(arrivals[i], services[i]) - arrivals[i];
    }
    Arrays.sort(latencies);
    int index = (int) Math.ceil(0.99 * count) - 1;
    return latencies[Math.max(0, index)];
  }
}
