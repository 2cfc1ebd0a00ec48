package dev.offload.core.cache;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.google.common.base.Ticker;
import dev.offload.core.internal.Settings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-process edge cache: responses stored by the rules of RFC 9111 for a shared cache,
 * bounded by bytes, answered without contacting the origin. Routes use it through {@link
 * dev.offload.core.cdn.CdnStrategy#edgeCache(EdgeCache)}; it fills from the responses the
 * executor relays (a backend's through the forwarder, or the host's own handler's on a
 * pass-through), never with a request of its own.
 *
 * <pre>{@code
 * EdgeCache cache = EdgeCache.builder()
 *     .maximumBytes(64 << 20)
 *     .maxObjectBytes(1 << 20)
 *     .ticker(ticker)                 // the router's: one clock
 *     .build();
 * OffloadRouter router = OffloadRouter.builder().ticker(ticker)
 *     .route("img", Route.get("/img/**"), CdnStrategy.edgeCache(cache).from(staticBackend))
 *     .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(cache))
 *     .build();
 * cache.purgeTag("product-42");
 * }</pre>
 *
 * <p>Storage is a Caffeine cache bounded by {@link Builder#maximumBytes} (each entry weighs its
 * header fields and body), with Caffeine's clock read from the same Guava ticker; a response is
 * kept while it is fresh plus the stale windows it allows ({@code stale-while-revalidate}, {@code
 * stale-if-error}), or {@link Builder#staleRetention} when it has validators to be revalidated
 * with. Concurrent misses for one URL make one origin request (see {@link
 * Builder#coalesceTimeout}).
 *
 * <p>Metrics, with a registry: {@value #REQUESTS_METER} (counter; tag {@code result}: each
 * {@link CacheStatus#tag()}), {@value #SIZE_METER} (gauge, bytes) and {@value #EVICTIONS_METER}
 * (counter of responses evicted for size or age), each tagged {@code cache} with the cache's
 * {@linkplain Builder#name name}.
 *
 * <p>Thread-safe: build one and share it between routes (entries are keyed by route).
 */
public final class EdgeCache {
  /** Default bound of the whole cache: 64 MiB. */
  public static final long DEFAULT_MAXIMUM_BYTES = 64L << 20;
  /** Default largest body stored: 1 MiB; larger bodies stream through uncached. */
  public static final long DEFAULT_MAX_OBJECT_BYTES = 1L << 20;
  /**
   * Default longest wait of a request for the response another request is fetching for the same
   * URL: 5 s (nginx's {@code proxy_cache_lock_timeout}); then it goes to the origin itself.
   */
  public static final Duration DEFAULT_COALESCE_TIMEOUT = Duration.ofSeconds(5);
  /**
   * Default age of a fetch after which one more request for the same URL goes to the origin: 5 s
   * (nginx's {@code proxy_cache_lock_age}).
   */
  public static final Duration DEFAULT_COALESCE_LOCK_AGE = Duration.ofSeconds(5);
  /**
   * Default time a stale response with validators ({@code ETag}, {@code Last-Modified}) is kept
   * to be revalidated: 10 minutes (nginx's {@code inactive}).
   */
  public static final Duration DEFAULT_STALE_RETENTION = Duration.ofMinutes(10);
  /** Default {@link Builder#name}, the {@code cache} tag of the metrics. */
  public static final String DEFAULT_NAME = "edge";
  /** Name of the request counter. */
  public static final String REQUESTS_METER = "offload.cache.requests";
  /** Name of the size gauge. */
  public static final String SIZE_METER = "offload.cache.size";
  /** Name of the eviction counter. */
  public static final String EVICTIONS_METER = "offload.cache.evictions";

  private final Ticker ticker;
  private final long maximumBytes;
  private final long maxObjectBytes;
  private final long coalesceTimeoutNanos;
  private final long coalesceLockAgeNanos;
  private final long staleRetentionNanos;
  private final Cache<CacheKey, Variants> store;
  private final ConcurrentMap<CacheKey, Fetch> fetches = new ConcurrentHashMap<>();
  private final List<PurgeListener> purgeListeners = new CopyOnWriteArrayList<>();
  /** Raised by every purge, before it removes anything. */
  private final AtomicLong purgeEpoch = new AtomicLong();
  /** The epoch of the last prefix, tag or whole purge (or of a forgotten URL purge). */
  private volatile long broadPurgeEpoch;
  private static final int RECENT_URL_PURGES = 10_000;
  private static final System.Logger LOG = System.getLogger(EdgeCache.class.getName());
  /** The epochs of recent URL purges, by {@code host + ' ' + target}; bounded. */
  private final Cache<String, Long> recentUrlPurges;
  private final Map<CacheStatus, Counter> requests;
  private final Counter evictions;

  private EdgeCache(Builder b) {
    this.ticker = b.ticker;
    this.maximumBytes = b.maximumBytes;
    this.maxObjectBytes = b.maxObjectBytes;
    this.coalesceTimeoutNanos = b.coalesceTimeout.toNanos();
    this.coalesceLockAgeNanos = b.coalesceLockAge.toNanos();
    this.staleRetentionNanos = b.staleRetention.toNanos();
    if (b.registry != null) {
      Map<CacheStatus, Counter> counters = new EnumMap<>(CacheStatus.class);
      for (CacheStatus status : CacheStatus.values()) {
        counters.put(status, Counter.builder(REQUESTS_METER)
            .description("Requests on edge-cache routes, by what the cache did")
            .baseUnit("requests")
            .tag("result", status.tag())
            .tag("cache", b.name)
            .register(b.registry));
      }
      this.requests = counters;
      this.evictions = Counter.builder(EVICTIONS_METER)
          .description("Responses evicted from the edge cache for size or age")
          .baseUnit("responses")
          .tag("cache", b.name)
          .register(b.registry);
    } else {
      this.requests = null;
      this.evictions = null;
    }
    Ticker clock = b.ticker;
    this.recentUrlPurges = Caffeine.newBuilder()
        .ticker(clock::read)
        .executor(Runnable::run)
        .maximumSize(RECENT_URL_PURGES)
        .expireAfterWrite(Duration.ofMinutes(1))
        .<String, Long>evictionListener((url, epoch, cause) -> raiseBroadPurgeEpoch(epoch))
        .build();
    this.store = Caffeine.newBuilder()
        .ticker(clock::read)
        .executor(Runnable::run) // maintenance on the caller: deterministic under a fake ticker
        .maximumWeight(b.maximumBytes)
        .weigher((CacheKey key, Variants variants) -> variants.weight)
        .expireAfter(new Expiry<CacheKey, Variants>() {
          @Override
          public long expireAfterCreate(CacheKey key, Variants value, long currentTime) {
            return value.keepUntilNanos;
          }

          @Override
          public long expireAfterUpdate(CacheKey key, Variants value, long currentTime,
              long currentDuration) {
            return value.keepUntilNanos;
          }

          @Override
          public long expireAfterRead(CacheKey key, Variants value, long currentTime,
              long currentDuration) {
            return currentDuration;
          }
        })
        .evictionListener((CacheKey key, Variants value,
            com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
          if (evictions != null && cause.wasEvicted()) {
            evictions.increment();
          }
        })
        .build();
    if (b.registry != null) {
      Gauge.builder(SIZE_METER, this, EdgeCache::weightedSize)
          .description("Bytes held by the edge cache (header fields and bodies)")
          .baseUnit("bytes")
          .tag("cache", b.name)
          .register(b.registry);
    }
  }

  /**
   * Returns a cache with default settings on the system ticker.
   *
   * @return a cache with default settings on the system ticker
   */
  public static EdgeCache ofDefaults() {
    return builder().build();
  }

  /**
   * Returns a new builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the bound of the whole cache, in bytes.
   *
   * @return the bound of the whole cache, in bytes
   */
  public long maximumBytes() {
    return maximumBytes;
  }

  /**
   * Returns the largest body stored, in bytes.
   *
   * @return the largest body stored, in bytes
   */
  public long maxObjectBytes() {
    return maxObjectBytes;
  }

  /**
   * Returns the bytes held now (header fields and bodies of every stored response).
   *
   * @return the bytes held now (header fields and bodies of every stored response)
   */
  public long weightedSize() {
    return store.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
  }

  /**
   * Returns how many URLs (keys) have stored responses now.
   *
   * @return how many URLs (keys) have stored responses now
   */
  public long size() {
    return store.estimatedSize();
  }

  /**
   * Removes the stored responses for {@code host} and {@code target} ({@code /path?query},
   * percent-encoded as forwarded), on every route and of every variant.
   *
   * @param host the host
   * @param target the request target, as sent: origin-form or absolute-form
   * @return how many URLs were removed
   */
  public int purge(String host, String target) {
    return purged(Purge.url(requireNonNull(host, "host"), requireNonNull(target, "target")));
  }

  /**
   * Removes the stored responses whose path starts with {@code pathPrefix}, on every host and
   * route. Scans every key.
   *
   * @param pathPrefix the path prefix
   * @return how many URLs were removed
   */
  public int purgePrefix(String pathPrefix) {
    return purged(Purge.prefix(requireNonNull(pathPrefix, "pathPrefix")));
  }

  /**
   * Removes the stored responses tagged {@code tag} by their {@code Surrogate-Key} or {@code
   * Cache-Tag} field (space- or comma-separated tags). Scans every key.
   *
   * @param tag the tag
   * @return how many URLs were removed
   */
  public int purgeTag(String tag) {
    return purged(Purge.tag(requireNonNull(tag, "tag")));
  }

  /** Removes everything. */
  public void purgeAll() {
    purged(Purge.all());
  }

  /**
   * Adds a listener told of every purge made through this cache's purge methods (not of those
   * carried out by {@link #apply}).
   *
   * @param listener the listener
   */
  public void addPurgeListener(PurgeListener listener) {
    purgeListeners.add(requireNonNull(listener, "listener"));
  }

  /**
   * Carries out a purge made elsewhere (another instance of a fleet) without telling the
   * listeners. Like every purge, it also drops the responses of fills that started before it
   * and end after it, so a response fetched before an invalidation is never stored after it.
   *
   * @param purge what to purge
   * @return how many URLs were removed
   */
  public int apply(Purge purge) {
    requireNonNull(purge, "purge");
    long epoch = purgeEpoch.incrementAndGet(); // before removing: see store(response, epoch)
    switch (purge.kind()) {
      case URL -> {
        recentUrlPurges.put(purge.host() + ' ' + purge.value(), epoch);
        return removeIf(key -> key.host().equals(purge.host())
            && key.target().equals(purge.value()));
      }
      case PREFIX -> {
        raiseBroadPurgeEpoch(epoch);
        return removeIf(key -> key.path().startsWith(purge.value()));
      }
      case TAG -> {
        raiseBroadPurgeEpoch(epoch);
        int removed = 0;
        for (Map.Entry<CacheKey, Variants> e : store.asMap().entrySet()) {
          if (e.getValue().tagged(purge.value())
              && store.asMap().remove(e.getKey(), e.getValue())) {
            removed++;
          }
        }
        return removed;
      }
      default -> {
        raiseBroadPurgeEpoch(epoch);
        int removed = (int) Math.min(Integer.MAX_VALUE, store.estimatedSize());
        store.invalidateAll();
        return removed;
      }
    }
  }

  /**
   * Every fill older than {@code epoch} is dropped from now on: a prefix, tag or whole purge, or
   * a URL purge that leaves the table of recent ones.
   */
  private synchronized void raiseBroadPurgeEpoch(Long epoch) {
    if (epoch != null && epoch > broadPurgeEpoch) {
      broadPurgeEpoch = epoch;
    }
  }

  private int purged(Purge purge) {
    int removed = apply(purge);
    for (PurgeListener listener : purgeListeners) {
      try {
        listener.purged(purge);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "a purge listener failed on " + purge, e);
      }
    }
    return removed;
  }

  private int removeIf(java.util.function.Predicate<CacheKey> which) {
    int removed = 0;
    for (CacheKey key : store.asMap().keySet()) {
      if (which.test(key) && store.asMap().remove(key) != null) {
        removed++;
      }
    }
    return removed;
  }

  // --- used by the strategy and the fill ---

  Ticker ticker() {
    return ticker;
  }

  /** Reads without touching the entry's access order or statistics when {@code quietly}. */
  Variants lookup(CacheKey key, boolean quietly) {
    return quietly ? store.policy().getIfPresentQuietly(key) : store.getIfPresent(key);
  }

  /** The purge epoch now: a fill reads it when it starts. */
  long purgeEpoch() {
    return purgeEpoch.get();
  }

  /**
   * Stores a fill's response, unless a purge that may cover it came after the fill started
   * ({@code startEpoch}): such a response may predate the invalidation. The check runs inside
   * the key's compute, and a purge raises the epoch before it removes, so either the fill sees
   * the purge or the purge sees the stored response.
   */
  void store(StoredResponse response, long startEpoch) {
    long now = ticker.read();
    store.asMap().compute(response.key, (key, old) -> {
      if (purgedSince(key, startEpoch)) {
        return old;
      }
      return old == null ? Variants.of(response, now, staleRetentionNanos)
          : old.with(response, now, staleRetentionNanos);
    });
  }

  private boolean purgedSince(CacheKey key, long startEpoch) {
    if (purgeEpoch.get() == startEpoch) {
      return false; // no purge at all since the fill started
    }
    if (broadPurgeEpoch > startEpoch) {
      return true;
    }
    Long url = recentUrlPurges.getIfPresent(key.host() + ' ' + key.target());
    return url != null && url > startEpoch;
  }

  void record(CacheStatus status) {
    if (requests != null) {
      requests.get(status).increment();
    }
  }

  /**
   * Returns the fetch of {@code key} that another request is running and that this one should
   * wait for, or null when there is none or it is older than the lock age. Reads only.
   */
  Fetch running(CacheKey key, long nowNanos) {
    Fetch running = fetches.get(key);
    return running != null && nowNanos - running.startedNanos < coalesceLockAgeNanos
        ? running : null;
  }

  /**
   * Registers this request as the one fetching {@code key} and returns its fetch, or returns null
   * when another request registered first (wait for that one). A fetch older than the lock age
   * is replaced.
   */
  Fetch tryLead(CacheKey key, long nowNanos) {
    Fetch mine = new Fetch(key, nowNanos);
    Fetch previous = fetches.putIfAbsent(key, mine);
    if (previous == null) {
      return mine;
    }
    if (nowNanos - previous.startedNanos >= coalesceLockAgeNanos
        && fetches.replace(key, previous, mine)) {
      return mine;
    }
    return null;
  }

  void finish(Fetch fetch) {
    if (fetch != null) {
      fetches.remove(fetch.key, fetch);
      fetch.done.complete(null);
    }
  }

  long coalesceTimeoutNanos() {
    return coalesceTimeoutNanos;
  }

  /** One origin request that others with the same key wait for. */
  static final class Fetch {
    final CacheKey key;
    final long startedNanos;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    Fetch(CacheKey key, long startedNanos) {
      this.key = key;
      this.startedNanos = startedNanos;
    }
  }

  @Override
  public String toString() {
    return "EdgeCache(" + size() + " URLs, " + weightedSize() + " of " + maximumBytes + " bytes)";
  }

  /** Builds an {@link EdgeCache}. Setters reject bad values at once. Not thread-safe. */
  public static final class Builder {
    private long maximumBytes = DEFAULT_MAXIMUM_BYTES;
    private long maxObjectBytes = DEFAULT_MAX_OBJECT_BYTES;
    private Ticker ticker = Ticker.systemTicker();
    private MeterRegistry registry;
    private Duration coalesceTimeout = DEFAULT_COALESCE_TIMEOUT;
    private Duration coalesceLockAge = DEFAULT_COALESCE_LOCK_AGE;
    private String name = DEFAULT_NAME;
    private Duration staleRetention = DEFAULT_STALE_RETENTION;

    private Builder() {}

    /**
     * Sets how long a stale response with validators is kept after its freshness ends, to be
     * revalidated with them by the backend (a 304 freshens it) rather than fetched whole again
     * (default {@link #DEFAULT_STALE_RETENTION}). It still counts against {@link #maximumBytes}.
     *
     * @param retention the retention
     * @return this builder
     * @throws IllegalArgumentException naming {@code staleRetention} if negative
     */
    public Builder staleRetention(Duration retention) {
      requireNonNull(retention, "staleRetention");
      if (retention.isNegative()) {
        throw new IllegalArgumentException("staleRetention must not be negative, got " + retention);
      }
      this.staleRetention = retention;
      return this;
    }

    /**
     * Sets the name in the {@code cache} tag of the metrics (default {@value #DEFAULT_NAME}):
     * give each cache bound to one registry its own.
     *
     * @param name the name
     * @return this builder
     * @throws IllegalArgumentException naming {@code name} if blank
     */
    public Builder name(String name) {
      requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, got '" + name + "'");
      }
      this.name = name;
      return this;
    }

    /**
     * Sets the bound of the whole cache in bytes (default {@value #DEFAULT_MAXIMUM_BYTES}); the
     * least valuable responses are evicted past it.
     *
     * @param bytes the number of bytes
     * @return this builder
     * @throws IllegalArgumentException naming {@code maximumBytes} if not positive
     */
    public Builder maximumBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maximumBytes must be positive, got " + bytes);
      }
      this.maximumBytes = bytes;
      return this;
    }

    /**
     * Sets the largest body stored, in bytes (default {@value #DEFAULT_MAX_OBJECT_BYTES}); a
     * larger body is relayed to the client and not kept.
     *
     * @param bytes the number of bytes
     * @return this builder
     * @throws IllegalArgumentException naming {@code maxObjectBytes} if not positive or larger
     * than 1 GiB
     */
    public Builder maxObjectBytes(long bytes) {
      if (bytes <= 0 || bytes > (1L << 30)) {
        throw new IllegalArgumentException(
            "maxObjectBytes must be in 1..1073741824 (1 GiB), got " + bytes);
      }
      this.maxObjectBytes = bytes;
      return this;
    }

    /**
     * Sets the clock for ages and expiry (default: the system ticker); use the router's.
     *
     * @param ticker the clock
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Binds the cache's metrics to {@code registry}; none by default.
     *
     * @param registry the meter registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Sets how long a request waits for the response another request is fetching for the same
     * URL before it goes to the origin itself, without storing what it gets (default {@link
     * #DEFAULT_COALESCE_TIMEOUT}). The wait happens in the executor, never in {@code decide}.
     *
     * @param timeout the timeout
     * @return this builder
     * @throws IllegalArgumentException naming {@code coalesceTimeout} if not positive
     */
    public Builder coalesceTimeout(Duration timeout) {
      this.coalesceTimeout = Settings.positive("coalesceTimeout", timeout);
      return this;
    }

    /**
     * Sets how old a fetch may get before one more request for the same URL is let through to
     * the origin as the new fetch (default {@link #DEFAULT_COALESCE_LOCK_AGE}).
     *
     * @param age how long a fetch holds the lock
     * @return this builder
     * @throws IllegalArgumentException naming {@code coalesceLockAge} if not positive
     */
    public Builder coalesceLockAge(Duration age) {
      this.coalesceLockAge = Settings.positive("coalesceLockAge", age);
      return this;
    }

    /**
     * Returns the cache.
     *
     * @return the cache
     * @throws IllegalStateException if {@code maxObjectBytes} is larger than {@code maximumBytes}
     */
    public EdgeCache build() {
      if (maxObjectBytes > maximumBytes) {
        throw new IllegalStateException("maxObjectBytes " + maxObjectBytes
            + " is larger than maximumBytes " + maximumBytes + ": no such body could be kept");
      }
      return new EdgeCache(this);
    }
  }
}
