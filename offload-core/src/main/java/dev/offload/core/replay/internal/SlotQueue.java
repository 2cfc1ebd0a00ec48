package dev.offload.core.replay.internal;

import java.util.Arrays;

/**
 * A pool of identical service slots with one first-come-first-served queue in front: a binary
 * min-heap of the times each slot frees. A request arriving at {@code t} starts at {@code
 * max(t, earliest free)} and holds that slot until its start plus its service time.
 */
public final class SlotQueue {
  private final long[] freeAt;

  /**
   * Creates {@code slots} slots, all free.
   *
   * @param slots how many
   * @throws IllegalArgumentException if {@code slots} is not positive
   */
  public SlotQueue(int slots) {
    if (slots < 1) {
      throw new IllegalArgumentException("slots must be positive, got " + slots);
    }
    freeAt = new long[slots];
    Arrays.fill(freeAt, Long.MIN_VALUE);
  }

  /**
   * Queues a request.
   *
   * @param arrival when it arrives
   * @param service its service time
   * @return when it completes
   */
  public long admit(long arrival, long service) {
    long start = Math.max(arrival, freeAt[0]);
    long done = start + service;
    freeAt[0] = done;
    siftDown();
    return done;
  }

  private void siftDown() {
    int n = freeAt.length;
    int i = 0;
    long value = freeAt[0];
    while (true) {
      int child = 2 * i + 1;
      if (child >= n) {
        break;
      }
      if (child + 1 < n && freeAt[child + 1] < freeAt[child]) {
        child++;
      }
      if (freeAt[child] >= value) {
        break;
      }
      freeAt[i] = freeAt[child];
      i = child;
    }
    freeAt[i] = value;
  }
}
