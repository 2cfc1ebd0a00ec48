package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where a {@link RateLimit} keeps its token buckets: {@linkplain #inMemory() in this process}
 * (the default) or in a store shared by a fleet of gateways (offload-redis). The guard resolves
 * the key and the cost and turns a {@link Probe} into its verdict and fields; the buckets only
 * take tokens.
 *
 * <p>Contract: {@link #tryConsume} runs inside {@code decide}, on request threads and event
 * loops: an implementation must not block for longer than it documents (the in-memory one never
 * blocks); {@link #estimate} takes nothing, creates nothing and, when it cannot answer without
 * I/O, says so rather than blocking. Implementations are thread-safe.
 */
public interface RateLimitBuckets {
  /**
   * Takes {@code cost} tokens from every policy's bucket of {@code key} at once, or none.
   *
   * @param key the resolved key, never null
   * @param cost the tokens to take, at least 1
   * @return what happened
   */
  Probe tryConsume(String key, long cost);

  /**
   * Says whether {@code cost} tokens are there now, taking none (for {@code explain}).
   *
   * @param key the resolved key
   * @param cost the tokens that would be taken, at least 1
   * @return {@link Probe.Result#CONSUMED} when they could be taken, {@link Probe.Result#LIMITED}
   *     when not; {@link Probe.Result#UNAVAILABLE} when the store cannot tell without waiting
   */
  Probe estimate(String key, long cost);

  /**
   * Returns the tokens left in {@code key}'s buckets, for an explanation: the policy with the
   * fewest, or empty when the key has no bucket here yet (or the store cannot tell at once).
   *
   * @param key the resolved key
   * @return the tokens left, or empty
   */
  Optional<Long> available(String key);

  /**
   * Returns how these buckets work, for {@code explain} and {@code describe}: for example {@code
   * "in-memory"} or {@code "redis, exact (waits up to 50ms)"}.
   *
   * @return a short description
   */
  String describe();

  /**
   * Returns the default factory: buckets in this process (Bucket4j local buckets in a bounded
   * Caffeine cache on the router's ticker).
   *
   * @return the in-memory factory
   */
  static Factory inMemory() {
    return InMemoryBuckets::new;
  }

  /**
   * Makes the buckets of one {@link RateLimit} when it is built.
   */
  @FunctionalInterface
  interface Factory {
    /**
     * Makes the buckets for the guard that {@code spec} describes.
     *
     * @param spec the guard's name, policies, bounds and clock
     * @return the buckets
     */
    RateLimitBuckets create(Spec spec);
  }

  /**
   * What a {@link RateLimit} asks of its buckets.
   *
   * @param name the guard's name (metrics, keys in a shared store)
   * @param policies the policies, in order; a probe's {@code policy} indexes this list
   * @param maxBuckets the cap on keys kept in this process
   * @param idleTimeout how long an unused key's bucket is kept (at least the time the slowest
   *     policy's bucket takes to fill)
   * @param ticker the router's ticker (bound when the guard first runs)
   * @param registry the meter registry, or null
   */
  record Spec(String name, List<RateLimitPolicy> policies, long maxBuckets, Duration idleTimeout,
      Ticker ticker, MeterRegistry registry) {
    /**
     * Checks and copies the parts.
     *
     * @param name the guard's name
     * @param policies the policies, in order
     * @param maxBuckets the cap on keys kept in this process
     * @param idleTimeout how long an unused key's bucket is kept
     * @param ticker the router's ticker
     * @param registry the meter registry, or null
     * @throws NullPointerException if a part other than {@code registry} is null
     * @throws IllegalArgumentException if there is no policy
     */
    public Spec {
      requireNonNull(name, "name");
      policies = List.copyOf(policies);
      if (policies.isEmpty()) {
        throw new IllegalArgumentException("a rate limit needs at least one policy");
      }
      requireNonNull(idleTimeout, "idleTimeout");
      requireNonNull(ticker, "ticker");
    }
  }

  /**
   * The answer of {@link #tryConsume} or {@link #estimate}.
   *
   * @param result whether the tokens were taken
   * @param policy the index of the policy with the fewest tokens left (for the {@code RateLimit}
   *     field)
   * @param remaining the tokens left in that policy's bucket, at least 0
   * @param nanosToWait when limited, the nanoseconds until {@code cost} tokens are there; else 0
   */
  record Probe(Result result, int policy, long remaining, long nanosToWait) {
    /**
     * Checks the parts.
     *
     * @param result whether the tokens were taken
     * @param policy the index of the policy with the fewest tokens left
     * @param remaining the tokens left in that policy's bucket
     * @param nanosToWait when limited, the nanoseconds until the tokens are there; else 0
     * @throws NullPointerException if {@code result} is null
     * @throws IllegalArgumentException if a number is negative
     */
    public Probe {
      requireNonNull(result, "result");
      if (policy < 0 || remaining < 0 || nanosToWait < 0) {
        throw new IllegalArgumentException("negative probe: policy " + policy + ", remaining "
            + remaining + ", nanosToWait " + nanosToWait);
      }
    }

    /** The store cannot answer (a shared store that is unreachable, failing closed). */
    public static final Probe UNAVAILABLE = new Probe(Result.UNAVAILABLE, 0, 0, 0);

    /** What happened to the tokens. */
    public enum Result {
      /** Taken (or, from {@code estimate}, there to take). */
      CONSUMED,
      /** Not enough tokens: the request is limited. */
      LIMITED,
      /** The store could not answer; the guard answers 503 (a store that fails closed). */
      UNAVAILABLE
    }
  }
}
