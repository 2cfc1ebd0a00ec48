package dev.offload.http.guard;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import dev.offload.core.CachedResponse;
import dev.offload.core.DecisionContext;
import dev.offload.core.DecisionHandle;
import dev.offload.core.Guard;
import dev.offload.core.GuardVerdict;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Route;
import dev.offload.core.internal.HttpSyntax;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * A guard that asks an external authorization service, as nginx {@code auth_request} or Envoy
 * {@code ext_authz} do: a {@code GET} to the service with the original method and URI ({@code
 * X-Original-Method}, {@code X-Original-URI}) and the request's credential fields (default
 * {@code Authorization}, {@code Cookie}); a 2xx answer admits, 401 and 403 deny with that status
 * (and the service's {@code WWW-Authenticate}), anything else (another status, a timeout, a
 * connection failure) denies with 503: it fails closed.
 *
 * <pre>{@code
 * Guard authz = ExternalAuthorizer.builder(URI.create("http://authz.internal:9000/check"))
 *     .timeout(Duration.ofMillis(500))
 *     .cacheTtl(Duration.ofSeconds(30))
 *     .skip(Route.prefix("/static/"))
 *     .build();
 * }</pre>
 *
 * <p><b>{@code decide} does not block.</b> The guard looks the request up in a cache of the
 * service's answers (by SHA-256 of the method, path, query and credential fields, so no
 * credential is held in clear as a key), for {@link Builder#cacheTtl} on the injected ticker. A
 * hit is applied at once. On a miss, the guard admits with a {@link
 * dev.offload.core.DeferredCheck}: the <em>executor</em> makes the call, on the request's
 * thread, bounded by {@link Builder#timeout}, before it executes the decision, and caches the
 * answer. While explaining, no call is made. A CDN redirect route cannot wait for the call and
 * is refused with 500 on a miss: {@link Builder#skip} such public routes.
 *
 * <p><b>Identity.</b> The service's answer fields named in {@link Builder#identityHeaders}
 * (default {@code X-Auth-Subject}, {@code X-Auth-Scopes}) are set on the forwarded request, and
 * the client's fields of those names and their underscore look-alikes are removed (set empty
 * when the service sent none), so they cannot be forged. A pass-through host gets no identity
 * from this guard.
 *
 * <p>Immutable and thread-safe.
 */
public final class ExternalAuthorizer implements Guard {
  /** The default timeout of one call: 1 second. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
  /** The default time an answer is reused: 30 seconds. */
  public static final Duration DEFAULT_CACHE_TTL = Duration.ofSeconds(30);
  /** The default number of answers kept. */
  public static final int DEFAULT_MAX_CACHE_ENTRIES = 10_000;
  /** The request fields sent to the service by default. */
  public static final List<String> DEFAULT_CREDENTIAL_HEADERS = List.of("Authorization", "Cookie");
  /** The service's answer fields passed to the backend by default. */
  public static final List<String> DEFAULT_IDENTITY_HEADERS =
      List.of("X-Auth-Subject", "X-Auth-Scopes");

  private static final Headers TEXT = Headers.of("Content-Type", "text/plain; charset=utf-8");

  private final URI uri;
  private final OkHttpClient client;
  private final List<String> credentialHeaders;
  private final List<String> identityHeaders;
  private final List<Route> skipped;
  private final Cache<String, Answer> answers;

  private ExternalAuthorizer(Builder b) {
    this.uri = b.uri;
    OkHttpClient base = b.client != null ? b.client : DefaultClient.INSTANCE;
    this.client = base.newBuilder().callTimeout(b.timeout).followRedirects(false).build();
    this.credentialHeaders = List.copyOf(b.credentialHeaders);
    this.identityHeaders = List.copyOf(b.identityHeaders);
    this.skipped = List.copyOf(b.skipped);
    Ticker ticker = b.ticker;
    this.answers = CacheBuilder.newBuilder()
        .ticker(ticker)
        .expireAfterWrite(b.cacheTtl)
        .maximumSize(b.cacheTtl.isZero() ? 0 : b.maxCacheEntries)
        .build();
  }

  /**
   * Returns a builder for the service at {@code uri} ({@code http} or {@code https}).
   *
   * @param uri the authorizer's endpoint
   * @return a builder for the service at {@code uri} ({@code http} or {@code https})
   */
  public static Builder builder(URI uri) {
    requireNonNull(uri, "uri");
    String scheme = uri.getScheme();
    if (!"https".equalsIgnoreCase(scheme) && !"http".equalsIgnoreCase(scheme)) {
      throw new IllegalArgumentException("uri must be http or https, was '" + uri + "'");
    }
    return new Builder(uri);
  }

  /** What the service answered, as this guard applies it. */
  private record Answer(GuardVerdict verdict, Optional<CachedResponse> denial, Headers identity) {}

  @Override
  public GuardVerdict check(OffloadRequest request, DecisionContext context) {
    for (Route route : skipped) {
      if (route.matches(request)) {
        context.note("authorization", "skipped");
        return GuardVerdict.admit();
      }
    }
    String key = key(request);
    Answer cached = answers.getIfPresent(key);
    if (cached != null) {
      context.note("authorization", "cached");
      return cached.verdict;
    }
    context.note("authorization", "deferred to the executor");
    return GuardVerdict.admit().withDeferredCheck(handle -> {
      Answer answer = answers.getIfPresent(key);
      if (answer == null) {
        answer = call(request);
        if (answer.verdict.admitted() || answer.verdict.rejection().get().status() != 503) {
          answers.put(key, answer);
        }
      }
      if (answer.denial.isEmpty()) {
        handle.setRequestHeaders(answer.identity);
      }
      return answer.denial;
    });
  }

  private String key(OffloadRequest request) {
    Hasher hasher = Hashing.sha256().newHasher()
        .putString(request.method(), UTF_8).putByte((byte) 0)
        .putString(request.encodedPath(), UTF_8).putByte((byte) 0)
        .putString(request.rawQuery().orElse(""), UTF_8);
    for (String name : credentialHeaders) {
      for (String value : request.headers().all(name)) {
        hasher.putByte((byte) 0).putString(name, UTF_8).putByte((byte) 1).putString(value, UTF_8);
      }
    }
    return hasher.hash().toString();
  }

  /** Calls the service; blocking, bounded by the call timeout. */
  private Answer call(OffloadRequest request) throws InterruptedException {
    String target = request.encodedPath()
        + request.rawQuery().map(q -> "?" + q).orElse("");
    Request.Builder builder = new Request.Builder().url(uri.toString())
        .header("X-Original-Method", request.method())
        .header("X-Original-URI", target);
    for (String name : credentialHeaders) {
      for (String value : request.headers().all(name)) {
        builder.addHeader(name, value);
      }
    }
    try (Response response = client.newCall(builder.build()).execute()) {
      int status = response.code();
      if (status >= 200 && status < 300) {
        Headers.Builder identity = Headers.builder();
        for (String name : identityHeaders) {
          identity.add(name, response.header(name, ""));
        }
        Headers fields = identity.build();
        return new Answer(GuardVerdict.admit().withRequestHeaders(fields), Optional.empty(),
            fields);
      }
      if (status == 401 || status == 403) {
        String challenge = response.header("WWW-Authenticate");
        Headers headers = status == 401 && challenge != null
            ? Headers.of("WWW-Authenticate", challenge) : Headers.empty();
        String reason = status == 401 ? "authentication required" : "forbidden";
        return denial(status, reason, headers);
      }
      return denial(503, "authorization service unavailable", Headers.empty());
    } catch (InterruptedIOException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException("authorization call interrupted");
      }
      return denial(503, "authorization service unavailable", Headers.empty());
    } catch (IOException e) {
      return denial(503, "authorization service unavailable", Headers.empty());
    }
  }

  private static Answer denial(int status, String reason, Headers headers) {
    return new Answer(GuardVerdict.deny(status, reason, headers),
        Optional.of(CachedResponse.of(status, TEXT.plus(headers), (reason + "\n").getBytes(UTF_8))),
        Headers.empty());
  }

  @Override
  public String describe() {
    return "externalAuthorizer(" + uri + ")";
  }

  @Override
  public String toString() {
    return describe();
  }

  private static final class DefaultClient {
    static final OkHttpClient INSTANCE = new OkHttpClient();
  }

  /** Builds an {@link ExternalAuthorizer}. Not thread-safe. */
  public static final class Builder {
    private final URI uri;
    private OkHttpClient client;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Duration cacheTtl = DEFAULT_CACHE_TTL;
    private int maxCacheEntries = DEFAULT_MAX_CACHE_ENTRIES;
    private Ticker ticker = Ticker.systemTicker();
    private List<String> credentialHeaders = DEFAULT_CREDENTIAL_HEADERS;
    private List<String> identityHeaders = DEFAULT_IDENTITY_HEADERS;
    private final List<Route> skipped = new ArrayList<>();

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
     * Sets the timeout of one call (default {@link #DEFAULT_TIMEOUT}); past it, 503.
     *
     * @param timeout the timeout
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder timeout(Duration timeout) {
      requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Sets how long an answer (admit, 401, 403; never a 503) is reused for the same request
     * (default {@link #DEFAULT_CACHE_TTL}; zero: call for every request). A revoked credential
     * is honoured only after it.
     *
     * @param ttl how long an answer is reused
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder cacheTtl(Duration ttl) {
      requireNonNull(ttl, "cacheTtl");
      if (ttl.isNegative()) {
        throw new IllegalArgumentException("cacheTtl must not be negative, was " + ttl);
      }
      this.cacheTtl = ttl;
      return this;
    }

    /**
     * Sets the number of answers kept (default {@value #DEFAULT_MAX_CACHE_ENTRIES}).
     *
     * @param entries the entries
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder maxCacheEntries(int entries) {
      if (entries < 0) {
        throw new IllegalArgumentException("maxCacheEntries must not be negative, was " + entries);
      }
      this.maxCacheEntries = entries;
      return this;
    }

    /**
     * Sets the clock of the answer cache (default: the system ticker).
     *
     * @param ticker the clock
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets the request fields sent to the service (default {@link
     * #DEFAULT_CREDENTIAL_HEADERS}).
     *
     * @param names the names
     * @return this builder
     * @throws IllegalArgumentException if a name is not a header name
     */
    public Builder credentialHeaders(String... names) {
      this.credentialHeaders = names("credentialHeaders", names);
      return this;
    }

    /**
     * Sets the service's answer fields passed to the backend (default {@link
     * #DEFAULT_IDENTITY_HEADERS}).
     *
     * @param names the names
     * @return this builder
     * @throws IllegalArgumentException if a name is not a header name or holds {@code _}
     */
    public Builder identityHeaders(String... names) {
      List<String> checked = names("identityHeaders", names);
      for (String name : checked) {
        if (name.indexOf('_') >= 0) {
          throw new IllegalArgumentException(
              "identityHeaders must not hold '_' (servers drop such names), was '" + name + "'");
        }
      }
      this.identityHeaders = checked;
      return this;
    }

    /**
     * Admits requests matching {@code route} without asking (public routes, CDN redirects).
     *
     * @param route the route
     * @return this builder
     */
    public Builder skip(Route route) {
      skipped.add(requireNonNull(route, "route"));
      return this;
    }

    /**
     * Returns the guard.
     *
     * @return the guard
     */
    public ExternalAuthorizer build() {
      return new ExternalAuthorizer(this);
    }

    private static List<String> names(String setting, String... names) {
      requireNonNull(names, setting);
      for (String name : names) {
        requireNonNull(name, setting);
        if (!HttpSyntax.isToken(name)) {
          throw new IllegalArgumentException(
              setting + ": not a header name: '" + name + "'");
        }
      }
      return List.of(names);
    }
  }
}
