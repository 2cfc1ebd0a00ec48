package dev.offload.http.forward;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.MapMaker;
import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Outcome;
import dev.offload.http.ServerExchange;
import dev.offload.http.internal.ForwardedRequestHeaders;
import dev.offload.http.internal.HeaderRules;
import dev.offload.http.internal.MaxForwards;
import dev.offload.http.internal.Problem;
import dev.offload.http.internal.TrustedProxies;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Authenticator;
import okhttp3.ConnectionPool;
import okhttp3.CookieJar;
import okhttp3.Dispatcher;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;

/**
 * A reverse proxy on OkHttp: executes a {@link Decision.Forward} by relaying the client's request
 * to the backend's primary instance and the backend's response back, streaming both bodies
 * through fixed buffers.
 *
 * <pre>{@code
 * Forwarder forwarder = Forwarder.builder()
 *     .trustedProxies("10.0.0.0/8")
 *     .maxRequestBodyBytes(64L << 20)
 *     .meterRegistry(registry)
 *     .build();
 * }</pre>
 *
 * <p>Most users never call this directly: {@code OffloadExecutor} builds one from its own
 * settings. What it does, as a proxy and not a browser:
 *
 * <ul>
 *   <li>The target is only {@code backend.primaryInstance()} + the normalized path + the raw
 *       query: no {@code Host}, absolute-form target or header can choose another address. The
 *       backend sees its own authority in {@code Host}; the client's is in {@code
 *       X-Forwarded-Host} and {@code Forwarded}.
 *   <li>Redirects are not followed, no cookies, no cache, HTTP/1.1 to backends. The client's
 *       {@code Accept-Encoding} (or its absence) is kept and bodies are relayed byte for byte
 *       with their {@code Content-Encoding}.
 *   <li>OkHttp never retries on its own. The forwarder resends a request once, on a new call,
 *       only when all of these hold: the method is idempotent (RFC 9110 section 9.2.2: {@code
 *       GET}, {@code HEAD}, {@code OPTIONS}, {@code PUT}, {@code DELETE}); the request has no
 *       body (a streamed body cannot be replayed); and the call failed with an I/O error that is
 *       not a timeout, a connect failure or a malformed response, the way a pooled connection
 *       fails when the backend closed it while it was idle (nginx and Envoy resend in this case
 *       too). {@code POST}, {@code PATCH} and anything with a body are never resent.
 *   <li>Hop-by-hop fields are removed both ways ({@code Connection} and what it names, except
 *       framing, identity and other end-to-end fields; {@code Keep-Alive}, {@code TE}, {@code
 *       Trailer}, {@code Transfer-Encoding}, {@code Upgrade}, {@code Proxy-Authorization}, {@code
 *       Proxy-Connection}). {@code Expect} is answered by the server in front and not forwarded.
 *       Trailers are dropped (RFC 9110 section 6.5.1 lets a proxy discard them); 1xx interim
 *       responses other than 101 are consumed; a 101 is a bad response (we never ask for an
 *       upgrade).
 *   <li>The forwarding family ({@code X-Forwarded-*}, {@code Forwarded} (RFC 7239), {@code Via},
 *       {@code X-Real-IP}, {@code True-Client-IP}, {@code X-Original-URL}, ...) from the client
 *       is dropped, unless the socket peer is a trusted proxy: then the chains are appended to
 *       and the rest kept. {@code Via} names the version the request came with ({@code 1.0
 *       offload} for HTTP/1.0). Method overrides ({@code X-HTTP-Method-Override}) are dropped
 *       from everyone, names with {@code _} unless {@link Builder#allowUnderscoresInHeaders}.
 *       Header values keep their octets; a value that is neither ASCII nor UTF-8 is refused
 *       with 400. The rules are {@link ForwardedRequestHeaders}'s.
 *   <li>An {@code OPTIONS} with {@code Max-Forwards: 0} is answered here, 200 with {@code
 *       Allow} (RFC 9110 section 7.6.2); a positive one is forwarded decremented.
 *   <li>Failures: request body over the limit: 413 and {@code Connection: close} (before
 *       contacting the backend when {@code Content-Length} says so); a request body that cannot
 *       be read (malformed chunking, cut short) or a {@code GET}/{@code HEAD} with a body: 400
 *       and {@code Connection: close}; connect failure or a bad
 *       response: 502; timeout: 504; all with problem bodies. After the response has started, any
 *       failure aborts the client's connection so a truncated body never looks complete.
 * </ul>
 *
 * <p>The forward's {@link DecisionHandle} is completed exactly once: {@code SUCCESS} when a
 * response under 500 was relayed completely, {@code FAILURE} for a 5xx or a backend failure,
 * {@code DROPPED} when the client left, sent too much or sent a body that cannot be read, or
 * when the gateway answered itself ({@code OPTIONS} with {@code Max-Forwards: 0}).
 *
 * <p>Metrics, when a registry is set: {@value #REQUESTS_METER} (timer; tags {@code backend},
 * {@code status} — the status sent to the client, or {@code none} — and {@code outcome}: {@code
 * success}, {@code server_error}, {@code connect_error}, {@code timeout}, {@code bad_response},
 * {@code reset}, {@code body_too_large}, {@code bad_request}, {@code client_gone}, {@code
 * answered_here} (an {@code OPTIONS} with {@code Max-Forwards: 0}), {@code error}), {@value #RETRIES_METER} (counter of requests resent under the rule above; tag {@code
 * backend}; a resent request is still recorded once in {@value #REQUESTS_METER}, with the
 * outcome of its last attempt) and {@value #ACTIVE_METER} (gauge of requests being forwarded;
 * tag {@code backend}).
 *
 * <p>Immutable and thread-safe: build one and share it. It holds one OkHttp client, derived
 * once per backend for its timeouts, all sharing one connection pool.
 */
