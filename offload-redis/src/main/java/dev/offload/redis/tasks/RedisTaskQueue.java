package dev.offload.redis.tasks;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.async.TaskQueue;
import dev.offload.core.internal.Settings;
import io.lettuce.core.Consumer;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandInterruptedException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.models.stream.ClaimedMessages;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A durable {@link TaskQueue} on a Redis Stream with a consumer group, shared by the instances of
 * a fleet: a task is added to the stream ({@code XADD}, acknowledged by Redis) before its 202 is
 * sent; the workers of every instance read it with {@code XREADGROUP}; a worker acknowledges it
 * ({@code XACK}, then {@code XDEL}) only once its final snapshot is stored; while a task runs,
 * its instance's heartbeat resets the entry's idle time every third of {@link
 * Builder#reclaimAfter}; and a task taken by an instance that died (its heartbeat stopped) is
 * reclaimed with {@code XAUTOCLAIM} once it has been idle for {@link Builder#reclaimAfter}, and
 * runs on another instance.
 *
 * <pre>{@code
 * import dev.offload.core.async.TaskPool;
 * import dev.offload.redis.tasks.RedisTaskQueue;
 * import dev.offload.redis.tasks.RedisTaskStore;
 * import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisClient;
 *
 * RedisClient redis = RedisClient.create("redis://127.0.0.1:6379");
 * TaskPool pool = TaskPool.builder("thumbnails")
 *     .workers(4).queueCapacity(1_000)         // waiting tasks, fleet-wide
 *     .task(resize)                             // must be idempotent: at least once
 *     .store(RedisTaskStore.builder(redis).build())
 *     .queue(RedisTaskQueue.builder(redis, "thumbnails")
 *         .reclaimAfter(Duration.ofSeconds(30)) // an instance silent this long is dead
 *         .build())
 *     .build();
 * }</pre>
 *
 * <p><b>At least once.</b> A task runs again when the instance running it dies (or cannot reach
 * Redis for {@link Builder#reclaimAfter}) before it acknowledged it, or when its final snapshot or
 * acknowledgement could not be written: tasks must be idempotent. <b>Backpressure</b>: a task is added only while the tasks waiting
 * (the stream's length less its pending entries) are below the pool's capacity, in one Lua
 * script. <b>Redis down</b>: every command waits at most {@link Builder#commandTimeout}, fails,
 * is counted in {@code offload.redis.commands} and logged (rate-limited); a submission is then
 * refused (503), never answered 202 unpersisted; workers try again and resume when Redis is
 * back. With Redis's AOF on ({@code appendfsync always}), nothing acknowledged is lost in a
 * restart. The header fields in {@link Builder#droppedHeaders} (credentials, by default) are not
 * written to Redis.
 *
 * <p>Thread-safe; one queue per pool per instance. It keeps one connection for adding and
 * acknowledging and one per worker for its blocking reads; {@link #close} (called by the pool's
 * shutdown) closes them, not the client.
 */
public final class RedisTaskQueue implements TaskQueue {
  /** Default idle time after which another instance reclaims a task: one minute. */
  public static final Duration DEFAULT_RECLAIM_AFTER = Duration.ofMinutes(1);
  /** Default longest wait for one Redis command (besides a worker's blocking read): 2 s. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);
  /** Default consumer group of the workers: {@value}. */
  public static final String DEFAULT_GROUP = "offload-workers";
  /** Header fields not written to Redis by default: the client's credentials. */
  public static final Set<String> DEFAULT_DROPPED_HEADERS =
      Set.of("authorization", "proxy-authorization", "cookie");

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9:._-]{1,64}");
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final RedisCodec<String, byte[]> CODEC =
      RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
  /** Adds a task unless the waiting tasks reach the capacity; returns -1 - waiting when full. */
  private static final String OFFER =
      "local pending = 0\n"
          + "local ok, summary = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1])\n"
          + "if ok then pending = summary[1] end\n"
          + "local waiting = redis.call('XLEN', KEYS[1]) - pending\n"
          + "if waiting >= tonumber(ARGV[2]) then return -1 - waiting end\n"
          + "redis.call('XADD', KEYS[1], '*', 'id', ARGV[3], 'task', ARGV[4])\n"
          + "return waiting + 1\n";
  /**
   * Resets the idle time of the entries this consumer still holds (an entry another instance
   * reclaimed meanwhile is left to it): the heartbeat of tasks that run long.
   */
  private static final String HEARTBEAT =
      "local n = 0\n"
          + "for i = 3, #ARGV do\n"
          + "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)\n"
          + "  if p[1] and p[1][2] == ARGV[2] then\n"
          + "    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')\n"
          + "    n = n + 1\n"
          + "  end\n"
          + "end\n"
          + "return n\n";
  /** Acknowledges and deletes an entry, so that the stream's length counts open tasks only. */
  private static final String ACK =
      "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
          + "return redis.call('XDEL', KEYS[1], ARGV[2])\n";

  private final RedisClient client;
  private final String pool;
  private final String stream;
  private final String group;
  private final String consumer;
  private final Duration reclaimAfter;
  private final long reclaimCheckNanos;
  private final Duration commandTimeout;
  private final Set<String> dropped;
  private final Ticker ticker;
  private final RedisTaskCommands commands;
  private final Map<Thread, StatefulRedisConnection<String, byte[]>> readers =
      new ConcurrentHashMap<>();
  private final AtomicLong nextReclaim;
  /** Entries delivered to this instance and neither acknowledged nor released. */
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  /** Deliveries the pool released (Redis failed under it): this instance tries them again. */
  private final Queue<Delivery> released = new ConcurrentLinkedQueue<>();
  private final ScheduledExecutorService givenScheduler;
  private ScheduledExecutorService ownScheduler; // guarded by this
  private ScheduledFuture<?> heartbeat; // guarded by this
  private volatile StatefulRedisConnection<String, byte[]> connection;
  private volatile boolean groupReady;
  private volatile boolean closed;
  private volatile int depth;

  private RedisTaskQueue(Builder b) {
    this.client = b.client;
    this.pool = b.pool;
    this.stream = b.prefix + ":queue:" + b.pool;
    this.group = b.group;
    this.consumer = b.consumer != null ? b.consumer
        : "instance-" + HexFormat.of().formatHex(randomBytes());
    this.reclaimAfter = b.reclaimAfter;
    this.reclaimCheckNanos = Math.min(b.reclaimAfter.toNanos() / 2, Duration.ofSeconds(5)
        .toNanos());
    this.commandTimeout = b.commandTimeout;
    this.dropped = b.dropped;
    this.ticker = b.ticker;
    this.commands = new RedisTaskCommands(b.registry, b.ticker);
    this.nextReclaim = new AtomicLong(b.ticker.read());
    this.givenScheduler = b.scheduler;
  }

  private static byte[] randomBytes() {
    byte[] bytes = new byte[6];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  /**
   * Returns a builder for the queue of the pool named {@code pool}: its stream is {@code
   * {prefix}:queue:{pool}}.
   *
   * @param client the Lettuce client (its URI names the Redis); shared, not closed by the queue
   * @param pool the name of the pool this queue serves (as given to {@code TaskPool.builder})
   * @return the builder
   * @throws IllegalArgumentException if {@code pool} is not a valid pool name
   */
  public static Builder builder(RedisClient client, String pool) {
    requireNonNull(client, "client");
    requireNonNull(pool, "pool");
    if (!NAME.matcher(pool).matches()) {
      throw new IllegalArgumentException("pool name must be 1..64 letters, digits, '.', '_' or"
          + " '-' starting with a letter or digit, got '" + pool + "'");
    }
    return new Builder(client, pool);
  }

  /**
   * Returns the name of the Redis Stream the tasks are kept in.
   *
   * @return the stream's key
   */
  public String stream() {
    return stream;
  }

  /**
   * Returns this instance's consumer name in the group: what {@code XPENDING} shows for the tasks
   * it holds.
   *
   * @return the consumer name
   */
  public String consumer() {
    return consumer;
  }

  /**
   * Makes the next poll of a worker look for tasks to reclaim at once, instead of at its next
   * periodic check (every half {@link Builder#reclaimAfter}, at most every five seconds). Only
   * tasks idle for at least {@link Builder#reclaimAfter} are reclaimed.
   */
  public void reclaimNow() {
    nextReclaim.set(ticker.read());
  }

  @Override
  public Optional<Refusal> offer(QueuedTask task, int capacity) {
    requireNonNull(task, "task");
    if (!task.pool().equals(pool)) {
      throw new IllegalArgumentException("this queue serves pool '" + pool + "', not '"
          + task.pool() + "'");
    }
    if (closed) {
      return Optional.of(new Refusal("the task queue is closed", false));
    }
    ensureGroup();
    byte[] encoded = RedisTaskCodec.encode(task, dropped);
    Long waiting = commands.call("queue.offer", () -> redis().<Long>eval(OFFER,
        ScriptOutputType.INTEGER, new String[] {stream}, ascii(group),
        ascii(Integer.toString(capacity)), ascii(task.id()), encoded));
    long w = waiting == null ? 0 : waiting;
    if (w < 0) {
      depth = (int) Math.min(Integer.MAX_VALUE, -1 - w);
      return Optional.of(new Refusal("task queue '" + pool + "' is full", true));
    }
    depth = (int) Math.min(Integer.MAX_VALUE, w);
    return Optional.empty();
  }

  @Override
  public Optional<Delivery> poll(Duration maxWait) throws InterruptedException {
    requireNonNull(maxWait, "maxWait");
    if (closed) {
      throw new IllegalStateException("the task queue is closed");
    }
    ensureGroup();
    try {
      Delivery again = released.poll();
      if (again != null) {
        Long mine;
        try {
          mine = commands.call("queue.retake", () -> redis().<Long>eval(HEARTBEAT,
              ScriptOutputType.INTEGER, new String[] {stream}, ascii(group), ascii(consumer),
              ascii(again.receipt())));
        } catch (RuntimeException e) {
          released.add(again); // Redis still fails: the next poll tries again
          throw e;
        }
        if (mine != null && mine == 1) { // still ours, not acknowledged: run it
          inFlight.add(again.receipt());
          startHeartbeat();
          return Optional.of(new Delivery(again.task(), again.receipt(), true));
        }
      }
      long now = ticker.read();
      long due = nextReclaim.get();
      if (now - due >= 0 && nextReclaim.compareAndSet(due, now + reclaimCheckNanos)) {
        ClaimedMessages<String, byte[]> claimed = commands.call("queue.reclaim",
            () -> redis().xautoclaim(stream, XAutoClaimArgs.Builder.<String>xautoclaim(
                Consumer.from(group, consumer), reclaimAfter, "0-0").count(1)));
        for (StreamMessage<String, byte[]> message : claimed.getMessages()) {
          Optional<Delivery> delivery = deliver(message, true);
          if (delivery.isPresent()) {
            reclaimNow(); // there may be more: look again on the next poll
            return delivery;
          }
        }
      }
      RedisCommands<String, byte[]> reader = reader(maxWait);
      List<StreamMessage<String, byte[]>> messages = commands.call("queue.read",
          () -> reader.xreadgroup(Consumer.from(group, consumer),
              XReadArgs.Builder.block(maxWait).count(1), lastConsumed()));
      if (messages == null || messages.isEmpty()) {
        depth = 0;
        return Optional.empty();
      }
      depth = Math.max(0, depth - 1);
      return deliver(messages.get(0), false);
    } catch (RedisCommandInterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedException("worker interrupted while polling " + stream);
    } catch (RedisCommandExecutionException e) {
      if (String.valueOf(e.getMessage()).startsWith("NOGROUP")) {
        groupReady = false; // Redis lost the group (restarted without persistence): create it
      }
      throw e;
    }
  }

  @Override
  public void ack(Delivery delivery) {
    requireNonNull(delivery, "delivery");
    inFlight.remove(delivery.receipt());
    commands.call("queue.ack", () -> redis().<Long>eval(ACK, ScriptOutputType.INTEGER,
        new String[] {stream}, ascii(group), ascii(delivery.receipt())));
  }

  /**
   * {@inheritDoc} Here: the heartbeat stops for it, and this instance's next poll takes it again
   * if it still holds it then (so that a Redis that failed for a moment does not hold a task
   * back for {@link Builder#reclaimAfter}); until then any instance may reclaim it.
   */
  @Override
  public void release(Delivery delivery) {
    inFlight.remove(requireNonNull(delivery, "delivery").receipt());
    if (!closed) {
      released.add(delivery);
    }
  }

  @Override
  public int depth() {
    return depth;
  }

  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      if (heartbeat != null) {
        heartbeat.cancel(false);
      }
      if (ownScheduler != null) {
        ownScheduler.shutdownNow();
      }
    }
    for (StatefulRedisConnection<String, byte[]> reader : readers.values()) {
      reader.close();
    }
    readers.clear();
    StatefulRedisConnection<String, byte[]> c = connection;
    if (c != null) {
      c.close();
    }
  }

  private Optional<Delivery> deliver(StreamMessage<String, byte[]> message, boolean reclaimed) {
    Map<String, byte[]> body = message.getBody();
    byte[] encoded = body == null ? null : body.get("task");
    try {
      if (encoded == null) {
        throw new IllegalArgumentException("the entry has no task field");
      }
      Delivery delivery = new Delivery(RedisTaskCodec.decodeQueued(encoded), message.getId(),
          reclaimed);
      if (!delivery.task().pool().equals(pool)) {
        commands.warn("queue.pool", "entry " + message.getId() + " of " + stream
            + " is a task of pool '" + delivery.task().pool() + "', not '" + pool
            + "'; left pending", null);
        return Optional.empty();
      }
      inFlight.add(message.getId());
      startHeartbeat();
      return Optional.of(delivery);
    } catch (IllegalArgumentException e) {
      // it can never run: acknowledged, so that it is not delivered forever, and logged
      commands.warn("queue.decode", "entry " + message.getId() + " of " + stream
          + " is not a task and was dropped: " + e.getMessage(), null);
      ack(new Delivery(new QueuedTask("malformed", pool,
          dev.offload.core.async.TaskRequest.builder("GET", "/").build(), Optional.empty()),
          message.getId(), reclaimed));
      return Optional.empty();
    }
  }

  /** Starts the heartbeat of delivered tasks: every third of {@link Builder#reclaimAfter}. */
  private synchronized void startHeartbeat() {
    if (heartbeat != null || closed) {
      return;
    }
    ScheduledExecutorService scheduler = givenScheduler;
    if (scheduler == null) {
      scheduler = ownScheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "offload-redis-heartbeat-" + pool);
        t.setDaemon(true);
        return t;
      });
    }
    long period = Math.max(1, reclaimAfter.toMillis() / 3);
    heartbeat = scheduler.scheduleWithFixedDelay(this::beat, period, period,
        TimeUnit.MILLISECONDS);
  }

  private void beat() {
    if (closed || inFlight.isEmpty()) {
      return;
    }
    List<byte[]> args = new ArrayList<>();
    args.add(ascii(group));
    args.add(ascii(consumer));
    for (String id : inFlight) {
      args.add(ascii(id));
    }
    try {
      commands.call("queue.heartbeat", () -> redis().<Long>eval(HEARTBEAT,
          ScriptOutputType.INTEGER, new String[] {stream}, args.toArray(new byte[0][])));
    } catch (RuntimeException e) {
      // counted and logged; the next beat tries again (past reclaimAfter, tasks are reclaimed)
    }
  }

  private void ensureGroup() {
    if (groupReady) {
      return;
    }
    commands.call("queue.group", () -> {
      try {
        return redis().xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), group,
            XGroupCreateArgs.Builder.mkstream());
      } catch (RedisBusyException e) {
        return "exists"; // another instance created it: what we wanted
      }
    });
    groupReady = true;
  }

  private RedisCommands<String, byte[]> redis() {
    StatefulRedisConnection<String, byte[]> c = connection;
    if (c == null) {
      synchronized (this) {
        c = connection;
        if (c == null) {
          c = commands.call("queue.connect", () -> client.connect(CODEC));
          c.setTimeout(commandTimeout);
          connection = c;
        }
      }
    }
    return c.sync();
  }

  /** This worker's own connection: a blocking read holds its connection while it waits. */
  private RedisCommands<String, byte[]> reader(Duration maxWait) {
    StatefulRedisConnection<String, byte[]> c = readers.get(Thread.currentThread());
    if (c == null) {
      c = commands.call("queue.connect", () -> client.connect(CODEC));
      readers.put(Thread.currentThread(), c);
      if (closed) {
        c.close();
        throw new IllegalStateException("the task queue is closed");
      }
    }
    c.setTimeout(commandTimeout.plus(maxWait));
    return c.sync();
  }

  @SuppressWarnings({"unchecked", "rawtypes"}) // Lettuce takes generic varargs
  private XReadArgs.StreamOffset<String>[] lastConsumed() {
    return new XReadArgs.StreamOffset[] {XReadArgs.StreamOffset.lastConsumed(stream)};
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String checkPrefix(String prefix) {
    requireNonNull(prefix, "prefix");
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException("keyPrefix must be 1..64 letters, digits, ':', '.', '_'"
          + " or '-', got '" + prefix + "'");
    }
    return prefix;
  }

  @Override
  public String toString() {
    return "RedisTaskQueue(" + stream + ", " + consumer + ")";
  }

  /** Builds a {@link RedisTaskQueue}. Not thread-safe. */
  public static final class Builder {
    private final RedisClient client;
    private final String pool;
    private String prefix = RedisTaskStore.DEFAULT_KEY_PREFIX;
    private String group = DEFAULT_GROUP;
    private String consumer;
    private Duration reclaimAfter = DEFAULT_RECLAIM_AFTER;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private Set<String> dropped = DEFAULT_DROPPED_HEADERS;
    private Ticker ticker = Ticker.systemTicker();
    private MeterRegistry registry;
    private ScheduledExecutorService scheduler;

    private Builder(RedisClient client, String pool) {
      this.client = client;
      this.pool = pool;
    }

    /**
     * Sets the prefix of the stream's key. Default {@value RedisTaskStore#DEFAULT_KEY_PREFIX}.
     *
     * @param prefix the prefix: 1..64 letters, digits, {@code :}, {@code .}, {@code _} or {@code
     *     -}
     * @return this builder
     * @throws IllegalArgumentException if {@code prefix} is not such a prefix
     */
    public Builder keyPrefix(String prefix) {
      this.prefix = checkPrefix(prefix);
      return this;
    }

    /**
     * Sets the consumer group the workers of every instance read in. Default {@value
     * #DEFAULT_GROUP}.
     *
     * @param group the group's name, like a pool name
     * @return this builder
     * @throws IllegalArgumentException if {@code group} is not such a name
     */
    public Builder group(String group) {
      this.group = name("group", group);
      return this;
    }

    /**
     * Sets this instance's consumer name in the group; it must differ between instances. Default
     * {@code instance-} and 48 random bits (a restarted instance is a new consumer: what the old
     * one held is reclaimed after {@link #reclaimAfter}).
     *
     * @param consumer the name, like a pool name
     * @return this builder
     * @throws IllegalArgumentException if {@code consumer} is not such a name
     */
    public Builder consumer(String consumer) {
      this.consumer = name("consumer", consumer);
      return this;
    }

    /**
     * Sets how long a taken task's entry may go without a heartbeat before another instance
     * reclaims it and runs it again. A running task's instance beats every third of it, so a task
     * may run longer; an instance that died, or cannot reach Redis, for this long loses its
     * tasks to the others (and may then run them twice). Measured by Redis (the entry's idle
     * time), not on the ticker; the heartbeat is a scheduled wait. Default one minute.
     *
     * @param idle the idle time, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code idle} is not positive
     */
    public Builder reclaimAfter(Duration idle) {
      this.reclaimAfter = Settings.positive("reclaimAfter", idle);
      return this;
    }

    /**
     * Sets the longest wait for one Redis command; a worker's blocking read waits this longer
     * than its poll. Default two seconds.
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
     * Sets the request header fields not written to Redis (the task does not see them). Default
     * {@link #DEFAULT_DROPPED_HEADERS}.
     *
     * @param names the field names, any case
     * @return this builder
     */
    public Builder droppedHeaders(Set<String> names) {
      requireNonNull(names, "droppedHeaders");
      this.dropped = names.stream().map(n -> requireNonNull(n, "droppedHeaders element")
          .toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
      return this;
    }

    /**
     * Sets the clock of the periodic reclaim check and of the rate-limited log: the router's
     * ticker. Default the system ticker.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets what runs the heartbeat of the running tasks (one short Redis script every third of
     * {@link #reclaimAfter}); not shut down by the queue. Default: a daemon thread of the queue's
     * own, started with the first task it delivers and stopped by {@link RedisTaskQueue#close}.
     *
     * @param scheduler the scheduler
     * @return this builder
     */
    public Builder heartbeatScheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "heartbeatScheduler");
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
     * Returns the queue; it connects on first use.
     *
     * @return the queue
     */
    public RedisTaskQueue build() {
      return new RedisTaskQueue(this);
    }

    private static String name(String setting, String value) {
      requireNonNull(value, setting);
      if (!NAME.matcher(value).matches()) {
        throw new IllegalArgumentException(setting + " must be 1..64 letters, digits, '.', '_'"
            + " or '-' starting with a letter or digit, got '" + value + "'");
      }
      return value;
    }
  }
}
