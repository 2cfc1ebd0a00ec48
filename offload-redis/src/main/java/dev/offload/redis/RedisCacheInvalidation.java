package dev.offload.redis;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cache.Purge;
import dev.offload.core.internal.Settings;
import dev.offload.core.internal.ThrottledLog;
import dev.offload.redis.internal.RedisMeters;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Carries every purge of an {@link EdgeCache} to the edge caches of every other gateway of a
 * fleet, through Redis pub/sub: an operator's {@code purgeTag}, or the invalidation that a 2xx
 * answer to a {@code POST}/{@code PUT}/{@code PATCH}/{@code DELETE} makes, on one instance
 * empties the same entries everywhere.
 *
 * <pre>{@code
 * RedisClient redis = RedisClient.create("redis://127.0.0.1:6379");
 * EdgeCache cache = EdgeCache.builder().ticker(ticker).build();
 * RedisCacheInvalidation fleet = RedisCacheInvalidation.builder(redis, cache).start();
 * ...
 * cache.purgeTag("product-42");          // here at once, on every instance within a round-trip
 * fleet.close();
 * }</pre>
 *
 * <h2>What holds</h2>
 * <ul>
 *   <li>A purge is applied here at once, then published with a fleet-wide version ({@code INCR}
 *       and {@code PUBLISH} in one script, so versions follow the order of publication).</li>
 *   <li><b>No stale entry comes back</b>: a response whose fill started before a purge is not
 *       stored after it, on any instance (the cache's purge epoch), so a message that arrives
 *       late removes what was stored before it and nothing older is stored after it.</li>
 *   <li><b>No purge is silently missed</b>: pub/sub does not keep messages for a subscriber that
 *       was away. A version that skips one (messages lost) or a re-subscription after a lost
 *       connection empties this instance's cache (it refills from the origin), counted as
 *       {@code offload.redis.invalidations{event=resync}}; a purge made here while Redis is away
 *       is kept (up to {@link Builder#maxPending}, then replaced by one purge of everything)
 *       and published when Redis is back.</li>
 * </ul>
 * Metrics: {@code offload.redis.invalidations} (tag {@code event}: {@code published}, {@code
 * received}, {@code resync}) and {@code offload.redis.commands{operation=cache.publish}}.
 *
 * <p>Thread-safe. One per edge cache; {@link #close} unsubscribes and closes its connections.
 */
public final class RedisCacheInvalidation implements AutoCloseable {
  /** The default channel: {@value}. */
  public static final String DEFAULT_CHANNEL = "offload:cache:purges";
  /** The default number of purges kept while Redis is away: {@value}. */
  public static final int DEFAULT_MAX_PENDING = 1000;
  /** The default timeout of a publication: one second. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(1);

  private static final System.Logger LOG =
      System.getLogger(RedisCacheInvalidation.class.getName());
  private static final String PUBLISH = "local v = redis.call('INCR', KEYS[1]) "
      + "redis.call('PUBLISH', ARGV[1], v .. ' ' .. ARGV[2]) return v";

  private final EdgeCache cache;
  private final String channel;
  private final String versionKey;
  private final String instance;
  private final int maxPending;
  private final Duration commandTimeout;
  private final StatefulRedisConnection<String, String> commands;
  private final StatefulRedisPubSubConnection<String, String> subscription;
  private final MeterRegistry registry;
  private final ThrottledLog log;
  private final Counter published;
  private final Counter received;
  private final Counter resyncs;
  private final Object lock = new Object();
  private final ArrayDeque<Purge> pending = new ArrayDeque<>();
  private CompletableFuture<Long> lastPublish = CompletableFuture.completedFuture(0L);
  private boolean subscribedOnce;
  private long lastVersion;
  private long appliedVersion;
  private boolean versionKnown;
  /** Futures of {@link #received}, by the version they wait for. */
  private final TreeMap<Long, CompletableFuture<Void>> waiters = new TreeMap<>();
  private volatile boolean closed;

  private RedisCacheInvalidation(Builder b) {
    this.cache = b.cache;
    this.channel = b.channel;
    this.versionKey = b.channel + ":version";
    byte[] id = new byte[8];
    new SecureRandom().nextBytes(id);
    this.instance = HexFormat.of().formatHex(id);
    this.maxPending = b.maxPending;
    this.commandTimeout = b.commandTimeout;
    this.registry = b.registry;
    this.log = new ThrottledLog(LOG, Ticker.systemTicker(), ThrottledLog.DEFAULT_INTERVAL);
    this.published = counter(b.registry, "published");
    this.received = counter(b.registry, "received");
    this.resyncs = counter(b.registry, "resync");
    this.commands = b.client.connect();
    this.subscription = b.client.connectPubSub();
    subscription.addListener(new RedisPubSubAdapter<>() {
      @Override
      public void message(String from, String message) {
        onMessage(message);
      }

      @Override
      public void subscribed(String from, long count) {
        onSubscribed();
      }
    });
    subscription.sync().subscribe(channel);
    String version = commands.sync().get(versionKey);
    synchronized (lock) {
      lastVersion = Math.max(lastVersion, version == null ? 0 : Long.parseLong(version));
      versionKnown = true;
    }
    cache.addPurgeListener(this::publish);
  }

  private static Counter counter(MeterRegistry registry, String event) {
    return registry == null ? null : Counter.builder("offload.redis.invalidations")
        .description("edge-cache purges carried through Redis, by event")
        .tag("event", event).register(registry);
  }

  /**
   * Returns a builder for {@code cache}'s invalidation through {@code client}'s Redis.
   *
   * @param client the Lettuce client; the caller owns and shuts it down
   * @param cache the edge cache whose purges are shared
   * @return a builder
   */
  public static Builder builder(RedisClient client, EdgeCache cache) {
    return new Builder(client, cache);
  }

  /** Subscribed, first or again after a lost connection: what was missed meanwhile is unknown. */
  private void onSubscribed() {
    boolean again;
    synchronized (lock) {
      again = subscribedOnce;
      subscribedOnce = true;
    }
    // on Lettuce's I/O thread: never wait here
    commands.async().get(versionKey).whenComplete((version, failure) -> {
      if (failure == null) {
        synchronized (lock) {
          lastVersion = Math.max(lastVersion, version == null ? 0 : Long.parseLong(version));
          versionKnown = true;
        }
      }
    });
    if (again) {
      resync("re-subscribed after a lost connection");
      flush();
    }
  }

  private void onMessage(String message) {
    int space = message.indexOf(' ');
    long version;
    Purge purge;
    boolean mine;
    try {
      version = Long.parseLong(message.substring(0, space));
      String body = message.substring(space + 1);
      mine = body.startsWith(instance + ' ');
      purge = decode(body.substring(body.indexOf(' ') + 1));
    } catch (RuntimeException e) {
      log.log(System.Logger.Level.WARNING, "invalid", "ignored an invalid message on "
          + channel + ": " + e.getMessage(), null);
      return;
    }
    boolean gap;
    synchronized (lock) {
      gap = versionKnown && version > lastVersion + 1;
      lastVersion = Math.max(lastVersion, version);
    }
    if (gap) {
      resync("purge " + version + " arrived but an earlier one never did");
    } else if (!mine) {
      cache.apply(purge); // applied here already when it is this instance's own
    }
    count(received); // after applying: a reader of the count sees the purge done
    List<CompletableFuture<Void>> done;
    synchronized (lock) {
      appliedVersion = Math.max(appliedVersion, version);
      SortedMap<Long, CompletableFuture<Void>> reached = waiters.headMap(version, true);
      done = List.copyOf(reached.values());
      reached.clear();
    }
    done.forEach(waiter -> waiter.complete(null)); // after the purge is applied
  }

  private void resync(String why) {
    count(resyncs);
    log.log(System.Logger.Level.INFO, "resync", "edge cache emptied: " + why, null);
    cache.apply(Purge.all());
  }

  /** Publishes a purge made here; kept for later when Redis is away. */
  private void publish(Purge purge) {
    if (closed) {
      return;
    }
    synchronized (lock) {
      if (!pending.isEmpty()) {
        keep(purge); // keep the order: this one after those waiting
        return;
      }
    }
    send(purge);
  }

  private void send(Purge purge) {
    RedisFuture<Long> command = commands.async().eval(PUBLISH, ScriptOutputType.INTEGER,
        new String[] {versionKey}, channel, instance + ' ' + encode(purge));
    CompletableFuture<Long> sent = command.toCompletableFuture()
        .orTimeout(commandTimeout.toNanos(), TimeUnit.NANOSECONDS);
    sent.whenComplete((v, e) -> {
      if (e != null) {
        command.cancel(false); // not sent later as well: it is kept and sent again
      }
    });
    synchronized (lock) {
      lastPublish = sent;
    }
    sent.whenComplete((version, failure) -> {
      if (failure == null) {
        RedisMeters.command(registry, "cache.publish", "success");
        count(published);
      } else {
        RedisMeters.command(registry, "cache.publish", RedisMeters.outcome(failure));
        log.log(System.Logger.Level.WARNING, "publish", "Redis did not take a purge; kept to"
            + " publish when it is back", failure);
        synchronized (lock) {
          keep(purge);
        }
      }
    });
  }

  /** Under the lock. */
  private void keep(Purge purge) {
    if (pending.size() >= maxPending) {
      pending.clear(); // too many to replay one by one: everything, once
      pending.add(Purge.all());
    } else {
      pending.add(purge);
    }
  }

  /** Sends the purges kept while Redis was away. */
  private void flush() {
    while (true) {
      Purge next;
      synchronized (lock) {
        next = pending.poll();
      }
      if (next == null) {
        return;
      }
      send(next);
    }
  }

  static String encode(Purge purge) {
    return purge.kind().name() + ' ' + purge.host().length() + ' ' + purge.host() + purge.value();
  }

  static Purge decode(String text) {
    int a = text.indexOf(' ');
    int b = text.indexOf(' ', a + 1);
    Purge.Kind kind = Purge.Kind.valueOf(text.substring(0, a));
    int hostLength = Integer.parseInt(text.substring(a + 1, b));
    String host = text.substring(b + 1, b + 1 + hostLength);
    String value = text.substring(b + 1 + hostLength);
    return new Purge(kind, host, value);
  }

  /** The last publication (tests wait on it). */
  CompletableFuture<Long> lastPublish() {
    synchronized (lock) {
      return lastPublish;
    }
  }

  /** Completes when a message of version {@code version} or later has been applied here. */
  CompletableFuture<Void> received(long version) {
    synchronized (lock) {
      if (appliedVersion >= version) {
        return CompletableFuture.completedFuture(null);
      }
      return waiters.computeIfAbsent(version, v -> new CompletableFuture<>());
    }
  }

  /** Unsubscribes and closes the connections; purges here are no longer published. */
  @Override
  public void close() {
    closed = true;
    subscription.close();
    commands.close();
  }

  private static void count(Counter counter) {
    if (counter != null) {
      counter.increment();
    }
  }

  @Override
  public String toString() {
    return "RedisCacheInvalidation(" + channel + ", instance " + instance + ")";
  }

  /** Builds a {@link RedisCacheInvalidation}. Not thread-safe. */
  public static final class Builder {
    private final RedisClient client;
    private final EdgeCache cache;
    private String channel = DEFAULT_CHANNEL;
    private int maxPending = DEFAULT_MAX_PENDING;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private MeterRegistry registry;

    private Builder(RedisClient client, EdgeCache cache) {
      this.client = requireNonNull(client, "client");
      this.cache = requireNonNull(cache, "cache");
    }

    /**
     * Sets the pub/sub channel (and, with {@code :version}, the version key); instances that
     * share a cache's purges use the same one. Default {@value #DEFAULT_CHANNEL}.
     *
     * @param channel the channel
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder channel(String channel) {
      this.channel = Settings.notBlank("channel", channel).toLowerCase(Locale.ROOT);
      return this;
    }

    /**
     * Sets how many purges made while Redis is away are kept to publish later; beyond that
     * they become one purge of everything. Default {@value #DEFAULT_MAX_PENDING}.
     *
     * @param maxPending the bound
     * @return this builder
     * @throws IllegalArgumentException if less than 1
     */
    public Builder maxPending(int maxPending) {
      if (maxPending < 1) {
        throw new IllegalArgumentException("maxPending must be at least 1, got " + maxPending);
      }
      this.maxPending = maxPending;
      return this;
    }

    /**
     * Sets how long a publication may take before Redis counts as away (the purge is then kept
     * and published again later). Default 1 s.
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
     * Binds {@code offload.redis.invalidations} and {@code offload.redis.commands}.
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Connects, subscribes and starts publishing the cache's purges.
     *
     * @return the running invalidation
     * @throws io.lettuce.core.RedisConnectionException if Redis cannot be reached now
     */
    public RedisCacheInvalidation start() {
      return new RedisCacheInvalidation(this);
    }
  }
}