public final class Forwarder {
  private static final System.Logger LOG = System.getLogger(Forwarder.class.getName());
  /** Default largest request body: 16 MiB. */
  public static final long DEFAULT_MAX_REQUEST_BODY_BYTES = 16L * 1024 * 1024;
  /** Default number of idle backend connections kept, across backends, when no client is given. */
  public static final int DEFAULT_MAX_IDLE_CONNECTIONS = 256;
  /**
   * Default time an idle backend connection is kept, in seconds, when no client is given: 4 s,
   * below the idle timeouts servers commonly close connections after (Node.js 5 s, the JDK
   * {@code HttpServer} and Jetty 30 s, Apache httpd 5 s). A pooled connection kept longer than
   * the backend keeps it is dead when it is next used, and that request fails; keeping it for
   * less than the server does means we close first. See also the retry rule in the class
   * documentation, for the race that remains.
   */
  public static final long DEFAULT_KEEP_ALIVE_SECONDS = 4;
  /**
   * Default longest wait for the next bytes of a client's request body: 30 s, Jetty's default
   * idle timeout.
   */
  public static final Duration DEFAULT_REQUEST_BODY_IDLE_TIMEOUT = Duration.ofSeconds(30);
  /**
   * Default longest time for a client's whole request body, from its first read: 5 minutes
   * (a 16 MiB body at 56 KB/s).
   */
  public static final Duration DEFAULT_REQUEST_BODY_TIMEOUT = Duration.ofMinutes(5);
  /** Default for {@link Builder#allowUnderscoresInHeaders}: names with {@code _} are dropped. */
  public static final boolean DEFAULT_ALLOW_UNDERSCORES_IN_HEADERS = false;
  /** Name of the per-request timer. */
  public static final String REQUESTS_METER = "offload.forward.requests";
  /** Name of the counter of requests resent after a failure on a (likely stale) connection. */
  public static final String RETRIES_METER = "offload.forward.retries";
  /** Name of the in-progress gauge. */
  public static final String ACTIVE_METER = "offload.forward.active";

  private static final int BUFFER_SIZE = 16 * 1024;

  private final OkHttpClient client;
  /** Per backend, built once: its client (timeouts) and its parsed base URL. */
  private final ConcurrentMap<Backend, Upstream> upstreams = new MapMaker().weakKeys().makeMap();
  private final long maxRequestBodyBytes;
  private final ForwardedRequestHeaders forwardedHeaders;
  private final Duration requestBodyIdleTimeout;
  private final Duration requestBodyTimeout;
  private final BodyReadWatchdog watchdog;
  private final MeterRegistry registry;
  private final Map<String, AtomicInteger> active = new ConcurrentHashMap<>();

