package dev.offload.core.guard;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.google.common.base.Ticker;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.EstimationProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.VerboseResult;
import io.github.bucket4j.local.LocalBucket;
import io.github.bucket4j.local.LocalBucketBuilder;
import io.micrometer.core.instrument.Counter;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * The default buckets: Bucket4j local buckets (lock-free, exact under concurrency) in a Caffeine
 * cache bounded by {@link RateLimitBuckets.Spec#maxBuckets} and expiring after {@link
 * RateLimitBuckets.Spec#idleTimeout}, all on the router's ticker.
 */
final class InMemoryBuckets implements RateLimitBuckets {
  private final RateLimitPolicy[] policies;
  private final Ticker ticker;
  private final Cache<String, LocalBucket> buckets;
  private final LongAdder evicted = new LongAdder();
  private final Counter evictedCounter;

  InMemoryBuckets(Spec spec) {
    this.policies = spec.policies().toArray(new RateLimitPolicy[0]);
    this.ticker = spec.ticker();
    newBucket(""); // Bucket4j's own checks fail the build, not the first request
    this.buckets = Caffeine.newBuilder()
        .maximumSize(spec.maxBuckets())
        .expireAfterAccess(spec.idleTimeout())
        .ticker(ticker::read)
        .executor(Runnable::run)
        .<String, LocalBucket>evictionListener((k, v, cause) -> onEviction(cause))
        .build();
    this.evictedCounter = spec.registry() == null ? null
        : Counter.builder("offload.guard.buckets.evicted")
            .description("rate-limit buckets evicted at the cap; their keys start with full buckets")
            .baseUnit("buckets").tag("guard", spec.name()).register(spec.registry());
  }

  private void onEviction(RemovalCause cause) {
    if (cause == RemovalCause.SIZE) {
      evicted.increment();
      if (evictedCounter != null) {
        evictedCounter.increment();
      }
    }
  }

  @Override
  public Probe tryConsume(String key, long cost) {
    LocalBucket bucket = buckets.get(key, this::newBucket);
    return consume(bucket, policies.length, cost);
  }

  /**
   * Takes {@code cost} tokens from a bucket of {@code policyCount} limits, naming the policy
   * with the fewest tokens left (the verbose call only when there is more than one).
   */
  static Probe consume(Bucket bucket, int policyCount, long cost) {
    ConsumptionProbe probe;
    int least = 0;
    long remaining;
    if (policyCount == 1) {
      probe = bucket.tryConsumeAndReturnRemaining(cost);
      remaining = probe.getRemainingTokens();
    } else {
      VerboseResult<ConsumptionProbe> result = bucket.asVerbose().tryConsumeAndReturnRemaining(cost);
      probe = result.getValue();
      long[] perPolicy = result.getDiagnostics().getAvailableTokensPerEachBandwidth();
      least = leastOf(perPolicy);
      remaining = perPolicy[least];
    }
    return probe(probe, least, remaining);
  }

  /** The probe for Bucket4j's answer. */
  static Probe probe(ConsumptionProbe probe, int least, long remaining) {
    return probe.isConsumed()
        ? new Probe(Probe.Result.CONSUMED, least, Math.max(0, remaining), 0)
        : new Probe(Probe.Result.LIMITED, least, Math.max(0, remaining),
            Math.max(0, probe.getNanosToWaitForRefill()));
  }

  /** The index of the smallest value. */
  static int leastOf(long[] perPolicy) {
    int least = 0;
    for (int i = 1; i < perPolicy.length; i++) {
      if (perPolicy[i] < perPolicy[least]) {
        least = i;
      }
    }
    return least;
  }

  @Override
  public Probe estimate(String key, long cost) {
    LocalBucket bucket = buckets.getIfPresent(key);
    if (bucket == null) {
      return new Probe(Probe.Result.CONSUMED, 0, policies[0].burst(), 0);
    }
    EstimationProbe probe = bucket.estimateAbilityToConsume(cost);
    return probe.canBeConsumed()
        ? new Probe(Probe.Result.CONSUMED, 0, Math.max(0, probe.getRemainingTokens()), 0)
        : new Probe(Probe.Result.LIMITED, 0, Math.max(0, probe.getRemainingTokens()),
            Math.max(0, probe.getNanosToWaitForRefill()));
  }

  @Override
  public Optional<Long> available(String key) {
    LocalBucket bucket = buckets.getIfPresent(key);
    return bucket == null ? Optional.empty() : Optional.of(bucket.getAvailableTokens());
  }

  @Override
  public String describe() {
    return "in-memory";
  }

  long estimatedSize() {
    return buckets.estimatedSize();
  }

  long evicted() {
    return evicted.sum();
  }

  private LocalBucket newBucket(String k) {
    LocalBucketBuilder builder = Bucket.builder();
    for (RateLimitPolicy p : policies) {
      builder.addLimit(limit -> limit.capacity(p.burst()).refillGreedy(p.quota(), p.window())
          .id(p.name()));
    }
    return builder.withCustomTimePrecision(new TickerTimeMeter(ticker)).build();
  }

  /** Bucket4j reads time through this: the router's ticker, never the system clock. */
  private static final class TickerTimeMeter implements TimeMeter {
    private final Ticker ticker;

    TickerTimeMeter(Ticker ticker) {
      this.ticker = ticker;
    }

    @Override
    public long currentTimeNanos() {
      return ticker.read();
    }

    @Override
    public boolean isWallClockBased() {
      return false;
    }
  }
}
