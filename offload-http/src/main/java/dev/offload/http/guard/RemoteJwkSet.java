package dev.offload.http.guard;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import com.nimbusds.jose.jwk.JWKSet;
import dev.offload.core.guard.JwkSetSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * A JWK set fetched from a JWKS URL with OkHttp, cached in memory, and refreshed in the
 * background: on a schedule, and when a token names a key id the cached set does not hold (a key
 * rotation), at most once per {@link Builder#minRefreshInterval minimum interval}. {@link
 * #current()} only reads the cached set, so a {@link dev.offload.core.guard.JwtAuthenticator}
 * on it never blocks or does I/O in {@code decide}.
 *
 * <pre>{@code
 * ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
 * RemoteJwkSet keys = RemoteJwkSet.builder(URI.create("https://id.example.com/.well-known/jwks.json"))
 *     .scheduler(scheduler)
 *     .build()
 *     .start();
 * Authenticator jwt = JwtAuthenticator.builder(keys).algorithms("RS256").issuer(iss).build();
 * }</pre>
 *
 * <p>Until the first fetch succeeds the set is empty and every token is refused (401). A fetch
 * that fails (connection, status other than 200, a body over {@link Builder#maxBytes}, not a
 * JWK set, no public key) keeps the keys held and is logged. Only public keys are kept: a
 * symmetric ({@code oct}) key or a private part published at a JWKS URL is dropped, so a remote
 * document can never supply an HMAC secret.
 *
 * <p>Thread-safe; {@link #close()} stops the schedule (not the scheduler, which the caller owns).
 */
public final class RemoteJwkSet implements JwkSetSource, AutoCloseable {
  /** The default interval of scheduled refreshes: 5 minutes. */
  public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofMinutes(5);
  /** The default least interval between refreshes asked for by unknown key ids: 30 seconds. */
  public static final Duration DEFAULT_MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);
  /** The default timeout of one fetch: 5 seconds. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  /** The default largest JWKS document read: 256 KiB. */
  public static final int DEFAULT_MAX_BYTES = 256 * 1024;

  private static final System.Logger LOG = System.getLogger(RemoteJwkSet.class.getName());
  private static final JWKSet EMPTY = new JWKSet();

  private final URI uri;
  private final OkHttpClient client;
  private final ScheduledExecutorService scheduler;
  private final Executor refreshExecutor;
  private final Ticker ticker;
  private final long refreshIntervalNanos;
  private final long minRefreshIntervalNanos;
  private final int maxBytes;
  private final AtomicLong lastOnDemand = new AtomicLong();
  private volatile boolean onDemandYet;
  private volatile JWKSet keys = EMPTY;
  private volatile ScheduledFuture<?> schedule;

  private RemoteJwkSet(Builder b) {
    this.uri = b.uri;
    OkHttpClient base = b.client != null ? b.client : DefaultClient.INSTANCE;
    this.client = base.newBuilder().callTimeout(b.timeout).build();
    this.scheduler = b.scheduler;
    this.refreshExecutor = b.refreshExecutor != null ? b.refreshExecutor : b.scheduler;
    this.ticker = b.ticker;
    this.refreshIntervalNanos = b.refreshInterval.toNanos();
    this.minRefreshIntervalNanos = b.minRefreshInterval.toNanos();
    this.maxBytes = b.maxBytes;
  }

  /**
   * Returns a builder for the JWKS at {@code uri} ({@code http} or {@code https}).
   *
   * @param uri where the JWK set is fetched from
   * @return a builder for the JWKS at {@code uri} ({@code http} or {@code https})
   */
  public static Builder builder(URI uri) {
    requireNonNull(uri, "uri");
    String scheme = uri.getScheme();
    if (!"https".equalsIgnoreCase(scheme) && !"http".equalsIgnoreCase(scheme)) {
      throw new IllegalArgumentException("uri must be http or https, was '" + uri + "'");
    }
    return new Builder(uri);
  }

  /**
   * Fetches the set at once on the scheduler, then every refresh interval; returns this.
   *
   * @return this set
   * @throws IllegalStateException if already started
   */
  public synchronized RemoteJwkSet start() {
    if (schedule != null) {
      throw new IllegalStateException("already started");
    }
    schedule = scheduler.scheduleWithFixedDelay(this::refreshLogged, 0, refreshIntervalNanos,
        TimeUnit.NANOSECONDS);
    return this;
  }

  @Override
  public JWKSet current() {
    return keys;
  }

  /**
   * Asks for a refresh on the refresh executor, unless one was asked for by an unknown key id
   * less than the minimum interval ago (on the ticker). Never blocks.
   */
  @Override
  public void unknownKeyId(String kid) {
    long now = ticker.read();
    long last = lastOnDemand.get();
    if (onDemandYet && now - last < minRefreshIntervalNanos) {
      return;
    }
    if (!lastOnDemand.compareAndSet(last, now)) {
      return; // another thread asked just now
    }
    onDemandYet = true;
    try {
      refreshExecutor.execute(this::refreshLogged);
    } catch (RejectedExecutionException e) {
      LOG.log(System.Logger.Level.WARNING, "JWKS refresh of " + uri + " was not accepted", e);
    }
  }

  /**
   * Fetches the set now, on the calling thread (blocking I/O: call it from the background, or
   * once at startup), and replaces the cached keys when it succeeds.
   *
   * @throws IOException if the fetch fails; the keys held are kept
   */
  public synchronized void refresh() throws IOException {
    Request request = new Request.Builder().url(uri.toString())
        .header("Accept", "application/jwk-set+json, application/json").build();
    try (Response response = client.newCall(request).execute()) {
      if (response.code() != 200) {
        throw new IOException("JWKS " + uri + " answered " + response.code());
      }
      ResponseBody body = response.body();
      byte[] bytes;
      try (InputStream in = body.byteStream()) {
        bytes = in.readNBytes(maxBytes + 1);
      }
      if (bytes.length > maxBytes) {
        throw new IOException("JWKS " + uri + " is larger than " + maxBytes + " bytes");
      }
      JWKSet fetched;
      try {
        fetched = JWKSet.parse(new String(bytes, StandardCharsets.UTF_8)).toPublicJWKSet();
      } catch (ParseException e) {
        throw new IOException("JWKS " + uri + " is not a JWK set: " + e.getMessage(), e);
      }
      if (fetched.isEmpty()) {
        throw new IOException("JWKS " + uri + " holds no public key");
      }
      keys = fetched;
    }
  }

  private void refreshLogged() {
    try {
      refresh();
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "JWKS refresh failed, keeping the keys held: " + e);
    }
  }

  /** Stops the scheduled refreshes; the scheduler itself belongs to the caller. */
  @Override
  public synchronized void close() {
    if (schedule != null) {
      schedule.cancel(false);
    }
  }

  @Override
  public String toString() {
    return "RemoteJwkSet(" + uri + ", " + keys.size() + " keys)";
  }

  private static final class DefaultClient {
    static final OkHttpClient INSTANCE = new OkHttpClient();
  }

  /** Builds a {@link RemoteJwkSet}. Not thread-safe. */
  public static final class Builder {
    private final URI uri;
    private OkHttpClient client;
    private ScheduledExecutorService scheduler;
    private Executor refreshExecutor;
    private Ticker ticker = Ticker.systemTicker();
    private Duration refreshInterval = DEFAULT_REFRESH_INTERVAL;
    private Duration minRefreshInterval = DEFAULT_MIN_REFRESH_INTERVAL;
    private Duration timeout = DEFAULT_TIMEOUT;
    private int maxBytes = DEFAULT_MAX_BYTES;

    private Builder(URI uri) {
      this.uri = uri;
    }

    /**
     * Sets the client to derive from (default: one shared client of this class).
     *
     * @param client the client
     * @return this builder
     */
    public Builder okHttpClient(OkHttpClient client) {
      this.client = requireNonNull(client, "client");
      return this;
    }

    /**
     * Sets the scheduler of the periodic refresh. Required; owned by the caller.
     *
     * @param scheduler the scheduler
     * @return this builder
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Sets where refreshes asked for by unknown key ids run (default: the scheduler).
     *
     * @param executor the executor
     * @return this builder
     */
    public Builder refreshExecutor(Executor executor) {
      this.refreshExecutor = requireNonNull(executor, "refreshExecutor");
      return this;
    }

    /**
     * Sets the clock of the minimum refresh interval (default: the system ticker).
     *
     * @param ticker the clock
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets the interval of scheduled refreshes (default {@link #DEFAULT_REFRESH_INTERVAL}).
     *
     * @param interval the interval
     * @return this builder
     * @throws IllegalArgumentException if below one second
     */
    public Builder refreshInterval(Duration interval) {
      this.refreshInterval = atLeast("refreshInterval", interval, Duration.ofSeconds(1));
      return this;
    }

    /**
     * Sets the least interval between refreshes asked for by unknown key ids (default {@link
     * #DEFAULT_MIN_REFRESH_INTERVAL}): tokens with made-up key ids cannot make us hammer the
     * issuer.
     *
     * @param interval the interval
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder minRefreshInterval(Duration interval) {
      this.minRefreshInterval = atLeast("minRefreshInterval", interval, Duration.ZERO);
      return this;
    }

    /**
     * Sets the timeout of one fetch (default {@link #DEFAULT_TIMEOUT}).
     *
     * @param timeout the timeout
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder timeout(Duration timeout) {
      this.timeout = atLeast("timeout", timeout, Duration.ofMillis(1));
      return this;
    }

    /**
     * Sets the largest JWKS document read (default {@value #DEFAULT_MAX_BYTES}).
     *
     * @param maxBytes the max bytes
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder maxBytes(int maxBytes) {
      if (maxBytes <= 0) {
        throw new IllegalArgumentException("maxBytes must be positive, was " + maxBytes);
      }
      this.maxBytes = maxBytes;
      return this;
    }

    /**
     * Returns the source, empty until {@link RemoteJwkSet#start()} or {@link
     * RemoteJwkSet#refresh()} fetched it.
     *
     * @return the source, empty until {@link RemoteJwkSet#start()} or {@link
     *     RemoteJwkSet#refresh()} fetched it
     * @throws IllegalStateException if no scheduler was set
     */
    public RemoteJwkSet build() {
      if (scheduler == null) {
        throw new IllegalStateException("scheduler is required: RemoteJwkSet refreshes in the "
            + "background, never inside decide");
      }
      return new RemoteJwkSet(this);
    }

    private static Duration atLeast(String setting, Duration value, Duration min) {
      requireNonNull(value, setting);
      if (value.compareTo(min) < 0) {
        throw new IllegalArgumentException(setting + " must be at least " + min + ", was "
            + value);
      }
      return value;
    }
  }
}
