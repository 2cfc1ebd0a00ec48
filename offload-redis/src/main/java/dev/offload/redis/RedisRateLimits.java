package dev.offload.redis;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.common.base.Ticker;
import com.google.common.hash.Hashing;
import dev.offload.core.guard.RateLimitBuckets;
import dev.offload.core.guard.RateLimitBuckets.Probe;
import dev.offload.core.guard.RateLimitPolicy;
import dev.offload.core.internal.Settings;
import dev.offload.core.internal.ThrottledLog;
import dev.offload.redis.internal.RedisMeters;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConfigurationBuilder;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AsyncProxyManager;
import io.github.bucket4j.distributed.proxy.optimization.DelayParameters;
import io.github.bucket4j.distributed.proxy.optimization.Optimization;
import io.github.bucket4j.distributed.proxy.optimization.Optimizations;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Rate-limit buckets in Redis, shared by every gateway of a fleet: the same {@link
 * dev.offload.core.guard.RateLimit} (policies, key, cost, fields) with {@code
 * .buckets(redisRateLimits)}. Each key's buckets are one Redis value changed by Bucket4j's
 * atomic compare-and-swap (a Lua script), so instances never race a check against an increment.
 *
 * <pre>{@code
 * RedisClient redis = RedisClient.create("redis://127.0.0.1:6379");
 * RedisRateLimits shared = RedisRateLimits.builder(redis).meterRegistry(registry).build();
 * RateLimit perClient = RateLimit.builder()
 *     .name("per-client")
 *     .key(KeyResolver.header("X-Api-Key"))
 *     .limit(RateLimitPolicy.of("per-second", 20, Duration.ofSeconds(1)))
 *     .buckets(shared)
 *     .build();
 * }</pre>
 *
 * <h2>Two modes</h2>
 * <ul>
 *   <li><b>Batched</b> (the default; {@code decide} never waits for Redis): Bucket4j's delaying
 *       optimization takes up to {@link Builder#batched maxUnsyncedTokens} tokens per key locally
 *       and sends them to Redis with the next synchronisation (at the latest after {@code
 *       maxUnsyncedTime}). A request whose answer needs Redis is admitted at once on credit,
 *       up to {@code maxUnsyncedTokens} unconfirmed tokens per key; beyond that credit, while
 *       Redis has not answered, a request is refused (429) without being sent. Redis's answer
 *       is remembered: a key Redis found empty is refused locally, without asking Redis again,
 *       until its tokens can be back. <b>Error bound</b>: per instance and key, at most twice
 *       {@code maxUnsyncedTokens} beyond the limit (local batch plus credit; counted as {@code
 *       offload.redis.rate_limit.provisional{outcome=over}}); the other side of it, a burst
 *       that outruns Redis's round-trip is refused beyond the credit ({@code
 *       outcome=refused}). Use the exact mode where neither is acceptable.</li>
 *   <li><b>Exact</b> ({@link Builder#exact(Duration)}): every decision waits for Redis, up to the
 *       timeout, on the deciding thread: exact across the fleet (N admitted of M, whatever the
 *       instance), at the price of one round-trip of I/O inside {@code decide}. Do not use it on
 *       an event loop. {@code explain} says which mode a guard is in.</li>
 * </ul>
 *
 * <h2>When Redis is away</h2>
 * A failed or timed-out command marks Redis away for {@link Builder#retryInterval} (default 1 s):
 * meanwhile decisions do not try Redis and follow the {@link Fallback}: {@link Fallback#LOCAL}
 * (default: this instance's own in-memory buckets with the same policies, so the fleet admits up
 * to its size times the limit), {@link Fallback#FAIL_OPEN} (admit) or {@link Fallback#FAIL_CLOSED}
 * (503 {@code rate limiter unavailable}). Each is counted ({@code offload.redis.fallbacks{guard,
 * mode}}) and logged at most once a minute with a count. Lettuce reconnects by itself; the first
 * decision after the interval tries Redis again.
 *
 * <h2>Keys and time</h2>
 * A key's value lives under {@code offload:rl:{guard:key}} (the hash tag keeps it in one Redis
 * Cluster slot; a key longer than 128 characters is replaced by its SHA-256) and expires once its
 * buckets would be full again. Bucket4j computes refills from the clock of the instance that
 * changes the value, so every instance must read the same time: the {@link Builder#clock} is
 * wall-clock nanoseconds since the epoch (the system's by default, never the router's ticker,
 * whose origin differs from process to process). Keep the fleet's clocks in sync (NTP); a skew
 * of {@code s} seconds moves refills by {@code s}.
 *
 * <p>Thread-safe. One instance (one Redis connection) serves every guard of a gateway; {@link
 * #close} closes the connection.
 */
public final class RedisRateLimits implements RateLimitBuckets.Factory, AutoCloseable {
  /** The default time Redis counts as away after a failed command: one second. */
  public static final Duration DEFAULT_RETRY_INTERVAL = Duration.ofSeconds(1);
  /** The default command timeout: 500 ms. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMillis(500);
  /** The default tokens a batched key may take locally between synchronisations: {@value}. */
  public static final long DEFAULT_MAX_UNSYNCED_TOKENS = 10;
  /** The default longest time between two synchronisations of a batched key: 100 ms. */
  public static final Duration DEFAULT_MAX_UNSYNCED_TIME = Duration.ofMillis(100);

  private static final System.Logger LOG = System.getLogger(RedisRateLimits.class.getName());
  private static final int MAX_KEY_CHARS = 128;

  /** What a guard does while Redis is away. */
  public enum Fallback {
    /** This instance's own in-memory buckets, with the same policies. */
    LOCAL,
    /** Admit every request. */
    FAIL_OPEN,
    /** Refuse every request with 503 {@code rate limiter unavailable}. */
    FAIL_CLOSED
  }

  private final StatefulRedisConnection<byte[], byte[]> connection;
  private final AsyncProxyManager<byte[]> proxies;
  private final Ticker clock;
  private final Duration exactTimeout;
  private final DelayParameters delay;
  private final Fallback fallback;
  private final Duration retryInterval;
  private final MeterRegistry registry;
  private final Set<CompletableFuture<?>> pending = ConcurrentHashMap.newKeySet();

  private RedisRateLimits(Builder b) {
    this.clock = b.clock;
    this.exactTimeout = b.exactTimeout;
    this.delay = new DelayParameters(b.maxUnsyncedTokens, b.maxUnsyncedTime);
    this.fallback = b.fallback;
    this.retryInterval = b.retryInterval;
    this.registry = b.registry;
    this.connection = b.client.connect(ByteArrayCodec.INSTANCE);
    TimeMeter wallClock = new TimeMeter() {
      @Override
      public long currentTimeNanos() {
        return clock.read();
      }

      @Override
      public boolean isWallClockBased() {
        return true;
      }
    };
    this.proxies = Bucket4jLettuce.casBasedBuilder(connection)
        .clientClock(wallClock)
        .requestTimeout(b.commandTimeout)
        .expirationAfterWrite(
            ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(5)))
        .build()
        .asAsync();
  }

  /**
   * Returns a builder that connects through {@code client} when built.
   *
   * @param client the Lettuce client (its URI names the Redis); the caller owns and shuts it down
   * @return a builder
   */
  public static Builder builder(RedisClient client) {
    return new Builder(client);
  }

  @Override
  public RateLimitBuckets create(RateLimitBuckets.Spec spec) {
    return new Buckets(spec);
  }

  /** Completes when every command sent so far has been answered (tests wait on it). */
  CompletableFuture<Void> synced() {
    return CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0]))
        .handle((v, e) -> null);
  }

  /** Closes the Redis connection; guards built on it then follow their fallback. */
  @Override
  public void close() {
    connection.close();
  }

  static byte[] redisKey(String guard, String key) {
    String k = key.length() > MAX_KEY_CHARS
        ? "sha256:" + Hashing.sha256().hashString(key, StandardCharsets.UTF_8)
        : key;
    return ("offload:rl:{" + guard + ":" + k + "}").getBytes(StandardCharsets.UTF_8);
  }

  /** One guard's buckets. */
  private final class Buckets implements RateLimitBuckets {
    private final String name;
    private final RateLimitPolicy[] policies;
    private final BucketConfiguration configuration;
    private final Optimization optimization;
    private final Cache<String, KeyState> keys;
    private final RateLimitBuckets local;
    private final Ticker ticker;
    private final ThrottledLog log;
    private final Counter fallbacks;
    private final Counter provisionalOk;
    private final Counter provisionalOver;
    private final Counter provisionalRefused;
    private final long creditLimit;
    private final String description;
    private volatile long awayUntil = Long.MIN_VALUE;
    private volatile boolean away;

    Buckets(Spec spec) {
      this.name = spec.name();
      this.policies = spec.policies().toArray(new RateLimitPolicy[0]);
      ConfigurationBuilder config = BucketConfiguration.builder();
      for (RateLimitPolicy p : policies) {
        config.addLimit(limit -> limit.capacity(p.burst()).refillGreedy(p.quota(), p.window())
            .id(p.name()));
      }
      this.configuration = config.build();
      this.optimization = exactTimeout != null ? Optimizations.batching()
          : Optimizations.delaying(delay);
      this.ticker = spec.ticker();
      this.keys = Caffeine.newBuilder()
          .maximumSize(spec.maxBuckets())
          .expireAfterAccess(spec.idleTimeout())
          .ticker(ticker::read)
          .executor(Runnable::run)
          .build();
      this.local = fallback == Fallback.LOCAL ? RateLimitBuckets.inMemory().create(spec) : null;
      this.log = new ThrottledLog(LOG, ticker, ThrottledLog.DEFAULT_INTERVAL);
      this.fallbacks = registry == null ? null : Counter.builder("offload.redis.fallbacks")
          .description("rate-limit decisions made without Redis, by the fallback")
          .tag("guard", name).tag("mode", fallback.name().toLowerCase(java.util.Locale.ROOT))
          .register(registry);
      this.provisionalOk = provisional("ok");
      this.provisionalOver = provisional("over");
      this.provisionalRefused = provisional("refused");
      this.creditLimit = Math.max(1, delay.maxUnsynchronizedTokens);
      this.description = "redis, " + (exactTimeout != null
          ? "exact (waits up to " + exactTimeout.toMillis() + "ms)"
          : "batched (up to " + delay.maxUnsynchronizedTokens + " tokens or "
              + TimeUnit.NANOSECONDS.toMillis(delay.maxUnsynchronizedTimeoutNanos)
              + "ms unsynced per key)")
          + ", fallback " + fallback.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The nanoseconds the first policy takes to refill {@code cost} tokens. */
    private long refillNanos(long cost) {
      RateLimitPolicy p = policies[0];
      return Math.max(1, p.window().toNanos() / p.quota() * cost);
    }

    private Counter provisional(String outcome) {
      return registry == null ? null : Counter.builder("offload.redis.rate_limit.provisional")
          .description("requests decided before Redis answered: ok, over (admitted, then Redis"
              + " found the bucket empty), refused (beyond the credit while Redis was asked)")
          .tag("guard", name).tag("outcome", outcome).register(registry);
    }

    @Override
    public Probe tryConsume(String key, long cost) {
      if (isAway()) {
        return fallback(key, cost, null);
      }
      KeyState state = keys.get(key, this::newKey);
      long now = clock.read();
      Probe known = state.knownLimited(now, cost);
      if (known != null) {
        return known; // Redis said so; tokens cannot be back before then, whoever takes them
      }
      if (exactTimeout == null) {
        // credit: tokens of requests decided before Redis answered them. Reserved first, so
        // that concurrent deciders cannot all pass; released when each answer comes
        if (state.credit.addAndGet(cost) > creditLimit && state.inFlight.get() > 0) {
          state.credit.addAndGet(-cost);
          // refuse rather than admit blind, and send nothing: a refused request must not
          // take tokens in Redis
          count(provisionalRefused);
          return new Probe(Probe.Result.LIMITED, 0, 0, refillNanos(cost));
        }
      }
      CompletableFuture<Probe> answer = consume(state, cost);
      if (exactTimeout != null) {
        try {
          return answer.get(exactTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
          return fallback(key, cost, e.getCause());
        } catch (TimeoutException e) {
          return fallback(key, cost, e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return fallback(key, cost, e);
        }
      }
      if (answer.isDone()) {
        state.credit.addAndGet(-cost);
        if (!answer.isCompletedExceptionally()) {
          return answer.join(); // answered locally: the batched tokens were there
        }
        return fallback(key, cost, null);
      }
      pending.add(answer);
      answer.whenComplete((probe, failure) -> {
        state.credit.addAndGet(-cost);
        pending.remove(answer);
        if (probe != null) {
          count(probe.result() == Probe.Result.CONSUMED ? provisionalOk : provisionalOver);
        }
      });
      return new Probe(Probe.Result.CONSUMED, 0, state.lastRemaining, 0); // on credit
    }

    private CompletableFuture<Probe> consume(KeyState state, long cost) {
      state.inFlight.incrementAndGet();
      CompletableFuture<Probe> probe;
      if (policies.length == 1) {
        probe = state.proxy.tryConsumeAndReturnRemaining(cost)
            .thenApply(p -> probe(p, 0, p.getRemainingTokens()));
      } else {
        probe = state.proxy.asVerbose().tryConsumeAndReturnRemaining(cost).thenApply(r -> {
          long[] perPolicy = r.getDiagnostics().getAvailableTokensPerEachBandwidth();
          int least = 0;
          for (int i = 1; i < perPolicy.length; i++) {
            if (perPolicy[i] < perPolicy[least]) {
              least = i;
            }
          }
          return probe(r.getValue(), least, perPolicy[least]);
        });
      }
      return probe.whenComplete((p, failure) -> {
        state.inFlight.decrementAndGet();
        if (failure != null) {
          RedisMeters.command(registry, "ratelimit.consume", RedisMeters.outcome(failure));
          markAway(failure);
        } else {
          RedisMeters.command(registry, "ratelimit.consume", "success");
          state.remember(p, clock.read(), cost);
        }
      });
    }

    private Probe probe(ConsumptionProbe p, int least, long remaining) {
      return p.isConsumed()
          ? new Probe(Probe.Result.CONSUMED, least, Math.max(0, remaining), 0)
          : new Probe(Probe.Result.LIMITED, least, Math.max(0, remaining),
              Math.max(0, p.getNanosToWaitForRefill()));
    }

    private boolean isAway() {
      if (!away) {
        return false;
      }
      if (ticker.read() - awayUntil < 0) {
        return true;
      }
      away = false; // try Redis again
      return false;
    }

    private void markAway(Throwable failure) {
      awayUntil = ticker.read() + retryInterval.toNanos();
      away = true;
      log.log(System.Logger.Level.WARNING, "redis:" + name, "Redis did not answer rate limit '"
          + name + "'; deciding by the " + fallback + " fallback for " + retryInterval, failure);
    }

    private Probe fallback(String key, long cost, Throwable failure) {
      if (failure != null) {
        markAway(failure);
      }
      count(fallbacks);
      return switch (fallback) {
        case LOCAL -> local.tryConsume(key, cost);
        case FAIL_OPEN -> new Probe(Probe.Result.CONSUMED, 0, 0, 0);
        case FAIL_CLOSED -> Probe.UNAVAILABLE;
      };
    }

    @Override
    public Probe estimate(String key, long cost) {
      KeyState state = keys.getIfPresent(key);
      if (state != null) {
        Probe known = state.knownLimited(clock.read(), cost);
        if (known != null) {
          return known;
        }
      }
      return Probe.UNAVAILABLE; // not without asking Redis, which explain does not do
    }

    @Override
    public Optional<Long> available(String key) {
      KeyState state = keys.getIfPresent(key);
      return state == null ? Optional.empty() : Optional.of(state.lastRemaining);
    }

    @Override
    public String describe() {
      return description;
    }

    private KeyState newKey(String key) {
      AsyncBucketProxy proxy = proxies.builder()
          .withOptimization(optimization)
          .build(redisKey(name, key), () -> CompletableFuture.completedFuture(configuration));
      return new KeyState(proxy, policies[0].burst());
    }
  }

  /** What this instance knows of one key: its Bucket4j proxy and Redis's last answer. */
  private static final class KeyState {
    final AsyncBucketProxy proxy;
    /** Commands sent for this key and not answered yet. */
    final AtomicInteger inFlight = new AtomicInteger();
    /** Tokens admitted before Redis confirmed them. */
    final AtomicLong credit = new AtomicLong();
    volatile long lastRemaining;
    private volatile long limitedUntil;
    private volatile long limitedCost = Long.MAX_VALUE;
    private volatile Probe limitedProbe;

    KeyState(AsyncBucketProxy proxy, long burst) {
      this.proxy = proxy;
      this.lastRemaining = burst;
    }

    void remember(Probe p, long now, long cost) {
      lastRemaining = p.remaining();
      if (p.result() == Probe.Result.LIMITED) {
        limitedProbe = p;
        limitedCost = cost;
        limitedUntil = now + p.nanosToWait();
      } else {
        limitedProbe = null;
      }
    }

    /** Redis's refusal while it still holds for {@code cost} at {@code now}; else null. */
    Probe knownLimited(long now, long cost) {
      Probe p = limitedProbe;
      if (p == null || cost < limitedCost || now - limitedUntil >= 0) {
        return null;
      }
      return new Probe(Probe.Result.LIMITED, p.policy(), 0, limitedUntil - now);
    }
  }

  private static void count(Counter counter) {
    if (counter != null) {
      counter.increment();
    }
  }

  /**
   * Builds {@link RedisRateLimits}: batched, falling back to local buckets, unless told.
   * Not thread-safe.
   */
  public static final class Builder {
    private final RedisClient client;
    private Ticker clock = new Ticker() {
      @Override
      public long read() {
        return System.currentTimeMillis() * 1_000_000L;
      }
    };
    private Duration exactTimeout;
    private long maxUnsyncedTokens = DEFAULT_MAX_UNSYNCED_TOKENS;
    private Duration maxUnsyncedTime = DEFAULT_MAX_UNSYNCED_TIME;
    private Fallback fallback = Fallback.LOCAL;
    private Duration retryInterval = DEFAULT_RETRY_INTERVAL;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private MeterRegistry registry;

    private Builder(RedisClient client) {
      this.client = requireNonNull(client, "client");
    }

    /**
     * Makes every decision wait for Redis, up to {@code timeout}: exact across the fleet, one
     * round-trip of I/O inside {@code decide}. A timeout follows the fallback.
     *
     * @param timeout the longest wait for Redis per decision
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder exact(Duration timeout) {
      this.exactTimeout = Settings.positive("timeout", timeout);
      return this;
    }

    /**
     * Sets the batched mode's bound (the default mode): per key, up to {@code maxUnsyncedTokens}
     * tokens are taken locally, and synchronised with Redis at the latest after {@code
     * maxUnsyncedTime}. Larger values mean fewer Redis commands and a larger error bound.
     *
     * @param maxUnsyncedTokens tokens taken locally between two synchronisations; 0 for none
     * @param maxUnsyncedTime the longest time between two synchronisations
     * @return this builder
     * @throws IllegalArgumentException if {@code maxUnsyncedTokens} is negative or the time not
     *     positive
     */
    public Builder batched(long maxUnsyncedTokens, Duration maxUnsyncedTime) {
      if (maxUnsyncedTokens < 0) {
        throw new IllegalArgumentException(
            "maxUnsyncedTokens must not be negative, got " + maxUnsyncedTokens);
      }
      this.maxUnsyncedTokens = maxUnsyncedTokens;
      this.maxUnsyncedTime = Settings.positive("maxUnsyncedTime", maxUnsyncedTime);
      this.exactTimeout = null;
      return this;
    }

    /**
     * Sets what a guard does while Redis is away. Default {@link Fallback#LOCAL}.
     *
     * @param fallback the fallback
     * @return this builder
     */
    public Builder fallback(Fallback fallback) {
      this.fallback = requireNonNull(fallback, "fallback");
      return this;
    }

    /**
     * Sets how long Redis counts as away after a failed command. Default 1 s.
     *
     * @param interval the interval
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder retryInterval(Duration interval) {
      this.retryInterval = Settings.positive("retryInterval", interval);
      return this;
    }

    /**
     * Sets the timeout of each Redis command (Bucket4j's request timeout). Default 500 ms.
     *
     * @param timeout the timeout
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder commandTimeout(Duration timeout) {
      this.commandTimeout = Settings.positive("commandTimeout", timeout);
      return this;
    }

    /**
     * Sets the clock the buckets' refills are computed on: nanoseconds since the epoch, the same
     * on every instance (tests give the instances one fake clock). Default: the system's wall
     * clock in milliseconds.
     *
     * @param wallClockNanos the clock
     * @return this builder
     */
    public Builder clock(Ticker wallClockNanos) {
      this.clock = requireNonNull(wallClockNanos, "wallClockNanos");
      return this;
    }

    /**
     * Binds {@code offload.redis.commands}, {@code offload.redis.fallbacks} and {@code
     * offload.redis.rate_limit.provisional}. Default: none.
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Connects to Redis and returns the factory to give {@code RateLimit.Builder.buckets}.
     *
     * @return the factory
     * @throws io.lettuce.core.RedisConnectionException if Redis cannot be reached now
     */
    public RedisRateLimits build() {
      return new RedisRateLimits(this);
    }
  }
}
