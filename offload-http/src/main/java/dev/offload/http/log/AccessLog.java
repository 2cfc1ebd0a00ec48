package dev.offload.http.log;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.google.common.base.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.StringWriter;
import java.time.Clock;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

/**
 * The access log: one JSON line per request, for example
 *
 * <pre>{@code
 * {"time":"2026-11-28T07:01:02.345Z","client":"203.0.113.7","method":"GET","path":"/api/orders/42",
 *  "decision":"forward","backend":"orders","instance":"http://10.0.0.5:8080","status":200,
 *  "bytes":512,"duration_ms":3.172,"cache":"MISS","request_id":"4bf92f3577b34da6a3ce929d0e0e4736"}
 * }</pre>
 *
 * <pre>{@code
 * AccessLog accessLog = AccessLog.builder()
 *     .sink(line -> Files.writeString(file, line + "\n", APPEND))   // default: System.Logger
 *     .sampleRate(0.1)                     // keep 1 in 10; 5xx answers are always kept
 *     .meterRegistry(registry)
 *     .build();
 * OffloadExecutor executor = OffloadExecutor.builder(router).accessLog(accessLog).build();
 * ...
 * accessLog.close();                       // at shutdown: writes what is queued
 * }</pre>
 *
 * <p>Off the critical path: a request's thread only puts its entry in a bounded queue (never
 * blocks; when the queue is full the entry is dropped and counted in {@link #dropped()} and
 * {@code offload.access_log.dropped}); one daemon thread formats the lines with Jackson and calls
 * the sink. Nothing that could carry a credential is logged: no header, no query string. Strings
 * from clients are JSON-escaped and bounded.
 *
 * <p>Thread-safe; share one per executor. {@link #close()} stops the writer after it wrote what
 * was queued.
 */
public final class AccessLog implements AutoCloseable {
  /** The default queue capacity, in entries. */
  public static final int DEFAULT_QUEUE_CAPACITY = 8192;
  /** The longest path logged, in characters. */
  static final int MAX_PATH = 1024;

  private static final System.Logger LOG = System.getLogger(AccessLog.class.getName());
  private static final JsonFactory JSON = new JsonFactory();
  private static final AccessLogEntry STOP = new AccessLogEntry(null, "", "", "", "",
      java.util.Optional.empty(), java.util.Optional.empty(), 0, 0, 0,
      java.util.Optional.empty(), java.util.Optional.empty());

  private final AccessLogSink sink;
  private final double sampleRate;
  private final DoubleSupplier random;
  private final Clock clock;
  private final Ticker ticker;
  private final BlockingQueue<AccessLogEntry> queue;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong sinkErrors = new AtomicLong();
  private final Counter droppedCounter;
  private final Thread writer;
  private volatile boolean closed;

