package dev.offload.http.cdn;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.core.cdn.CdnPurgeException;
import dev.offload.core.cdn.CdnPurger;
import dev.offload.core.cdn.PurgeResult;
import dev.offload.core.internal.BaseUri;
import dev.offload.core.internal.HttpSyntax;
import dev.offload.core.internal.Settings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * A {@link CdnPurger} that posts purges to an HTTP endpoint: {@code POST {endpoint}/purge} with
 * {@code {"urls": [...]}} or {@code {"tags": [...]}}, for a CDN's purge API or a small relay in
 * front of it.
 *
 * <pre>{@code
 * HttpCdnPurger purger = HttpCdnPurger.builder(URI.create("https://purge.example.com/v1"))
 *     .authHeader("Authorization", "Bearer " + token)
 *     .maxAttempts(5)
 *     .backoff(Duration.ofMillis(500))
 *     .meterRegistry(registry)
 *     .build();
 * purger.purgeUrls(List.of(URI.create("https://cdn.example.com/docs/intro")))
 *     .whenComplete((result, failure) -> ...);
 * }</pre>
 *
 * <p><b>Answers.</b> A 2xx completes the future with a {@link PurgeResult}. A 5xx or an I/O
 * failure (connect, timeout, reset) is tried again, up to {@link Builder#maxAttempts} requests
 * in all, after an exponential backoff with jitter: before attempt {@code n + 1} it waits a
 * random time between half and all of {@code backoff * 2^(n-1)}, capped at {@code maxBackoff}.
 * Any other status (a 4xx: bad credentials, a malformed purge; a 3xx: redirects are not
 * followed) fails at once. A failure completes the future exceptionally with a {@link
 * CdnPurgeException} naming what was purged, the attempts and the last status or I/O failure,
 * and is logged as a warning: never silently dropped. The auth header's value never appears in a
 * message, a log line or {@code toString()}.
 *
 * <p><b>Threads.</b> Requests run on the OkHttp client's dispatcher (derived from the client
 * given, sharing its pool); retries are scheduled on the {@link Builder#scheduler} given, or on
 * one daemon thread of the purger's own that {@link #close()} stops. Nothing blocks the caller.
 *
 * <p><b>Metrics</b>, with a registry: {@value #PURGES_METER} (counter; tags {@code kind} {@code
 * url}|{@code tag}, {@code result} {@code success}|{@code failure}|{@code retried}): one {@code
 * success} or {@code failure} per purge, one {@code retried} per request sent again.
 *
 * <p>Thread-safe; build one and share it.
 */
public final class HttpCdnPurger implements CdnPurger, AutoCloseable {
  /** The counter of purges, by {@code kind} and {@code result}. */
  public static final String PURGES_METER = "offload.cdn.purges";
  /** Requests sent for one purge at most, the first included. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;
  /** The wait before the second attempt; doubled for each further one. */
  public static final Duration DEFAULT_BACKOFF = Duration.ofMillis(200);
  /** The longest wait between two attempts. */
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(10);
  /** The deadline of one request, from connecting to reading the whole response. */
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(10);

