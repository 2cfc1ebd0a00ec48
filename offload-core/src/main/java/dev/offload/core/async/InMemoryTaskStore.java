package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.google.common.base.Ticker;
import dev.offload.core.internal.Settings;
import java.time.Duration;
import java.util.Optional;

/**
 * The default {@link TaskStore}: Caffeine caches in this process, on an injected ticker. Final
 * tasks are kept until their {@link TaskSnapshot#expiresAtNanos()} and bounded by the bytes
 * their results hold ({@link Builder#maxResultBytes}); a task that is not final weighs nothing
 * and never expires, so an accepted task is never evicted before it reaches a final state. An
 * expired or evicted task is remembered without its result (for 410 Gone) for {@link
 * Builder#expiredRetention}; idempotency keys are kept for {@link Builder#keyRetention}.
 *
 * <pre>{@code
 * TaskStore store = InMemoryTaskStore.builder()
 *     .maxResultBytes(256L << 20)
 *     .ticker(ticker)            // the router's
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe; tasks are lost when the process stops.
 */
public final class InMemoryTaskStore implements TaskStore {
  /** Default bound on the result bytes kept: 64 MiB. */
  public static final long DEFAULT_MAX_RESULT_BYTES = 64L << 20;
  /** Default time an expired task is remembered for 410 Gone: one hour. */
  public static final Duration DEFAULT_EXPIRED_RETENTION = Duration.ofHours(1);
  /** Default number of expired tasks remembered: 100,000. */
  public static final long DEFAULT_MAX_EXPIRED = 100_000;
  /** Default time an idempotency key maps to its task: 24 hours. */
  public static final Duration DEFAULT_KEY_RETENTION = Duration.ofHours(24);
  /** Default number of idempotency keys kept: 100,000. */
  public static final long DEFAULT_MAX_KEYS = 100_000;
  /** What a final task weighs besides its result's bytes. */
  private static final int OVERHEAD_BYTES = 256;

  private final Cache<String, TaskSnapshot> tasks;
  private final Cache<String, TaskSnapshot> expired;
  private final Cache<String, String> keys;

  private InMemoryTaskStore(Builder b) {
    com.github.benmanes.caffeine.cache.Ticker ticker = b.ticker::read;
    this.expired = Caffeine.newBuilder()
        .ticker(ticker)
        .executor(Runnable::run)
        .maximumSize(b.maxExpired)
        .expireAfterWrite(b.expiredRetention)
        .build();
    this.tasks = Caffeine.newBuilder()
        .ticker(ticker)
        .executor(Runnable::run) // evictions happen on the caller's thread: deterministic
        .maximumWeight(b.maxResultBytes)
        .<String, TaskSnapshot>weigher((id, task) ->
            task.state().isFinal() ? OVERHEAD_BYTES + task.resultBytes() : 0)
        .expireAfter(new UntilExpiry())
        .evictionListener((String id, TaskSnapshot task, com.github.benmanes.caffeine.cache
            .RemovalCause cause) -> {
          if (id != null && task != null) {
            expired.put(id, task.withoutResult());
          }
        })
        .build();
    this.keys = Caffeine.newBuilder()
        .ticker(ticker)
        .executor(Runnable::run)
        .maximumSize(b.maxKeys)
        .expireAfterWrite(b.keyRetention)
        .build();
  }

  /**
   * Returns a builder with the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void put(TaskSnapshot task) {
    tasks.put(requireNonNull(task, "task").id(), task);
  }

  @Override
  public Optional<TaskSnapshot> get(String id) {
    return Optional.ofNullable(tasks.getIfPresent(requireNonNull(id, "id")));
  }

  @Override
  public Optional<TaskSnapshot> expired(String id) {
    requireNonNull(id, "id");
    tasks.cleanUp(); // moves what expired by now into the expired cache
    return Optional.ofNullable(expired.getIfPresent(id));
  }

  @Override
  public void remove(String id) {
    tasks.invalidate(requireNonNull(id, "id"));
  }

  @Override
  public Optional<String> claimKey(String key, String id) {
    requireNonNull(key, "key");
    requireNonNull(id, "id");
    String holder = keys.asMap().compute(key, (k, current) ->
        current == null || current.equals(id) || !known(current) ? id : current);
    return id.equals(holder) ? Optional.empty() : Optional.of(holder);
  }

  @Override
  public void releaseKey(String key, String id) {
    keys.asMap().remove(requireNonNull(key, "key"), requireNonNull(id, "id"));
  }

  /** A key whose task is neither kept nor remembered is stale: it may be claimed anew. */
  private boolean known(String id) {
    return tasks.getIfPresent(id) != null || expired.getIfPresent(id) != null;
  }

