package dev.offload.redis.tasks;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import com.google.common.hash.Hashing;
import dev.offload.core.async.TaskSnapshot;
import dev.offload.core.async.TaskStore;
import dev.offload.core.internal.Settings;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * A {@link TaskStore} in Redis, shared by a fleet of gateway instances: any instance answers
 * {@code GET /offload/tasks/{id}} for a task that another accepted or ran, idempotency keys are
 * claimed fleet-wide, and results expire with their TTL in Redis itself.
 *
 * <pre>{@code
 * import dev.offload.redis.tasks.RedisTaskStore;
 * import io.lettuce.core.RedisClient;
 *
 * RedisClient redis = RedisClient.create("redis://127.0.0.1:6379");
 * RedisTaskStore store = RedisTaskStore.builder(redis).build();
 * TaskPool pool = TaskPool.builder("thumbnails").task(resize).store(store)
 *     .queue(RedisTaskQueue.builder(redis, "thumbnails").build()).build();
 * }</pre>
 *
 * <p>Keys, under a prefix ({@value #DEFAULT_KEY_PREFIX} by default): {@code
 * {prefix}:task:{id}} holds a task's snapshot (no expiry until it is final, then its result
 * TTL); {@code {prefix}:gone:{id}} its final snapshot without the result, for {@link
 * Builder#expiredRetention} longer, so that an expired task is answered 410 rather than 404;
 * {@code {prefix}:key:{sha-256}} an idempotency key's task id (claimed with {@code SET NX}).
 * Every command waits at most {@link Builder#commandTimeout}; a command that fails or times out
 * is counted in {@code offload.redis.commands}, logged (rate-limited) and thrown as Lettuce's
 * {@code RedisException}: the pool answers 503 for a submission it could not persist.
 *
 * <p>Times in a snapshot ({@code createdNanos}, ...) are on the ticker of the instance that
 * wrote it; only the TTL is converted, into Redis's own expiry. Thread-safe; share one store per
 * Redis (one connection, pipelined). {@link #close} closes the connection, not the client.
 */
public final class RedisTaskStore implements TaskStore, AutoCloseable {
  /** Default prefix of every key: {@value}. */
  public static final String DEFAULT_KEY_PREFIX = "offload:tasks";
  /** Default longest wait for one Redis command: two seconds. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);
  /** Default time an expired task is remembered for 410 Gone: one hour. */
  public static final Duration DEFAULT_EXPIRED_RETENTION = Duration.ofHours(1);
  /** Default time an idempotency key maps to its task: 24 hours. */
  public static final Duration DEFAULT_KEY_RETENTION = Duration.ofHours(24);

  private static final String SET_IF_HELD =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then "
          + "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0";
  private static final String DELETE_IF_HELD =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
          + "return 0";
  private static final RedisCodec<String, byte[]> CODEC =
      RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

  private final String prefix;
  private final long expiredMillis;
  private final long keyMillis;
  private final Ticker ticker;
  private final StatefulRedisConnection<String, byte[]> connection;
  private final RedisCommands<String, byte[]> redis;
  private final RedisTaskCommands commands;

  private RedisTaskStore(Builder b) {
    this.prefix = b.prefix;
    this.expiredMillis = b.expiredRetention.toMillis();
    this.keyMillis = b.keyRetention.toMillis();
    this.ticker = b.ticker;
    this.commands = new RedisTaskCommands(b.registry, b.ticker);
    this.connection = commands.call("task.connect", () -> b.client.connect(CODEC));
    this.connection.setTimeout(b.commandTimeout);
    this.redis = connection.sync();
  }

  /**
   * Returns a builder for a store on {@code client}'s Redis.
   *
   * @param client the Lettuce client (its URI names the Redis); shared, not closed by the store
   * @return the builder
   */
  public static Builder builder(RedisClient client) {
    return new Builder(requireNonNull(client, "client"));
  }

  @Override
  public void put(TaskSnapshot task) {
    requireNonNull(task, "task");
    byte[] bytes = RedisTaskCodec.encode(task);
    String key = taskKey(task.id());
    if (!task.state().isFinal() || task.expiresAtNanos() == Long.MAX_VALUE) {
      commands.call("task.put", () -> redis.set(key, bytes));
      return;
    }
    long remaining = task.expiresAtNanos() - ticker.read();
    long ttlMillis = Math.max(1, remaining / 1_000_000 + (remaining % 1_000_000 > 0 ? 1 : 0));
    byte[] gone = RedisTaskCodec.encode(task.withoutResult());
    // the 410 memory first: while the task key exists, so does its gone key
    commands.call("task.put", () -> redis.set(goneKey(task.id()), gone,
        SetArgs.Builder.px(saturatedAdd(ttlMillis, expiredMillis))));
    commands.call("task.put", () -> redis.set(key, bytes, SetArgs.Builder.px(ttlMillis)));
  }

  @Override
  public Optional<TaskSnapshot> get(String id) {
    requireNonNull(id, "id");
    byte[] bytes = commands.call("task.get", () -> redis.get(taskKey(id)));
    return decode(id, bytes);
  }

  @Override
  public Optional<TaskSnapshot> expired(String id) {
    requireNonNull(id, "id");
    Long live = commands.call("task.expired", () -> redis.exists(taskKey(id)));
    if (live != null && live > 0) {
      return Optional.empty();
    }
    byte[] bytes = commands.call("task.expired", () -> redis.get(goneKey(id)));
    return decode(id, bytes);
  }

  @Override
  public void remove(String id) {
    requireNonNull(id, "id");
    commands.call("task.remove", () -> redis.del(taskKey(id)));
  }

  @Override
  public Optional<String> claimKey(String key, String id) {
    requireNonNull(key, "key");
    requireNonNull(id, "id");
    String redisKey = idempotencyKey(key);
    byte[] mine = id.getBytes(StandardCharsets.UTF_8);
    for (int attempt = 0; attempt < 3; attempt++) {
      String set = commands.call("task.claimKey",
          () -> redis.set(redisKey, mine, SetArgs.Builder.nx().px(keyMillis)));
      if ("OK".equals(set)) {
        return Optional.empty();
      }
      byte[] current = commands.call("task.claimKey", () -> redis.get(redisKey));
      if (current == null) {
        continue; // expired since: claim again
      }
      String holder = new String(current, StandardCharsets.UTF_8);
      if (holder.equals(id)) {
        return Optional.empty();
      }
      Long known = commands.call("task.claimKey",
          () -> redis.exists(taskKey(holder), goneKey(holder)));
      if (known != null && known > 0) {
        return Optional.of(holder);
      }
      // a key whose task is neither kept nor remembered is stale: it may be claimed anew
      Long swapped = commands.call("task.claimKey", () -> redis.<Long>eval(SET_IF_HELD,
          ScriptOutputType.INTEGER, new String[] {redisKey}, current, mine,
          Long.toString(keyMillis).getBytes(StandardCharsets.US_ASCII)));
      if (swapped != null && swapped == 1) {
        return Optional.empty();
      }
    }
    throw new IllegalStateException("idempotency key is contended: could not claim it in three"
        + " attempts");
  }

  @Override
  public void releaseKey(String key, String id) {
    requireNonNull(key, "key");
    requireNonNull(id, "id");
    commands.call("task.releaseKey", () -> redis.<Long>eval(DELETE_IF_HELD,
        ScriptOutputType.INTEGER, new String[] {idempotencyKey(key)},
        id.getBytes(StandardCharsets.UTF_8)));
  }

  /** Closes the store's connection (not the client). */
  @Override
  public void close() {
    connection.close();
  }

  private Optional<TaskSnapshot> decode(String id, byte[] bytes) {
    if (bytes == null) {
      return Optional.empty();
    }
    try {
      TaskSnapshot task = RedisTaskCodec.decodeSnapshot(bytes);
      if (!task.id().equals(id)) {
        throw new IllegalArgumentException("the snapshot under " + id + " is of " + task.id());
      }
      return Optional.of(task);
    } catch (IllegalArgumentException e) {
      commands.warn("task.decode", "task " + id + " in Redis is malformed; treated as unknown", e);
      return Optional.empty();
    }
  }

  private String taskKey(String id) {
    return prefix + ":task:" + id;
  }

  private String goneKey(String id) {
    return prefix + ":gone:" + id;
  }

  /** Clients choose idempotency keys: hashed, so that no client text becomes a Redis key. */
  private String idempotencyKey(String scoped) {
    return prefix + ":key:" + Hashing.sha256().hashString(scoped, StandardCharsets.UTF_8);
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  @Override
  public String toString() {
    return "RedisTaskStore(" + prefix + ")";
  }

  /** Builds a {@link RedisTaskStore}. Not thread-safe. */
  public static final class Builder {
    private final RedisClient client;
    private String prefix = DEFAULT_KEY_PREFIX;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private Duration expiredRetention = DEFAULT_EXPIRED_RETENTION;
    private Duration keyRetention = DEFAULT_KEY_RETENTION;
    private Ticker ticker = Ticker.systemTicker();
    private MeterRegistry registry;

    private Builder(RedisClient client) {
      this.client = client;
    }

    /**
     * Sets the prefix of every key the store writes. Default {@value #DEFAULT_KEY_PREFIX}.
     *
     * @param prefix the prefix: 1..64 letters, digits, {@code :}, {@code .}, {@code _} or {@code
     *     -}
     * @return this builder
     * @throws IllegalArgumentException if {@code prefix} is not such a prefix
     */
    public Builder keyPrefix(String prefix) {
      this.prefix = RedisTaskQueue.checkPrefix(prefix);
      return this;
    }

    /**
     * Sets the longest wait for one Redis command; past it the command fails (a submission is
     * then refused with 503). Default two seconds.
     *
     * @param timeout the timeout, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code timeout} is not positive
     */
    public Builder commandTimeout(Duration timeout) {
      this.commandTimeout = Settings.positive("commandTimeout", timeout);
      return this;
    }

    /**
     * Sets how long a task is remembered after its result expired, so that its id is answered
     * 410 rather than 404. Default one hour.
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
     * Sets the clock a final task's remaining TTL is measured on: the pools' ticker. Default
     * the system ticker.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets the registry for {@code offload.redis.commands}; none by default.
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Connects and returns the store.
     *
     * @return the store
     * @throws io.lettuce.core.RedisConnectionException if Redis cannot be reached now
     */
    public RedisTaskStore build() {
      return new RedisTaskStore(this);
    }
  }
}