  private Forwarder(Builder b) {
    OkHttpClient base = b.client != null ? b.client : defaultClient();
    this.client =
        base.newBuilder()
            .followRedirects(false)
            .followSslRedirects(false)
            .retryOnConnectionFailure(false)
            .cache(null)
            .cookieJar(CookieJar.NO_COOKIES)
            .authenticator(Authenticator.NONE)
            .protocols(List.of(Protocol.HTTP_1_1))
            .addNetworkInterceptor(new ProxyInterceptor())
            .build();
    this.maxRequestBodyBytes = b.maxRequestBodyBytes;
    this.requestBodyIdleTimeout = b.requestBodyIdleTimeout;
    this.requestBodyTimeout = b.requestBodyTimeout;
    this.watchdog = new BodyReadWatchdog(b.requestBodyIdleTimeout, b.requestBodyTimeout);
    this.forwardedHeaders =
        new ForwardedRequestHeaders(b.trustedProxies, b.allowUnderscoresInHeaders);
    this.registry = b.registry;
  }

  private static OkHttpClient defaultClient() {
    Dispatcher dispatcher = new Dispatcher();
    // Calls are synchronous on the server's threads, so these only bound async use of the client.
    dispatcher.setMaxRequests(1024);
    dispatcher.setMaxRequestsPerHost(1024);
    return new OkHttpClient.Builder()
        .connectionPool(
            new ConnectionPool(
                DEFAULT_MAX_IDLE_CONNECTIONS, DEFAULT_KEEP_ALIVE_SECONDS, TimeUnit.SECONDS))
        .dispatcher(dispatcher)
        .build();
  }