  private AccessLog(Builder b) {
    this.sink = b.sink;
    this.sampleRate = b.sampleRate;
    this.random = b.random;
    this.clock = b.clock;
    this.ticker = b.ticker;
    this.queue = new ArrayBlockingQueue<>(b.queueCapacity);
    this.droppedCounter = b.registry == null ? null : Counter.builder("offload.access_log.dropped")
        .description("Access-log entries dropped because the writer's queue was full")
        .baseUnit("entries")
        .register(b.registry);
    this.writer = new Thread(this::drain, "offload-access-log");
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Returns a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the access log's clock, for the time of each entry.
   *
   * @return the clock
   */
  public Clock clock() {
    return clock;
  }

  /**
   * Returns the ticker durations are measured on.
   *
   * @return the ticker
   */
  public Ticker ticker() {
    return ticker;
  }

  /**
   * Queues {@code entry} for the writer, unless sampling leaves it out; never blocks. A full
   * queue, or a closed log, drops it and counts it.
   *
   * @param entry the entry
   * @return whether it was queued
   * @throws NullPointerException if {@code entry} is null
   */
  public boolean record(AccessLogEntry entry) {
    requireNonNull(entry, "entry");
    if (sampleRate < 1.0 && entry.status() < 500 && random.getAsDouble() >= sampleRate) {
      return false;
    }
    if (closed || !queue.offer(entry)) {
      dropped.incrementAndGet();
      if (droppedCounter != null) {
        droppedCounter.increment();
      }
      return false;
    }
    return true;
  }

  /**
   * Returns how many entries were dropped because the queue was full or the log closed.
   *
   * @return the count
   */
  public long dropped() {
    return dropped.get();
  }

  /**
   * Returns how many lines the sink accepted.
   *
   * @return the count
   */
  public long written() {
    return written.get();
  }

  /**
   * Returns how many lines the sink threw on.
   *
   * @return the count
   */
  public long sinkErrors() {
    return sinkErrors.get();
  }

  /**
   * Formats {@code entry} as one JSON line (what the sink receives).
   *
   * @param entry the entry
   * @return the JSON object, on one line
   * @throws NullPointerException if {@code entry} is null
   */
  public static String format(AccessLogEntry entry) {
    requireNonNull(entry, "entry");
    StringWriter out = new StringWriter(256);
    try (JsonGenerator json = JSON.createGenerator(out)) {
      json.writeStartObject();
      json.writeStringField("time", entry.time().toString());
      json.writeStringField("client", entry.client());
      json.writeStringField("method", bounded(entry.method(), 32));
      json.writeStringField("path", bounded(entry.path(), MAX_PATH));
      json.writeStringField("decision", entry.decision());
      if (entry.backend().isPresent()) {
        json.writeStringField("backend", entry.backend().get());
      }
      if (entry.instance().isPresent()) {
        json.writeStringField("instance", entry.instance().get());
      }
      json.writeNumberField("status", entry.status());
      json.writeNumberField("bytes", entry.bytes());
      json.writeFieldName("duration_ms");
      json.writeNumber(java.math.BigDecimal.valueOf(entry.durationNanos() / 1000, 3));
      if (entry.cacheStatus().isPresent()) {
        json.writeStringField("cache", bounded(entry.cacheStatus().get(), 32));
      }
      if (entry.requestId().isPresent()) {
        json.writeStringField("request_id", entry.requestId().get());
      }
      json.writeEndObject();
    } catch (IOException e) {
      throw new IllegalStateException("writing JSON to a string cannot fail", e);
    }
    return out.toString();
  }

  private static String bounded(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "...";
  }

  private void drain() {
    while (true) {
      AccessLogEntry entry;
      try {
        entry = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (entry == STOP) {
        return;
      }
      try {
        sink.write(format(entry));
        written.incrementAndGet();
      } catch (Exception e) {
        if (sinkErrors.getAndIncrement() == 0) {
          LOG.log(System.Logger.Level.WARNING, "access-log sink failed (logged once)", e);
        }
      }
    }
  }

  /**
   * Stops taking entries, lets the writer write what is queued, and waits for it up to 5
   * seconds. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      queue.put(STOP);
      writer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Builds an {@link AccessLog}. Not thread-safe. */
  public static final class Builder {
    private AccessLogSink sink = AccessLogSink.systemLogger();
    private double sampleRate = 1.0;
    private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();
    private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
    private Clock clock = Clock.systemUTC();
    private Ticker ticker = Ticker.systemTicker();
    private MeterRegistry registry;

    private Builder() {}

    /**
     * Sets where lines go; default {@link AccessLogSink#systemLogger()}.
     *
     * @param sink the sink, called on the log's writer thread
     * @return this builder
     * @throws NullPointerException if {@code sink} is null
     */
    public Builder sink(AccessLogSink sink) {
      this.sink = requireNonNull(sink, "sink");
      return this;
    }

    /**
     * Keeps only this fraction of entries, chosen at random; answers with a 5xx status are
     * always kept. Default 1 (all).
     *
     * @param rate in (0, 1]
     * @return this builder
     * @throws IllegalArgumentException naming {@code sampleRate} if not in (0, 1]
     */
    public Builder sampleRate(double rate) {
      if (!(rate > 0.0 && rate <= 1.0)) {
        throw new IllegalArgumentException("sampleRate must be in (0, 1], got " + rate);
      }
      this.sampleRate = rate;
      return this;
    }

    /**
     * Sets the random source sampling draws from (values in [0, 1)), for tests; default {@link
     * ThreadLocalRandom}.
     *
     * @param random the source
     * @return this builder
     * @throws NullPointerException if {@code random} is null
     */
    public Builder random(DoubleSupplier random) {
      this.random = requireNonNull(random, "random");
      return this;
    }

    /**
     * Sets how many entries may wait for the writer; more are dropped and counted. Default
     * {@value AccessLog#DEFAULT_QUEUE_CAPACITY}.
     *
     * @param capacity at least 1
     * @return this builder
     * @throws IllegalArgumentException naming {@code queueCapacity} if below 1
     */
    public Builder queueCapacity(int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("queueCapacity must be at least 1, got " + capacity);
      }
      this.queueCapacity = capacity;
      return this;
    }

    /**
     * Sets the clock for each entry's time; default UTC system clock.
     *
     * @param clock the clock
     * @return this builder
     * @throws NullPointerException if {@code clock} is null
     */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets the ticker durations are measured on: pass the router's. Default the system ticker.
     *
     * @param ticker the ticker
     * @return this builder
     * @throws NullPointerException if {@code ticker} is null
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets the registry for {@code offload.access_log.dropped}; none by default.
     *
     * @param registry the registry
     * @return this builder
     * @throws NullPointerException if {@code registry} is null
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Returns the access log, its writer thread started.
     *
     * @return the access log
     */
    public AccessLog build() {
      return new AccessLog(this);
    }
  }
}