  private static final System.Logger LOG = System.getLogger(HttpCdnPurger.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final MediaType JSON_TYPE = MediaType.get("application/json");
  /** How much of an error response's body goes into a failure message. */
  private static final int ERROR_BODY_CHARS = 200;

  private final URI endpoint;
  private final HttpUrl purgeUrl;
  private final String authName;
  private final String authValue;
  private final OkHttpClient client;
  private final int maxAttempts;
  private final Duration backoff;
  private final Duration maxBackoff;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final MeterRegistry registry;

  private HttpCdnPurger(Builder b) {
    this.endpoint = b.endpoint;
    String base = b.endpoint.toASCIIString();
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    this.purgeUrl = HttpUrl.get(base + "/purge");
    this.authName = b.authName;
    this.authValue = b.authValue;
    OkHttpClient base0 = b.client != null ? b.client : DefaultClient.INSTANCE;
    this.client = base0.newBuilder()
        .followRedirects(false)
        .followSslRedirects(false)
        .retryOnConnectionFailure(false) // attempts are counted here, never hidden in OkHttp
        .callTimeout(b.callTimeout)
        .build();
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.backoff;
    this.maxBackoff = b.maxBackoff;
    if (b.scheduler != null) {
      this.scheduler = b.scheduler;
      this.ownsScheduler = false;
    } else {
      ScheduledThreadPoolExecutor own = new ScheduledThreadPoolExecutor(1, runnable -> {
        Thread thread = new Thread(runnable, "offload-cdn-purge-retry");
        thread.setDaemon(true);
        return thread;
      });
      own.setRemoveOnCancelPolicy(true);
      this.scheduler = own;
      this.ownsScheduler = true;
    }
    this.registry = b.registry;
  }

  /**
   * Returns a builder for a purger that posts to {@code endpoint}{@code /purge}.
   *
   * @param endpoint an absolute http(s) URI with a host and no user info, query or fragment
   * @return a builder for a purger that posts to {@code endpoint}{@code /purge}
   * @throws IllegalArgumentException for any other URI, naming it
   */
  public static Builder builder(URI endpoint) {
    return new Builder(BaseUri.check("endpoint", endpoint));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Duplicates are purged once; an empty collection completes at once, sending nothing.
   */
  @Override
  public CompletableFuture<PurgeResult> purgeUrls(Collection<URI> urls) {
    requireNonNull(urls, "urls");
    LinkedHashSet<String> items = new LinkedHashSet<>();
    for (URI url : urls) {
      requireNonNull(url, "urls holds null");
      String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || url.getHost() == null) {
        throw new IllegalArgumentException(
            "a URL to purge must be absolute http or https with a host, got '" + url + "'");
      }
      items.add(url.toASCIIString());
    }
    return purge(PurgeResult.Kind.URL, "urls", List.copyOf(items));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Duplicates are purged once; an empty collection completes at once, sending nothing.
   */
  @Override
  public CompletableFuture<PurgeResult> purgeTags(Collection<String> tags) {
    requireNonNull(tags, "tags");
    LinkedHashSet<String> items = new LinkedHashSet<>();
    for (String tag : tags) {
      requireNonNull(tag, "tags holds null");
      if (!HttpSyntax.isToken(tag)) {
        throw new IllegalArgumentException("a tag to purge must be a token (letters, digits, "
            + "!#$%&'*+-.^_`|~), got '" + tag + "'");
      }
      items.add(tag);
    }
    return purge(PurgeResult.Kind.TAG, "tags", List.copyOf(items));
  }

  private CompletableFuture<PurgeResult> purge(PurgeResult.Kind kind, String field,
      List<String> items) {
    if (items.isEmpty()) {
      return CompletableFuture.completedFuture(new PurgeResult(kind, items, 0, 0));
    }
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(Map.of(field, items));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot write the purge request as JSON", e);
    }
    Request.Builder request = new Request.Builder().url(purgeUrl)
        .post(RequestBody.create(body, JSON_TYPE));
    if (authName != null) {
      request.header(authName, authValue);
    }
    Purge purge = new Purge(kind, items, request.build());
    attempt(purge);
    return purge.future;
  }

  private void attempt(Purge purge) {
    purge.attempts.incrementAndGet();
    try {
      client.newCall(purge.request).enqueue(new Callback() {
        @Override
        public void onFailure(Call call, IOException e) {
          retryOrFail(purge, 0, e.toString(), e);
        }

        @Override
        public void onResponse(Call call, Response response) {
          try (response) {
            int status = response.code();
            if (status >= 200 && status < 300) {
              succeed(purge, status);
            } else if (status >= 500) {
              retryOrFail(purge, status, "HTTP " + status + errorBody(response), null);
            } else {
              fail(purge, status, "HTTP " + status + errorBody(response), null);
            }
          } catch (RuntimeException e) {
            fail(purge, 0, e.toString(), e);
          }
        }
      });
    } catch (RuntimeException e) { // the dispatcher's executor was shut down
      fail(purge, 0, e.toString(), e);
    }
  }

  private void retryOrFail(Purge purge, int status, String why, Throwable cause) {
    int attempts = purge.attempts.get();
    if (attempts >= maxAttempts) {
      fail(purge, status, why, cause);
      return;
    }
    long delay = delayNanos(attempts);
    LOG.log(System.Logger.Level.INFO, () -> describe(purge) + ": attempt " + attempts + " got "
        + why + "; trying again in " + Duration.ofNanos(delay).toMillis() + " ms");
    count(purge.kind, "retried");
    try {
      scheduler.schedule(() -> attempt(purge), delay, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      fail(purge, status, why + ", and the retry could not be scheduled (" + e + ")", cause);
    }
  }

  /** Exponential, capped, with equal jitter: uniformly in [d/2, d]. */
  private long delayNanos(int attemptsMade) {
    long base = backoff.toNanos();
    long max = maxBackoff.toNanos();
    int doublings = Math.min(attemptsMade - 1, 62);
    long d = base > (max >> doublings) ? max : Math.min(max, base << doublings);
    long half = d / 2;
    return half + ThreadLocalRandom.current().nextLong(d - half + 1);
  }

  private void succeed(Purge purge, int status) {
    count(purge.kind, "success");
    purge.future.complete(new PurgeResult(purge.kind, purge.items, purge.attempts.get(), status));
  }

  private void fail(Purge purge, int status, String why, Throwable cause) {
    int attempts = purge.attempts.get();
    String message = describe(purge) + " failed after " + attempts
        + (attempts == 1 ? " attempt: " : " attempts: ") + why;
    count(purge.kind, "failure");
    LOG.log(System.Logger.Level.WARNING, message, cause);
    purge.future.completeExceptionally(
        new CdnPurgeException(message, purge.kind, attempts, status, cause));
  }

  private String describe(Purge purge) {
    int n = purge.items.size();
    String what = n == 1 ? purge.kind.tag() : purge.kind.tag() + "s";
    List<String> shown = n <= 3 ? purge.items : new ArrayList<>(purge.items.subList(0, 3));
    return "CDN purge of " + n + " " + what + " " + shown + (n > 3 ? " (and " + (n - 3)
        + " more)" : "") + " at " + purgeUrl;
  }

  private static String errorBody(Response response) {
    try {
      String text = response.peekBody(ERROR_BODY_CHARS).string().strip();
      if (text.isEmpty()) {
        return "";
      }
      StringBuilder sb = new StringBuilder(", body: ");
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        sb.append(c < 0x20 || c == 0x7f ? ' ' : c);
      }
      return sb.toString();
    } catch (IOException e) {
      return "";
    }
  }

  private void count(PurgeResult.Kind kind, String result) {
    if (registry != null) {
      Counter.builder(PURGES_METER)
          .description("CDN purges, by kind and result; retried counts requests sent again")
          .baseUnit("purges")
          .tag("kind", kind.tag())
          .tag("result", result)
          .register(registry)
          .increment();
    }
  }

  /** Stops the purger's own retry thread, if it has one; a scheduler given is left running. */
  @Override
  public void close() {
    if (ownsScheduler) {
      scheduler.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "HttpCdnPurger(" + purgeUrl + (authName == null ? "" : ", " + authName + ": ***")
        + ", maxAttempts=" + maxAttempts + ", backoff=" + backoff + ")";
  }

  /**
   * Returns the endpoint purges are posted under.
   *
   * @return the endpoint purges are posted under
   */
  public URI endpoint() {
    return endpoint;
  }

  /** One purge across its attempts. */
  private static final class Purge {
    final PurgeResult.Kind kind;
    final List<String> items;
    final Request request;
    final AtomicInteger attempts = new AtomicInteger();
    final CompletableFuture<PurgeResult> future = new CompletableFuture<>();

    Purge(PurgeResult.Kind kind, List<String> items, Request request) {
      this.kind = kind;
      this.items = items;
      this.request = request;
    }
  }

  /** The client purgers derive from when none is given: created once, on first use. */
  private static final class DefaultClient {
    static final OkHttpClient INSTANCE = new OkHttpClient();
  }

  /** Builds an {@link HttpCdnPurger}. Not thread-safe. */
  public static final class Builder {
    private final URI endpoint;
    private String authName;
    private String authValue;
    private OkHttpClient client;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration backoff = DEFAULT_BACKOFF;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private Duration callTimeout = DEFAULT_CALL_TIMEOUT;
    private ScheduledExecutorService scheduler;
    private MeterRegistry registry;

    private Builder(URI endpoint) {
      this.endpoint = endpoint;
    }

    /**
     * Sends {@code name: value} with every purge ({@code Authorization}, {@code Fastly-Key},
     * ...). The value is a secret: it is never printed.
     *
     * @param name the name
     * @param value the value
     * @return this builder
     * @throws IllegalArgumentException if {@code name} is not a token or {@code value} is not
     * printable ASCII (the message never shows the value)
     */
    public Builder authHeader(String name, String value) {
      requireNonNull(name, "name");
      requireNonNull(value, "value");
      if (!HttpSyntax.isToken(name)) {
        throw new IllegalArgumentException("authHeader name must be a token, got '" + name + "'");
      }
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if ((c < 0x20 && c != '\t') || c >= 0x7f) {
          throw new IllegalArgumentException("authHeader value for " + name
              + " must be printable ASCII, has a character outside it at index " + i);
        }
      }
      this.authName = name;
      this.authValue = value;
      return this;
    }

    /**
     * Sets the OkHttp client to derive from with {@code newBuilder()}, sharing its connection
     * pool and dispatcher; redirects are never followed and OkHttp's own retry is off, whatever
     * the client says. Default: one client shared by every purger.
     *
     * @param client the client
     * @return this builder
     */
    public Builder okHttpClient(OkHttpClient client) {
      this.client = requireNonNull(client, "okHttpClient");
      return this;
    }

    /**
     * Sets how many requests one purge may take, the first included (default {@value
     * #DEFAULT_MAX_ATTEMPTS}; 1 means no retry).
     *
     * @param attempts the attempts
     * @return this builder
     * @throws IllegalArgumentException naming the setting if {@code attempts} is below 1
     */
    public Builder maxAttempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, got " + attempts);
      }
      this.maxAttempts = attempts;
      return this;
    }

