package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.DecisionContext;
import dev.offload.core.Guard;
import dev.offload.core.GuardVerdict;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Route;
import dev.offload.core.internal.Settings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * A guard that limits the rate of requests per key with token buckets (Bucket4j, on the
 * router's ticker), answering 429 with {@code Retry-After} and the IETF {@code RateLimit} and
 * {@code RateLimit-Policy} fields.
 *
 * <pre>{@code
 * RateLimit perClient = RateLimit.builder()
 *     .name("per-client")
 *     .key(KeyResolver.header("X-Api-Key").orElse(KeyResolver.clientAddress()))
 *     .limit(RateLimitPolicy.of("per-second", 10, Duration.ofSeconds(1)).withBurst(20))
 *     .limit(RateLimitPolicy.of("per-hour", 1000, Duration.ofHours(1)))
 *     .cost(request -> request.method().equals("POST") ? 5 : 1)
 *     .meterRegistry(registry)
 *     .build();
 * OffloadRouter.builder().guard("per-client", perClient)...
 * }</pre>
 *
 * <h2>What a request gets</h2>
 * Each key has one bucket per policy, all consumed at once (a request is admitted only when
 * every policy has {@code cost} tokens). A limited request is denied with 429 {@code rate limit
 * exceeded}, {@code Retry-After} (whole seconds until enough tokens are back, rounded up, at
 * least 1), {@code RateLimit-Policy} (every policy: {@code "per-second";q=10;w=1,
 * "per-hour";q=1000;w=3600}) and {@code RateLimit} (the policy with the fewest tokens left:
 * {@code "per-second";r=0;t=1}, where {@code t} is the seconds until its bucket is full
 * again), following draft-ietf-httpapi-ratelimit-headers-10. Admitted responses carry the two
 * {@code RateLimit} fields too, unless {@link Builder#responseHeaders(boolean)} is off. A request
 * the key resolver has no key for, or outside {@link Builder#appliesTo(Route)}, is admitted
 * untouched.
 *
 * <h2>Memory: idle buckets and the cap</h2>
 * Buckets live in a Caffeine cache on the same ticker. A bucket not used for {@link
 * Builder#idleTimeout} (by default the time an empty bucket of the slowest policy takes to fill)
 * is dropped: it was full again anyway, so nothing is lost. At most {@link Builder#maxBuckets}
 * buckets are kept, so a flood of distinct keys cannot exhaust the heap. At the cap Caffeine
 * evicts by recency and frequency (Window TinyLFU: mostly the least recently used, but a key seen
 * once rarely displaces a key in steady use); <b>an evicted key starts again with full
 * buckets</b>. Each such eviction is counted ({@code offload.guard.buckets.evicted}); if it
 * grows, raise the cap.
 *
 * <h2>Shadow mode and explaining</h2>
 * In {@linkplain Builder#shadow(boolean) shadow mode} a request over the limit is counted as
 * {@code shadow_limited} and admitted, without {@code RateLimit} fields. While {@link
 * DecisionContext#explaining()} the guard reports whether {@code cost} tokens are available
 * ({@code estimateAbilityToConsume}) and takes none, counts nothing and creates no bucket.
 *
 * <p>Exact under concurrency: N threads hammering one key get exactly the allowed number of
 * admissions (Bucket4j's lock-free buckets). Thread-safe; build one per router and keep it: its
 * buckets are its state. It runs on the ticker of the router it is added to (or {@link
 * Builder#ticker}); adding one instance to two routers with different tickers fails its checks.
 */
public final class RateLimit implements Guard {
  /** The default cap on the number of keys with buckets: {@value}. */
  public static final long DEFAULT_MAX_BUCKETS = 100_000;
  /** The default key: {@link KeyResolver#clientAddress()}. */
  public static final KeyResolver DEFAULT_KEY = KeyResolver.clientAddress();
  /** The default name, used in metrics and explanations: {@value}. */
  public static final String DEFAULT_NAME = "rate-limit";

  private static final String LIMITED_REASON = "rate limit exceeded";
  private static final String UNAVAILABLE_REASON = "rate limiter unavailable";
  /** Admitted verdicts kept per policy, by tokens remaining (a power of two). */
  private static final int CACHED_VERDICTS = 64;

  private final String name;
  private final RateLimitPolicy[] policies;
  private final KeyResolver key;
  private final ToLongFunction<OffloadRequest> cost;
  private final Predicate<OffloadRequest> scope;
  private final boolean shadow;
  private final boolean responseHeaders;
  private final String policyField;
  private final Ticker fixedTicker;
  private volatile Ticker ticker;
  private final RateLimitBuckets buckets;
  private final Counter admitted;
  private final Counter limited;
  private final Counter shadowLimited;
  private final Counter unavailable;
  private final String description;
  private final Admitted[][] admittedVerdicts;

  private RateLimit(Builder b) {
    this.name = b.name;
    this.policies = b.policies.toArray(new RateLimitPolicy[0]);
    this.key = b.key;
    this.cost = b.cost;
    this.scope = b.scope;
    this.shadow = b.shadow;
    this.responseHeaders = b.responseHeaders;
    this.fixedTicker = b.ticker;
    this.ticker = b.ticker;
    StringBuilder field = new StringBuilder();
    for (RateLimitPolicy p : policies) {
      if (field.length() > 0) {
        field.append(", ");
      }
      field.append('"').append(p.name()).append("\";q=").append(p.quota())
          .append(";w=").append(p.window().getSeconds());
    }
    this.policyField = field.toString();
    this.admittedVerdicts = new Admitted[policies.length][CACHED_VERDICTS];
    MeterRegistry registry = b.registry;
    Ticker lazy = new Ticker() {
      @Override
      public long read() {
        return readTicker();
      }
    };
    this.buckets = requireNonNull(b.buckets.create(new RateLimitBuckets.Spec(name, b.policies,
        b.maxBuckets, b.idleTimeout(policies), lazy, registry)), "buckets");
    if (registry != null) {
      this.admitted = decisions(registry, "admitted");
      this.limited = decisions(registry, "limited");
      this.shadowLimited = decisions(registry, "shadow_limited");
      this.unavailable = decisions(registry, "unavailable");
    } else {
      this.admitted = null;
      this.limited = null;
      this.shadowLimited = null;
      this.unavailable = null;
    }
    String where = buckets.describe();
    this.description = "RateLimit(" + name + ": " + policyField + (shadow ? ", shadow" : "")
        + (where.equals("in-memory") ? "" : ", " + where) + ")";
  }

  private Counter decisions(MeterRegistry registry, String result) {
    return GuardMetrics.decisions(registry, name, result);
  }

  /**
   * Returns a builder.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  private long readTicker() {
    Ticker t = ticker;
    return t == null ? 0L : t.read();
  }

  @Override
  public GuardVerdict check(OffloadRequest request, DecisionContext context) {
    if (!scope.test(request)) {
      return GuardVerdict.admit();
    }
    String k = key.resolve(request);
    if (k == null) {
      if (context.explaining()) {
        context.note(name + ".key", "none: not limited");
      }
      return GuardVerdict.admit();
    }
    long n = cost.applyAsLong(request);
    if (n < 0) {
      throw new IllegalStateException("cost of " + request + " is negative: " + n);
    }
    bind(context.ticker());
    if (context.explaining()) {
      return explain(k, n, context);
    }
    if (n == 0) {
      count(admitted);
      return GuardVerdict.admit();
    }
    RateLimitBuckets.Probe probe = buckets.tryConsume(k, n);
    int least = probe.policy();
    long remaining = probe.remaining();
    if (probe.result() == RateLimitBuckets.Probe.Result.CONSUMED) {
      count(admitted);
      return responseHeaders ? admitted(least, remaining) : GuardVerdict.admit();
    }
    if (probe.result() == RateLimitBuckets.Probe.Result.UNAVAILABLE) {
      count(unavailable); // the shared store is away and its buckets fail closed
      return GuardVerdict.deny(503, UNAVAILABLE_REASON, Headers.of("Retry-After", "1"));
    }
    if (shadow) {
      count(shadowLimited);
      return GuardVerdict.admit();
    }
    count(limited);
    return GuardVerdict.deny(429, LIMITED_REASON, Headers.of(
        "Retry-After", Long.toString(retryAfterSeconds(probe.nanosToWait())),
        "RateLimit", field(least, remaining),
        "RateLimit-Policy", policyField));
  }

  private GuardVerdict explain(String k, long n, DecisionContext context) {
    context.note(name + ".key", k);
    context.note(name + ".cost", n);
    context.note(name + ".buckets", buckets.describe());
    Optional<Long> available = buckets.available(k);
    if (available.isEmpty() || n == 0) {
      context.note(name + ".available", available.isEmpty() ? "full: no bucket yet" : "cost 0");
      return GuardVerdict.admit();
    }
    context.note(name + ".available", available.get());
    RateLimitBuckets.Probe probe = buckets.estimate(k, n);
    if (probe.result() != RateLimitBuckets.Probe.Result.LIMITED) {
      return GuardVerdict.admit();
    }
    if (shadow) {
      context.note(name + ".shadow", "would be limited");
      return GuardVerdict.admit();
    }
    return GuardVerdict.deny(429, LIMITED_REASON, Headers.of(
        "Retry-After", Long.toString(retryAfterSeconds(probe.nanosToWait())),
        "RateLimit-Policy", policyField));
  }

  private void bind(Ticker routerTicker) {
    Ticker t = ticker;
    if (t == null) {
      synchronized (this) {
        if (ticker == null) {
          ticker = routerTicker;
        }
        t = ticker;
      }
    }
    if (t != routerTicker && fixedTicker == null) {
      throw new IllegalStateException("RateLimit '" + name + "' runs on the ticker of the first"
          + " router that used it; build one RateLimit per router");
    }
  }

  /**
   * The admitted verdict with its fields, which depend only on the policy and the tokens left:
   * kept in a small direct-mapped table, so a client below its limit (whose bucket stays at the
   * same level) costs no allocation. Racy by design: entries are immutable, a lost write only
   * means building one again.
   */
  private GuardVerdict admitted(int policy, long remaining) {
    Admitted[] slots = admittedVerdicts[policy];
    int slot = (int) (remaining & (CACHED_VERDICTS - 1));
    Admitted cached = slots[slot];
    if (cached != null && cached.remaining == remaining) {
      return cached.verdict;
    }
    GuardVerdict verdict = GuardVerdict.admit().withResponseHeaders(
        Headers.of("RateLimit", field(policy, remaining), "RateLimit-Policy", policyField));
    slots[slot] = new Admitted(remaining, verdict);
    return verdict;
  }

  private record Admitted(long remaining, GuardVerdict verdict) {}

  private String field(int policy, long remaining) {
    RateLimitPolicy p = policies[policy];
    long reset = ceilSeconds(p.nanosToFill(p.burst() - remaining));
    return "\"" + p.name() + "\";r=" + remaining + ";t=" + reset;
  }

  /** Whole seconds until a token, rounded up, at least 1 ({@code Retry-After: 0} invites a storm). */
  static long retryAfterSeconds(long nanos) {
    return Math.max(1, ceilSeconds(nanos));
  }

  private static long ceilSeconds(long nanos) {
    if (nanos <= 0) {
      return 0;
    }
    long s = TimeUnit.NANOSECONDS.toSeconds(nanos);
    return s * 1_000_000_000L < nanos ? s + 1 : s;
  }

  private static void count(Counter counter) {
    if (counter != null) {
      counter.increment();
    }
  }

  /**
   * Returns the number of keys that have buckets now (an estimate, as Caffeine's).
   *
   * @return the number of keys that have buckets now (an estimate, as Caffeine's)
   */
  public long estimatedBuckets() {
    return buckets instanceof InMemoryBuckets local ? local.estimatedSize() : 0;
  }

  /**
   * Returns how many buckets were evicted at {@link Builder#maxBuckets}, since built.
   *
   * @return how many buckets were evicted at {@link Builder#maxBuckets}, since built
   */
  public long evictedBuckets() {
    return buckets instanceof InMemoryBuckets local ? local.evicted() : 0;
  }

  /**
   * Returns this guard's name, as in its metrics.
   *
   * @return this guard's name, as in its metrics
   */
  public String name() {
    return name;
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public String toString() {
    return description;
  }

  /**
   * Builds a {@link RateLimit}: at least one {@link #limit}; everything else has a default. Not
   * thread-safe.
   */
  public static final class Builder {
    private String name = DEFAULT_NAME;
    private final List<RateLimitPolicy> policies = new ArrayList<>();
    private KeyResolver key = DEFAULT_KEY;
    private ToLongFunction<OffloadRequest> cost = request -> 1L;
    private Predicate<OffloadRequest> scope = request -> true;
    private boolean shadow;
    private boolean responseHeaders = true;
    private long maxBuckets = DEFAULT_MAX_BUCKETS;
    private Duration idleTimeout;
    private Ticker ticker;
    private MeterRegistry registry;
    private RateLimitBuckets.Factory buckets = RateLimitBuckets.inMemory();

    private Builder() {}

    /**
     * Sets where the buckets live: {@link RateLimitBuckets#inMemory()} (the default) or a store
     * shared by a fleet of gateways, such as offload-redis's {@code RedisRateLimits}. The
     * policies, key, cost, scope and response fields are the same wherever the buckets are.
     *
     * @param buckets the factory of the buckets
     * @return this builder
     */
    public Builder buckets(RateLimitBuckets.Factory buckets) {
      this.buckets = requireNonNull(buckets, "buckets");
      return this;
    }

    /**
     * Sets the name in metrics ({@code guard} tag) and explanations; use the name you give the
     * router for this guard. Default {@value #DEFAULT_NAME}.
     *
     * @param name the name
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder name(String name) {
      this.name = Settings.notBlank("name", name);
      return this;
    }

    /**
     * Adds a policy; a request needs a token from every one.
     *
     * @param policy the policy
     * @return this builder
     * @throws IllegalArgumentException if a policy with the same name was added
     */
    public Builder limit(RateLimitPolicy policy) {
      requireNonNull(policy, "policy");
      for (RateLimitPolicy p : policies) {
        if (p.name().equals(policy.name())) {
          throw new IllegalArgumentException("duplicate policy name '" + policy.name() + "'");
        }
      }
      policies.add(policy);
      return this;
    }

    /**
     * Sets what requests are counted against (default {@link KeyResolver#clientAddress()}).
     *
     * @param key the key
     * @return this builder
     */
    public Builder key(KeyResolver key) {
      this.key = requireNonNull(key, "key");
      return this;
    }

    /**
     * Sets the tokens a request takes (default 1). A cost of 0 admits without taking any; a
     * negative cost fails the guard (the router answers 500). A cost above a policy's burst is
     * never admitted.
     *
     * @param cost the cost
     * @return this builder
     */
    public Builder cost(ToLongFunction<OffloadRequest> cost) {
      this.cost = requireNonNull(cost, "cost");
      return this;
    }

    /**
     * Limits only requests that {@code route} takes; others pass untouched.
     *
     * @param route the route
     * @return this builder
     */
    public Builder appliesTo(Route route) {
      requireNonNull(route, "route");
      return appliesWhen(route::matches);
    }

    /**
     * Limits only requests for which {@code when} holds; others pass untouched.
     *
     * @param when which requests the limit applies to
     * @return this builder
     */
    public Builder appliesWhen(Predicate<OffloadRequest> when) {
      this.scope = requireNonNull(when, "when");
      return this;
    }

    /**
     * Counts but never enforces: over-limit requests are admitted (default off).
     *
     * @param shadow the shadow
     * @return this builder
     */
    public Builder shadow(boolean shadow) {
      this.shadow = shadow;
      return this;
    }

    /**
     * Whether admitted responses carry {@code RateLimit} fields (default on).
     *
     * @param enabled whether it is on
     * @return whether admitted responses carry {@code RateLimit} fields (default on)
     */
    public Builder responseHeaders(boolean enabled) {
      this.responseHeaders = enabled;
      return this;
    }

    /**
     * Sets the most keys with buckets (default {@value #DEFAULT_MAX_BUCKETS}); at the cap a bucket
     * is evicted and its key starts with full buckets.
     *
     * @param maxBuckets the max buckets
     * @return this builder
     * @throws IllegalArgumentException if less than 1
     */
    public Builder maxBuckets(long maxBuckets) {
      if (maxBuckets < 1) {
        throw new IllegalArgumentException("maxBuckets must be at least 1, got " + maxBuckets);
      }
      this.maxBuckets = maxBuckets;
      return this;
    }

    /**
     * Sets how long an unused bucket is kept; default, and least, the time the slowest policy's
     * empty bucket takes to fill (a shorter timeout would hand a fresh bucket to a client that
     * emptied its own); checked by {@link #build()}.
     *
     * @param idleTimeout the idle timeout
     * @return this builder
     */
    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = Settings.positive("idleTimeout", idleTimeout);
      return this;
    }

    /**
     * Sets the clock (default: the ticker of the router the guard runs in).
     *
     * @param ticker the clock
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Binds {@code offload.guard.decisions} and {@code offload.guard.buckets.evicted} (default:
     * none, no metrics work).
     *
     * @param registry the meter registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    private Duration idleTimeout(RateLimitPolicy[] policies) {
      long fill = 0;
      for (RateLimitPolicy p : policies) {
        fill = Math.max(fill, p.nanosToFill(p.burst()));
      }
      Duration least = Duration.ofNanos(fill);
      if (idleTimeout == null) {
        return least;
      }
      if (idleTimeout.compareTo(least) < 0) {
        throw new IllegalArgumentException("idleTimeout must be at least " + least
            + " (the time the slowest policy's bucket takes to fill), got " + idleTimeout);
      }
      return idleTimeout;
    }

    /**
     * Returns the guard.
     *
     * @return the guard
     * @throws IllegalStateException if no policy was added
     * @throws IllegalArgumentException if {@link #idleTimeout} is shorter than a bucket's refill
     */
    public RateLimit build() {
      if (policies.isEmpty()) {
        throw new IllegalStateException("a RateLimit needs at least one limit(...)");
      }
      return new RateLimit(this);
    }
  }
}
