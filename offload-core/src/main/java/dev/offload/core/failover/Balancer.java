package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;

/**
 * How {@link Failover} picks one instance of a backend among those it may use (not ejected, or
 * all of them in panic mode).
 *
 * <pre>{@code
 * FailoverStrategy.primary(orders).balancer(Balancer.weighted(3, 1))
 * }</pre>
 *
 * <p>{@link #powerOfTwoChoices()} (the default) draws two eligible instances at random and takes
 * the one with fewer requests in flight, then the lower latency EWMA; {@link #roundRobin()} takes
 * them in turn; {@link #weighted(int...)} in turn in proportion to their weights. Thread-safe;
 * built only by these factories.
 */
public abstract class Balancer {
  Balancer() {}

  /**
   * Returns the index of the chosen instance among {@code instances}, only among those whose bit
   * in {@code eligible} is set (bit i for instance i; instances past 63 are always eligible), or
   * -1 when none is. Moves its turn unless {@code explaining}.
   */
  abstract int choose(InstanceLoad[] instances, long eligible, long nowNanos, boolean explaining);

  /**
   * Returns a short description.
   *
   * @return the name, e.g. {@code roundRobin}
   */
  public abstract String describe();

  @Override
  public String toString() {
    return describe();
  }

  static boolean eligible(long mask, int index) {
    return index >= 64 || (mask & (1L << index)) != 0;
  }

  /**
   * Returns power-of-two-choices on a thread-local random source.
   *
   * @return the balancer
   */
  public static Balancer powerOfTwoChoices() {
    return powerOfTwoChoices(bound -> ThreadLocalRandom.current().nextInt(bound));
  }

  /**
   * Returns power-of-two-choices on {@code random}: {@code random.applyAsInt(n)} returns a draw in
   * [0, n) (seed it for a deterministic test).
   *
   * @param random the draws; must be thread-safe
   * @return the balancer
   */
  public static Balancer powerOfTwoChoices(IntUnaryOperator random) {
    requireNonNull(random, "random");
    return new Balancer() {
      @Override
      int choose(InstanceLoad[] instances, long eligible, long nowNanos, boolean explaining) {
        int n = instances.length;
        int count = 0;
        for (int i = 0; i < n; i++) {
          if (eligible(eligible, i)) {
            count++;
          }
        }
        if (count == 0) {
          return -1;
        }
        if (count == 1) {
          for (int i = 0; i < n; i++) {
            if (eligible(eligible, i)) {
              return i;
            }
          }
        }
        int first = nth(instances, eligible, random.applyAsInt(count));
        int second = nth(instances, eligible, (ordinal(eligible, first)
            + 1 + random.applyAsInt(count - 1)) % count);
        return better(instances[first], instances[second], nowNanos) ? first : second;
      }

      @Override
      public String describe() {
        return "powerOfTwoChoices";
      }
    };
  }

  private static boolean better(InstanceLoad a, InstanceLoad b, long nowNanos) {
    long inFlightA = a.inFlight();
    long inFlightB = b.inFlight();
    if (inFlightA != inFlightB) {
      return inFlightA < inFlightB;
    }
    return a.ewmaLatencyNanos(nowNanos) <= b.ewmaLatencyNanos(nowNanos);
  }

  /** The index of the {@code ordinal}-th eligible instance (0-based). */
  private static int nth(InstanceLoad[] instances, long eligible, int ordinal) {
    int seen = 0;
    for (int i = 0; i < instances.length; i++) {
      if (eligible(eligible, i) && seen++ == ordinal) {
        return i;
      }
    }
    throw new IllegalStateException("no eligible instance number " + ordinal);
  }

  /** How many eligible instances come before {@code index}. */
  private static int ordinal(long eligible, int index) {
    int seen = 0;
    for (int i = 0; i < index; i++) {
      if (eligible(eligible, i)) {
        seen++;
      }
    }
    return seen;
  }

  /**
   * Returns round robin over the eligible instances.
   *
   * @return the balancer
   */
  public static Balancer roundRobin() {
    int[] unit = new int[0];
    return weighted("roundRobin", unit);
  }

  /**
   * Returns weighted round robin: instance i gets {@code weights[i]} turns in each round (an
   * instance past the end of {@code weights} gets 1).
   *
   * @param weights one per instance, each 1..1000
   * @return the balancer
   * @throws IllegalArgumentException if a weight is outside 1..1000
   */
  public static Balancer weighted(int... weights) {
    requireNonNull(weights, "weights");
    for (int weight : weights) {
      if (weight < 1 || weight > 1000) {
        throw new IllegalArgumentException("weights must be in 1..1000, got "
            + Arrays.toString(weights));
      }
    }
    return weighted("weighted" + Arrays.toString(weights), weights.clone());
  }

  private static Balancer weighted(String name, int[] weights) {
    AtomicLong turn = new AtomicLong();
    return new Balancer() {
      @Override
      int choose(InstanceLoad[] instances, long eligible, long nowNanos, boolean explaining) {
        int n = instances.length;
        long total = 0;
        for (int i = 0; i < n; i++) {
          if (eligible(eligible, i)) {
            total += weight(i);
          }
        }
        if (total == 0) {
          return -1;
        }
        long t = Math.floorMod(explaining ? turn.get() : turn.getAndIncrement(), total);
        for (int i = 0; i < n; i++) {
          if (eligible(eligible, i)) {
            t -= weight(i);
            if (t < 0) {
              return i;
            }
          }
        }
        throw new AssertionError("unreachable");
      }

      private int weight(int i) {
        return i < weights.length ? weights[i] : 1;
      }

      @Override
      public String describe() {
        return name;
      }
    };
  }
}