    /**
     * Sets the wait before the second attempt, doubled for each further one and jittered
     * (default {@link #DEFAULT_BACKOFF}).
     *
     * @param backoff the backoff
     * @return this builder
     * @throws IllegalArgumentException naming the setting if {@code backoff} is not positive
     */
    public Builder backoff(Duration backoff) {
      this.backoff = Settings.positive("backoff", backoff);
      return this;
    }

    /**
     * Sets the longest wait between attempts (default {@link #DEFAULT_MAX_BACKOFF}).
     *
     * @param maxBackoff the max backoff
     * @return this builder
     * @throws IllegalArgumentException naming the setting if {@code maxBackoff} is not positive
     */
    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = Settings.positive("maxBackoff", maxBackoff);
      return this;
    }

    /**
     * Sets the deadline of one request (default {@link #DEFAULT_CALL_TIMEOUT}); a request that
     * misses it is an I/O failure, tried again.
     *
     * @param timeout the timeout
     * @return this builder
     * @throws IllegalArgumentException naming the setting if {@code timeout} is not positive
     */
    public Builder callTimeout(Duration timeout) {
      this.callTimeout = Settings.positive("callTimeout", timeout);
      return this;
    }

    /**
     * Sets where retries are scheduled. The purger does not shut it down. Default: one daemon
     * thread of the purger's own, stopped by {@link HttpCdnPurger#close()}.
     *
     * @param scheduler the scheduler
     * @return this builder
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Sets the registry for {@value HttpCdnPurger#PURGES_METER}; none by default.
     *
     * @param registry the meter registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Returns the purger.
     *
     * @return the purger
     * @throws IllegalArgumentException if {@code maxBackoff} is shorter than {@code backoff}
     */
    public HttpCdnPurger build() {
      if (maxBackoff.compareTo(backoff) < 0) {
        throw new IllegalArgumentException("maxBackoff (" + maxBackoff
            + ") must not be shorter than backoff (" + backoff + ")");
      }
      return new HttpCdnPurger(this);
    }
  }
}