  @Override
  public String toString() {
    return "InMemoryTaskStore(" + tasks.estimatedSize() + " tasks)";
  }

  /** Expires a final task at its {@code expiresAtNanos}; one that is not final never. */
  private static final class UntilExpiry implements Expiry<String, TaskSnapshot> {
    @Override
    public long expireAfterCreate(String id, TaskSnapshot task, long now) {
      return task.state().isFinal() ? Math.max(0, task.expiresAtNanos() - now) : Long.MAX_VALUE;
    }

    @Override
    public long expireAfterUpdate(String id, TaskSnapshot task, long now, long remaining) {
      return expireAfterCreate(id, task, now);
    }

    @Override
    public long expireAfterRead(String id, TaskSnapshot task, long now, long remaining) {
      return remaining;
    }
  }

  /** Builds an {@link InMemoryTaskStore}. Not thread-safe. */
  public static final class Builder {
    private Ticker ticker = Ticker.systemTicker();
    private long maxResultBytes = DEFAULT_MAX_RESULT_BYTES;
    private Duration expiredRetention = DEFAULT_EXPIRED_RETENTION;
    private long maxExpired = DEFAULT_MAX_EXPIRED;
    private Duration keyRetention = DEFAULT_KEY_RETENTION;
    private long maxKeys = DEFAULT_MAX_KEYS;

    private Builder() {}

    /**
     * Sets the clock expiry is measured on: the router's ticker (a fake one in tests); the same
     * one the pools using this store run on.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets the bound on the result bytes kept; beyond it the least recently used final tasks are
     * evicted early (and answered 410). Default {@value #DEFAULT_MAX_RESULT_BYTES}.
     *
     * @param bytes the bound, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is not positive
     */
    public Builder maxResultBytes(long bytes) {
      this.maxResultBytes = positive("maxResultBytes", bytes);
      return this;
    }

    /**
     * Sets how long an expired task is remembered, so that its id is answered 410 rather than
     * 404. Default one hour.
     *
     * @param retention the time, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code retention} is not positive
     */
    public Builder expiredRetention(Duration retention) {
      this.expiredRetention = Settings.positive("expiredRetention", retention);
      return this;
    }

    /**
     * Sets how many expired tasks are remembered. Default {@value #DEFAULT_MAX_EXPIRED}.
     *
     * @param count the bound, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code count} is not positive
     */
    public Builder maxExpired(long count) {
      this.maxExpired = positive("maxExpired", count);
      return this;
    }

    /**
     * Sets how long an idempotency key maps to its task. Default 24 hours.
     *
     * @param retention the time, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code retention} is not positive
     */
    public Builder keyRetention(Duration retention) {
      this.keyRetention = Settings.positive("keyRetention", retention);
      return this;
    }

    /**
     * Sets how many idempotency keys are kept. Default {@value #DEFAULT_MAX_KEYS}.
     *
     * @param count the bound, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code count} is not positive
     */
    public Builder maxKeys(long count) {
      this.maxKeys = positive("maxKeys", count);
      return this;
    }

    /**
     * Returns the store.
     *
     * @return a new store
     */
    public InMemoryTaskStore build() {
      return new InMemoryTaskStore(this);
    }

    private static long positive(String setting, long value) {
      if (value <= 0) {
        throw new IllegalArgumentException(setting + " must be positive, got " + value);
      }
      return value;
    }
  }
}