  /** Returns a forwarder with default settings. */
  public static Forwarder ofDefaults() {
    return builder().build();
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the longest wait for the next bytes of a client's request body. */
  public Duration requestBodyIdleTimeout() {
    return requestBodyIdleTimeout;
  }

  /** Returns the longest time a client's whole request body may take. */
  public Duration requestBodyTimeout() {
    return requestBodyTimeout;
  }

  /** Returns the maximum request body size in bytes. */
  public long maxRequestBodyBytes() {
    return maxRequestBodyBytes;
  }

  /**
   * Forwards {@code request} to {@code forward.backend()} and relays the response to {@code
   * exchange}; completes {@code forward.handle()} exactly once. Never throws for an I/O failure
   * on either side: those become a problem response, or an aborted exchange once the response
   * has started.
   *
   * @throws RuntimeException only for a bug; the handle is completed as a failure first
   */
  public void forward(Decision.Forward forward, OffloadRequest request, ServerExchange exchange) {
    requireNonNull(forward, "forward");
    requireNonNull(request, "request");
    requireNonNull(exchange, "exchange");
    Backend backend = forward.backend();
    DecisionHandle handle = forward.handle();
    AtomicInteger activeCount = registry == null ? null : activeCount(backend.name());
    long start = registry == null ? 0L : registry.config().clock().monotonicTime();
    if (activeCount != null) {
      activeCount.incrementAndGet();
    }
    Ending ending = Ending.ERROR;
    try {
      ending = relay(backend, request, exchange);
    } finally {
      if (!handle.isCompleted()) {
        handle.complete(ending.outcome);
      }
      if (registry != null) {
        activeCount.decrementAndGet();
        Timer.builder(REQUESTS_METER)
            .description("Requests forwarded to backends, by backend, status sent and outcome")
            .tag("backend", backend.name())
            .tag("status", ending.status < 0 ? "none" : Integer.toString(ending.status))
            .tag("outcome", ending.tag)
            .register(registry)
            .record(registry.config().clock().monotonicTime() - start, TimeUnit.NANOSECONDS);
      }
    }
  }

  /** How a forward ended: the metric tag, the handle's outcome and the status sent. */
  private record Ending(String tag, Outcome outcome, int status) {
    static final Ending ERROR = new Ending("error", Outcome.FAILURE, -1);

    static Ending of(String tag, Outcome outcome, int status) {
      return new Ending(tag, outcome, status);
    }
  }

  private Ending relay(Backend backend, OffloadRequest request, ServerExchange exchange) {
    long maxForwards = MaxForwards.of(request.method(), request.headers());
    if (maxForwards == 0) {
      return answerOptionsHere(request, exchange);
    }
    long declared = request.contentLength().orElse(-1L);
    boolean chunked = request.headers().contains("Transfer-Encoding");
    if (declared > maxRequestBodyBytes) {
      return problem(exchange, 413, "body_too_large", Outcome.DROPPED,
          "request body is larger than " + maxRequestBodyBytes + " bytes", true);
    }
    boolean hasBody = chunked || declared > 0;
    String method = request.method();
    if (hasBody && (method.equals("GET") || method.equals("HEAD"))) {
      return problem(exchange, 400, "bad_request", Outcome.DROPPED,
          "a " + method + " request with a body is not forwarded", true);
    }
    StreamingRequestBody body = null;
    if (hasBody) {
      body = new StreamingRequestBody(request, chunked ? -1 : declared, maxRequestBodyBytes,
          watchdog);
    }
    Upstream upstream = upstreamFor(backend);
    okhttp3.Headers outgoing;
    try {
      outgoing = requestHeaders(request, exchange);
    } catch (ForwardedRequestHeaders.UnrelayableValueException e) {
      return problem(exchange, 400, "bad_request", Outcome.DROPPED, e.getMessage(), true);
    }
    if (maxForwards > 0) {
      outgoing = outgoing.newBuilder().set("Max-Forwards", Long.toString(maxForwards - 1)).build();
    }
    Request.Builder builder =
        new Request.Builder()
            .url(target(upstream.base, upstream.basePath, request))
            .headers(outgoing);
    try {
      builder.method(method, body);
    } catch (IllegalArgumentException e) {
      // OkHttp insists on a body for POST, PUT, PATCH and a few others: send an empty one
      body = new StreamingRequestBody(request, 0, maxRequestBodyBytes, watchdog);
      builder.method(method, body);
    }
    Request backendRequest =
        builder
            .tag(
                ProxyInterceptor.Tag.class,
                new ProxyInterceptor.Tag(
                    request.headers().contains("Accept-Encoding"),
                    request.headers().contains("User-Agent")))
            .build();

    Response response;
    try {
      response = call(upstream, backendRequest, backend, !hasBody && isIdempotent(method));
    } catch (IOException e) {
      if (body != null && body.tooLarge()) {
        return problem(exchange, 413, "body_too_large", Outcome.DROPPED,
            "request body is larger than " + maxRequestBodyBytes + " bytes", true);
      }
      if (body != null && body.timedOut()) {
        return clientTimedOut(exchange, e);
      }
      if (body != null && body.clientFailed()) {
        // The client's body broke off or is malformed (a bad chunk). Nothing was sent yet, so
        // answer 400 and close: where the next request would start is unknown. A client that
        // left never reads it, and a failed write aborts the exchange. Aborting here instead
        // would leave the answer to the server: Jetty sends its own 500 error page.
        Ending answered = problem(exchange, 400, "bad_request", Outcome.DROPPED,
            "the request body could not be read", true);
        return answered.status() < 0 ? Ending.of("client_gone", Outcome.DROPPED, -1) : answered;
      }
      if (isTimeout(e)) {
        return problem(exchange, 504, "timeout", Outcome.FAILURE,
            "backend " + backend.name() + " did not answer in time", false);
      }
      if (e instanceof ConnectException) {
        return problem(exchange, 502, "connect_error", Outcome.FAILURE,
            "backend " + backend.name() + " is unreachable", false);
      }
      return problem(exchange, 502, "bad_response", Outcome.FAILURE,
          "backend " + backend.name() + " sent no valid response", false);
    }
    try (response) {
      return relayResponse(backend, request, exchange, response);
    }
  }

  /**
   * The client's body stalled past a deadline; the backend call has failed and its connection is
   * released. Answers 408 with {@code Connection: close} where the connection is still open
   * (Jetty); on the JDK server the watchdog's interrupt has closed it, and the exchange is
   * aborted.
   */
  private static Ending clientTimedOut(ServerExchange exchange, IOException e) {
    LOG.log(System.Logger.Level.DEBUG, "request body timed out: {0}", e.getMessage());
    try {
      Problem.send(exchange, 408, "the request body did not arrive in time",
          Headers.of("Connection", "close"));
      return Ending.of("client_timeout", Outcome.DROPPED, 408);
    } catch (IOException | RuntimeException closed) {
      exchange.abort();
      return Ending.of("client_timeout", Outcome.DROPPED, -1);
    }
  }

  /**
   * Answers an {@code OPTIONS} with {@code Max-Forwards: 0} as its final recipient (RFC 9110
   * section 7.6.2): 200 with {@code Allow}, no body; the backend is not contacted. A body the
   * request announced is left unread, so the connection is closed after the answer.
   */
  private static Ending answerOptionsHere(OffloadRequest request, ServerExchange exchange) {
    boolean unreadBody = request.contentLength().orElse(0L) > 0
        || request.headers().contains("Transfer-Encoding");
    Headers headers = unreadBody
        ? Headers.of("Allow", MaxForwards.ALLOWED_METHODS, "Connection", "close")
        : Headers.of("Allow", MaxForwards.ALLOWED_METHODS);
    try {
      exchange.startResponse(200, headers, 0);
      exchange.responseBody().close();
      return Ending.of("answered_here", Outcome.DROPPED, 200);
    } catch (IOException e) {
      exchange.abort();
      return Ending.of("client_gone", Outcome.DROPPED, -1);
    }
  }

  /**
   * Executes {@code request}; when {@code replayable} and the call failed in a way a stale pooled
   * connection fails, executes it once more on a new call (with its own call timeout). Nothing
   * has been sent to the client yet, so the client sees only the second answer.
   */
  private Response call(Upstream upstream, Request request, Backend backend, boolean replayable)
      throws IOException {
    try {
      return upstream.client.newCall(request).execute();
    } catch (IOException first) {
      if (!replayable || !mayBeStaleConnection(first)) {
        throw first;
      }
      if (registry != null) {
        Counter.builder(RETRIES_METER)
            .description("Requests resent to a backend once, after a failure on a likely stale "
                + "pooled connection (idempotent requests without a body only)")
            .tag("backend", backend.name())
            .register(registry)
            .increment();
      }
      try {
        return upstream.client.newCall(request).execute();
      } catch (IOException second) {
        second.addSuppressed(first);
        throw second;
      }
    }
  }

  /** RFC 9110 section 9.2.2; TRACE is idempotent too but never forwarded. */
  private static boolean isIdempotent(String method) {
    return switch (method) {
      case "GET", "HEAD", "OPTIONS", "PUT", "DELETE" -> true;
      default -> false;
    };
  }

  /**
   * Whether {@code e} may be a pooled connection that the backend had already closed: the write
   * went out (or reset) and the read found the end of the stream or a reset. Not a timeout or an
   * interrupt (the backend may be working on it), not a connect failure (no connection was
   * reused, and a second attempt would meet the same refusal), not a malformed response (the
   * backend answered).
   */
  private static boolean mayBeStaleConnection(IOException e) {
    return !(e instanceof InterruptedIOException)
        && !(e instanceof ConnectException)
        && !(e instanceof ProtocolException);
  }

  private Ending relayResponse(
      Backend backend, OffloadRequest request, ServerExchange exchange, Response response) {
    int status = response.code();
    if (status < 200 || status > 599) {
      return problem(exchange, 502, "bad_response", Outcome.FAILURE,
          "backend " + backend.name() + " sent no valid response", false);
    }
    okhttp3.Headers received = response.headers();
    boolean head = request.method().equals("HEAD");
    boolean noBody = head || status == 204 || status == 304;
    long length;
    if (status == 204) {
      length = -1;
    } else if (noBody) {
      length = parseLength(received.get("Content-Length"));
    } else {
      length = response.body().contentLength();
    }
    Headers headers = responseHeaders(received);
    try {
      exchange.startResponse(status, headers, length);
    } catch (IOException e) {
      exchange.abort();
      return Ending.of("client_gone", Outcome.DROPPED, -1);
    }
    Outcome success = status >= 500 ? Outcome.FAILURE : Outcome.SUCCESS;
    String successTag = status >= 500 ? "server_error" : "success";
    OutputStream out;
    try {
      out = exchange.responseBody();
    } catch (IOException e) {
      exchange.abort();
      return Ending.of("client_gone", Outcome.DROPPED, status);
    }
    if (noBody) {
      try {
        out.close();
      } catch (IOException e) {
        exchange.abort();
        return Ending.of("client_gone", Outcome.DROPPED, status);
      }
      return Ending.of(successTag, success, status);
    }
    ResponseBody responseBody = response.body();
    BufferedSource source = responseBody.source();
    byte[] buffer = new byte[BUFFER_SIZE];
    while (true) {
      int n;
      try {
        n = source.read(buffer);
      } catch (IOException e) {
        exchange.abort(); // never a clean end of a truncated body
        return Ending.of(isTimeout(e) ? "timeout" : "reset", Outcome.FAILURE, status);
      }
      try {
        if (n < 0) {
          out.close();
          return Ending.of(successTag, success, status);
        }
        out.write(buffer, 0, n);
        if (source.getBuffer().size() == 0) {
          out.flush(); // nothing more at hand: let the client see what arrived (streaming)
        }
      } catch (IOException e) {
        exchange.abort();
        return Ending.of("client_gone", Outcome.DROPPED, status);
      }
    }
  }

  private Ending problem(ServerExchange exchange, int status, String tag, Outcome outcome,
      String detail, boolean close) {
    try {
      Problem.send(exchange, status, detail,
          close ? Headers.of("Connection", "close") : Headers.empty());
      return Ending.of(tag, outcome, status);
    } catch (IOException e) {
      exchange.abort();
      return Ending.of(tag, outcome, -1);
    }
  }

  private static boolean isTimeout(IOException e) {
    // OkHttp reports a call timeout as an InterruptedIOException("timeout"), socket timeouts as
    // SocketTimeoutException (a subclass).
    return e instanceof SocketTimeoutException
        || (e instanceof InterruptedIOException && "timeout".equals(e.getMessage()));
  }

  private static long parseLength(String value) {
    if (value == null) {
      return -1;
    }
    try {
      long n = Long.parseLong(value.strip());
      return n >= 0 ? n : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The backend URL: its base plus the normalized path and raw query; nothing else. */
  static HttpUrl target(URI instance, OffloadRequest request) {
    HttpUrl base = HttpUrl.get(instance.toString());
    return target(base, basePath(base), request);
  }

  private static HttpUrl target(HttpUrl base, String basePath, OffloadRequest request) {
    return base.newBuilder()
        .encodedPath(basePath.isEmpty() ? request.encodedPath() : basePath + request.encodedPath())
        .encodedQuery(request.rawQuery().orElse(null))
        .build();
  }

  /** The base's path without a trailing slash, so that appending the request's path works. */
  private static String basePath(HttpUrl base) {
    String path = base.encodedPath();
    return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }

  /** The fields for the backend; the rules are {@link ForwardedRequestHeaders}'s. */
  private okhttp3.Headers requestHeaders(OffloadRequest request, ServerExchange exchange)
      throws ForwardedRequestHeaders.UnrelayableValueException {
    return forwardedHeaders.build(request.headers(), exchange.remoteAddress().getAddress(),
        request.scheme(), exchange.protocol());
  }

  private static Headers responseHeaders(okhttp3.Headers received) {
    Set<String> named = HeaderRules.connectionNamed(received.values("Connection"));
    Headers.Builder out = Headers.builder();
    for (int i = 0; i < received.size(); i++) {
      String name = received.name(i);
      String lower = name.toLowerCase(java.util.Locale.ROOT);
      if (HeaderRules.isHopByHop(lower) || named.contains(lower)
          || lower.equals("content-length")) {
        continue;
      }
      if (name.equalsIgnoreCase(ProxyInterceptor.HIDDEN_CONTENT_ENCODING)) {
        name = "Content-Encoding";
      }
      try {
        out.add(name, received.value(i));
      } catch (IllegalArgumentException e) {
        // OkHttp already refuses CR/LF; a name that is not a token is dropped, not relayed
      }
    }
    return out.build();
  }

  private Upstream upstreamFor(Backend backend) {
    Upstream upstream = upstreams.get(backend);
    return upstream != null ? upstream : upstreams.computeIfAbsent(backend, this::upstream);
  }

  private Upstream upstream(Backend b) {
    OkHttpClient derived =
        client
            .newBuilder()
            .connectTimeout(b.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .readTimeout(b.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .writeTimeout(b.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .callTimeout(b.callTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .build();
    HttpUrl base = HttpUrl.get(b.primaryInstance().toString());
    return new Upstream(derived, base, basePath(base));
  }

  /** A backend's client and parsed base URL. */
  private record Upstream(OkHttpClient client, HttpUrl base, String basePath) {}

  private AtomicInteger activeCount(String backend) {
    AtomicInteger count = active.get(backend);
    if (count != null) {
      return count;
    }
    return active.computeIfAbsent(
        backend,
        name -> {
          AtomicInteger c = new AtomicInteger();
          Gauge.builder(ACTIVE_METER, c, AtomicInteger::get)
              .description("Requests being forwarded to a backend")
              .tag("backend", name)
              .strongReference(true)
              .register(registry);
          return c;
        });
  }

  /** Builds a {@link Forwarder}. Not thread-safe. */
  public static final class Builder {
    private OkHttpClient client;
    private long maxRequestBodyBytes = DEFAULT_MAX_REQUEST_BODY_BYTES;
    private TrustedProxies trustedProxies = TrustedProxies.none();
    private MeterRegistry registry;
    private boolean allowUnderscoresInHeaders = DEFAULT_ALLOW_UNDERSCORES_IN_HEADERS;
    private Duration requestBodyIdleTimeout = DEFAULT_REQUEST_BODY_IDLE_TIMEOUT;
    private Duration requestBodyTimeout = DEFAULT_REQUEST_BODY_TIMEOUT;

    private Builder() {}

    /**
     * Sets the longest wait for the next bytes of a client's request body while it is forwarded
     * (default {@link #DEFAULT_REQUEST_BODY_IDLE_TIMEOUT}). When it passes, the backend call is
     * abandoned (its connection closed, never reused) and the client gets 408 with {@code
     * Connection: close}, or, on the JDK server, its connection is closed.
     *
     * @throws IllegalArgumentException naming {@code requestBodyIdleTimeout} if not positive
     */
    public Builder requestBodyIdleTimeout(Duration timeout) {
      this.requestBodyIdleTimeout = positive("requestBodyIdleTimeout", timeout);
      return this;
    }

    /**
     * Sets the longest time a client's whole request body may take to arrive, from the first
     * read (default {@link #DEFAULT_REQUEST_BODY_TIMEOUT}); a client that trickles a byte now
     * and then is cut off here. What happens then: as for {@link #requestBodyIdleTimeout}.
     *
     * @throws IllegalArgumentException naming {@code requestBodyTimeout} if not positive
     */
    public Builder requestBodyTimeout(Duration timeout) {
      this.requestBodyTimeout = positive("requestBodyTimeout", timeout);
      return this;
    }

    private static Duration positive(String setting, Duration value) {
      requireNonNull(value, setting);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(setting + " must be positive, got " + value);
      }
      return value;
    }

    /**
     * Sets whether request header fields whose names contain {@code _} are forwarded (default
     * {@value #DEFAULT_ALLOW_UNDERSCORES_IN_HEADERS}, as nginx). CGI-style servers and many
     * frameworks read {@code X_Forwarded_For} as {@code X-Forwarded-For}, so such names are
     * dropped by default; even when allowed, a name that reads as a field the forwarder drops or
     * rebuilds ({@code Transfer_Encoding}, {@code Content_Length}, {@code X_Real_IP}) is dropped.
     */
    public Builder allowUnderscoresInHeaders(boolean allow) {
      this.allowUnderscoresInHeaders = allow;
      return this;
    }

    /**
     * Sets the OkHttp client to derive from with {@code newBuilder()} (sharing its connection
     * pool and dispatcher). Redirects, retries, cookies, caching, authenticators and protocols are
     * overridden for proxying. Default: a client with a pool of {@value
     * #DEFAULT_MAX_IDLE_CONNECTIONS} idle connections, each kept {@value
     * #DEFAULT_KEEP_ALIVE_SECONDS} s. A client of your own keeps its pool's settings: keep its
     * idle connections for less time than your backends keep theirs.
     */
    public Builder okHttpClient(OkHttpClient client) {
      this.client = requireNonNull(client, "okHttpClient");
      return this;
    }

    /**
     * Sets the largest request body forwarded, in bytes (default {@value
     * #DEFAULT_MAX_REQUEST_BODY_BYTES}); {@code Long.MAX_VALUE} means no limit.
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder maxRequestBodyBytes(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("maxRequestBodyBytes must not be negative, got " + bytes);
      }
      this.maxRequestBodyBytes = bytes;
      return this;
    }

    /**
     * Sets the proxies (CIDR blocks or addresses) whose forwarding headers are appended to
     * rather than dropped. Replaces earlier values; none by default.
     *
     * @throws IllegalArgumentException naming {@code trustedProxies} if a block does not parse
     */
    public Builder trustedProxies(String... cidrs) {
      this.trustedProxies = TrustedProxies.of(requireNonNull(cidrs, "trustedProxies"));
      return this;
    }

    /** Sets the registry for the forwarding metrics; none by default. */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /** Returns the forwarder. */
    public Forwarder build() {
      return new Forwarder(this);
    }
  }
}
