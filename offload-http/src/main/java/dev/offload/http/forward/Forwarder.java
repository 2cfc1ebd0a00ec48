package dev.offload.http.forward;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.Backend;
import dev.offload.core.BodySink;
import dev.offload.core.CachedResponse;
import dev.offload.core.Completion;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Outcome;
import dev.offload.core.internal.HttpSyntax;
import dev.offload.core.internal.Settings;
import dev.offload.core.internal.ThrottledLog;
import dev.offload.http.ServerExchange;
import dev.offload.http.TrustedProxies;
import dev.offload.http.internal.ContainedSink;
import dev.offload.http.internal.ForwardedRequestHeaders;
import dev.offload.http.internal.GuardedFill;
import dev.offload.http.internal.MaxForwards;
import dev.offload.http.internal.Problem;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Authenticator;
import okhttp3.ConnectionPool;
import okhttp3.CookieJar;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;
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
 *   <li>The target is only the instance the decision named ({@link Decision.Forward#instance()})
 *       + the normalized path + the raw query: no {@code Host}, absolute-form target or header can choose another address. The
 *       backend sees its own authority in {@code Host}; the client's is in {@code
 *       X-Forwarded-Host} and {@code Forwarded}.
 *   <li>Redirects are not followed, no cookies, no cache, HTTP/1.1 to backends. The client's
 *       {@code Accept-Encoding} (or its absence) is kept and bodies are relayed byte for byte
 *       with their {@code Content-Encoding}.
 *   <li>OkHttp never retries on its own. Whether a request that failed before any response is
 *       sent again is the {@link RetryPolicy}'s call; the default, {@link
 *       RetryPolicy#staleConnection()}, resends an idempotent request without a body once when
 *       its pooled connection turned out to be dead. {@code POST}, {@code PATCH} and anything
 *       with a body are never resent.
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
 *   <li>A client's request body must keep coming: {@link Builder#requestBodyIdleTimeout} between
 *       reads and {@link Builder#requestBodyTimeout} in all; past either the backend call is
 *       abandoned and the client gets 408 (or, on the JDK server, its connection is closed).
 *   <li>Failures: request body over the limit: 413 and {@code Connection: close} (before
 *       contacting the backend when {@code Content-Length} says so); a request body that cannot
 *       be read (malformed chunking, cut short) or a {@code GET}/{@code HEAD} with a body: 400
 *       and {@code Connection: close}; connect failure or a bad
 *       response: 502; timeout: 504; all with problem bodies. After the response has started, any
 *       failure aborts the client's connection so a truncated body never looks complete.
 * </ul>
 *
 * <p>The outgoing request is built once, as an {@link OutgoingRequest}; a {@link
 * ResponseObserver} sees each response as it is relayed (an edge cache fills from it).
 *
 * <p>The forward's {@link DecisionHandle} is completed exactly once, with a {@link
 * dev.offload.core.Completion} naming the failure kind, the status sent and the body bytes
 * relayed: {@code SUCCESS} when a response under 500 was relayed completely, {@code FAILURE} for
 * a 5xx or a backend failure, {@code DROPPED} when the client left, sent too much, sent a body
 * that cannot be read or too slowly, or when the gateway answered itself ({@code OPTIONS} with
 * {@code Max-Forwards: 0}).
 *
 * <p>Metrics, when a registry is set: {@value #REQUESTS_METER} (timer; tags {@code backend},
 * {@code status} — the status sent to the client, or {@code none} — and {@code outcome}: {@code
 * success}, {@code server_error}, {@code connect_error}, {@code timeout}, {@code bad_response},
 * {@code reset}, {@code body_too_large}, {@code bad_request}, {@code client_gone}, {@code client_timeout}, {@code answered_here}, {@code
 * error}), {@value #RETRIES_METER} (counter of requests resent under the retry policy; tag {@code
 * backend}; a resent request is still recorded once in {@value #REQUESTS_METER}, with the
 * outcome of its last attempt) and {@value #ACTIVE_METER} (gauge of requests being forwarded;
 * tag {@code backend}). Durations are the completion record's, on the router's ticker.
 *
 * <p>Backend failures are logged at {@code WARNING} with the backend, the instance and the cause,
 * the first of each (backend, instance, kind) in full and then as a counted summary at most once a
 * minute; the client's problem body names none of them.
 *
 * <p>Thread-safe: build one and share it. It holds one OkHttp client, derived once per backend
 * for its timeouts, all sharing one connection pool. {@link #close()} releases that pool and the
 * dispatcher's threads when the forwarder made the client itself.
 */
public final class Forwarder implements AutoCloseable {
  /** Default largest request body: 16 MiB. */
  public static final long DEFAULT_MAX_REQUEST_BODY_BYTES = 16L * 1024 * 1024;
  /** Default number of idle backend connections kept, across backends, when no client is given. */
  public static final int DEFAULT_MAX_IDLE_CONNECTIONS = 256;
  /**
   * Default time an idle backend connection is kept, in seconds, when no client is given: 4 s,
   * below the idle timeouts servers commonly close connections after (Node.js 5 s, the JDK
   * {@code HttpServer} and Jetty 30 s, Apache httpd 5 s). A pooled connection kept longer than
   * the backend keeps it is dead when it is next used, and that request fails; keeping it for
   * less than the server does means we close first. See also {@link
   * RetryPolicy#staleConnection()}, for the race that remains.
   */
  public static final long DEFAULT_KEEP_ALIVE_SECONDS = 4;
  /** Name of the per-request timer. */
  public static final String REQUESTS_METER = "offload.forward.requests";
  /** Name of the counter of requests sent again under the retry policy. */
  public static final String RETRIES_METER = "offload.forward.retries";
  /** Name of the in-progress gauge. */
  public static final String ACTIVE_METER = "offload.forward.active";
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

  private static final System.Logger LOG = System.getLogger(Forwarder.class.getName());
  private static final int BUFFER_SIZE = 16 * 1024;

  private final Upstreams upstreams;
  private final long maxRequestBodyBytes;
  private final TrustedProxies trustedProxies;
  private final RetryPolicy retryPolicy;
  private final ResponseObserver observer;
  private final ForwardMetrics metrics;
  private final ForwardedRequestHeaders forwardedHeaders;
  private final Duration requestBodyIdleTimeout;
  private final Duration requestBodyTimeout;
  private final BodyReadWatchdog watchdog;
  private final ThrottledLog failures;
  /** The client this forwarder made, and so closes; null when the user passed one in. */
  private final OkHttpClient owned;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Forwarder(Builder b) {
    OkHttpClassPath.requireOkHttp5();
    this.owned = b.client != null ? null : defaultClient();
    OkHttpClient base = b.client != null ? b.client : owned;
    this.upstreams = new Upstreams(
        base.newBuilder()
            .followRedirects(false)
            .followSslRedirects(false)
            .retryOnConnectionFailure(false)
            .cache(null)
            .cookieJar(CookieJar.NO_COOKIES)
            .authenticator(Authenticator.NONE)
            .protocols(List.of(Protocol.HTTP_1_1))
            .addNetworkInterceptor(new ProxyInterceptor())
            .build(),
        Map.copyOf(b.backendTls)); // TLS to backends: issue 15
    this.maxRequestBodyBytes = b.maxRequestBodyBytes;
    this.trustedProxies = b.trustedProxies;
    this.retryPolicy = b.retryPolicy;
    this.observer = b.observer;
    this.metrics = b.registry == null ? null : new ForwardMetrics(b.registry);
    this.requestBodyIdleTimeout = b.requestBodyIdleTimeout;
    this.requestBodyTimeout = b.requestBodyTimeout;
    this.watchdog = new BodyReadWatchdog(b.requestBodyIdleTimeout, b.requestBodyTimeout);
    this.forwardedHeaders =
        new ForwardedRequestHeaders(b.trustedProxies, b.allowUnderscoresInHeaders);
    this.failures = new ThrottledLog(LOG, b.ticker, ThrottledLog.DEFAULT_INTERVAL);
  }

  /**
   * Releases the backend connections and threads of the OkHttp client this forwarder made: idle
   * connections are closed and the dispatcher's executor is shut down, so nothing keeps the JVM
   * (or {@code mvn exec:java}) waiting. A client passed in with {@link Builder#okHttpClient} is
   * left alone: it is yours. A request forwarded after this gets 503. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true) || owned == null) {
      return;
    }
    owned.dispatcher().executorService().shutdown();
    owned.connectionPool().evictAll();
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

  /**
   * Returns a forwarder with default settings.
   *
   * @return a forwarder with its own OkHttp client, to {@link #close()} when done
   */
  public static Forwarder ofDefaults() {
    return builder().build();
  }

  /**
   * Returns a new builder.
   *
   * @return a builder with default settings
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the maximum request body size in bytes.
   *
   * @return the largest request body forwarded
   */
  public long maxRequestBodyBytes() {
    return maxRequestBodyBytes;
  }

  /**
   * Returns the longest wait for the next bytes of a client's request body.
   *
   * @return the idle timeout of request bodies
   */
  public Duration requestBodyIdleTimeout() {
    return requestBodyIdleTimeout;
  }

  /**
   * Returns the longest time a client's whole request body may take.
   *
   * @return the total timeout of request bodies
   */
  public Duration requestBodyTimeout() {
    return requestBodyTimeout;
  }

  /**
   * Returns the proxies whose forwarding headers are appended to.
   *
   * @return the trusted proxies
   */
  public TrustedProxies trustedProxies() {
    return trustedProxies;
  }

  RetryPolicy retryPolicy() { // for ForwardRules
    return retryPolicy;
  }

  ResponseObserver responseObserver() { // for ForwardRules
    return observer;
  }

  ForwardMetrics metrics() { // for ForwardRules; null without a registry
    return metrics;
  }

  boolean closed() { // for ForwardRules
    return closed.get();
  }

  /**
   * Forwards {@code request} to the instance {@code forward} names and relays the response to
   * {@code exchange}; completes {@code forward.handle()} exactly once. Never throws for an I/O
   * failure on either side: those become a problem response, or an aborted exchange once the
   * response has started.
   *
   * @param forward the forward
   * @param request the request
   * @param exchange the exchange
   * @throws RuntimeException only for a bug; the handle is completed as a failure first
   */
  public void forward(Decision.Forward forward, OffloadRequest request, ServerExchange exchange) {
    requireNonNull(forward, "forward");
    requireNonNull(request, "request");
    requireNonNull(exchange, "exchange");
    Backend backend = forward.backend();
    DecisionHandle handle = forward.handle();
    AtomicInteger activeCount = metrics == null ? null : metrics.started(backend);
    ForwardOutcome outcome = ForwardOutcome.ERROR;
    GuardedFill fill = new GuardedFill(handle.responseFill());
    try {
      outcome = relay(forward, request, exchange, fill);
    } finally {
      fill.abortIfOpen();
      fill.endUnanswered();
      outcome.completeIfOpen(handle);
      if (metrics != null) {
        long latency = handle.completion().map(c -> c.latencyNanos()).orElse(0L);
        metrics.ended(backend, activeCount, outcome, latency);
      }
    }
  }

  /**
   * Returns the request that {@code forward} sends for {@code request}, received with {@code
   * protocol} from the socket peer {@code peer}: the value the proxy rules produce, before
   * anything is sent.
   *
   * @param forward the forward
   * @param request the request
   * @param peer the peer
   * @param protocol the protocol
   * @return the request that {@code forward} sends for {@code request}, received with {@code
   *     protocol} from the socket peer {@code peer}: the value the proxy rules produce, before
   *     anything is sent
   * @throws IllegalArgumentException if a header value that would be relayed is neither ASCII
   * nor UTF-8 (the forwarder answers such a request 400)
   */
  public OutgoingRequest outgoing(Decision.Forward forward, OffloadRequest request,
      InetAddress peer, String protocol) {
    requireNonNull(forward, "forward");
    requireNonNull(request, "request");
    requireNonNull(peer, "peer");
    requireNonNull(protocol, "protocol");
    Upstreams.Upstream upstream = upstreams.get(forward.backend(), forward.instance());
    String path = upstream.basePath().isEmpty()
        ? request.encodedPath() : upstream.basePath() + request.encodedPath();
    Headers headers;
    try {
      headers = forwardedHeaders.build(request.headers(), peer, request.scheme(), protocol);
    } catch (ForwardedRequestHeaders.UnrelayableValueException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    Headers decided = forward.handle().requestHeaders();
    if (decided.size() > 0) {
      headers = withDecided(headers, decided);
    }
    long maxForwards = MaxForwards.of(request.method(), request.headers());
    if (maxForwards > 0) {
      headers = headers.toBuilder().set("Max-Forwards", Long.toString(maxForwards - 1)).build();
    }
    return new OutgoingRequest(forward.backend(), forward.instance(), request.method(), path,
        request.rawQuery().orElse(""), headers);
  }

  /**
   * The decision's fields (a cache's validators, a guard's identity) replace the client's: every
   * client field of the same name, case-insensitively, and its underscore look-alike ({@code
   * X_Auth_Subject} for {@code X-Auth-Subject}, which CGI-style backends read as the same
   * variable) is removed first, so the client cannot forge them.
   */
  private static Headers withDecided(Headers headers, Headers decided) {
    Set<String> replaced = new HashSet<>();
    for (String name : decided.names()) {
      replaced.add(name.toLowerCase(Locale.ROOT).replace('_', '-'));
    }
    Headers.Builder out = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      if (!replaced.contains(name.toLowerCase(Locale.ROOT).replace('_', '-'))) {
        out.add(name, headers.value(i));
      }
    }
    for (int i = 0; i < decided.size(); i++) {
      out.add(decided.name(i), decided.value(i));
    }
    return out.build();
  }

  private ForwardOutcome relay(Decision.Forward forward, OffloadRequest request,
      ServerExchange exchange, GuardedFill fill) {
    Backend backend = forward.backend();
    if (closed.get()) {
      return problem(exchange, 503, "closed", Outcome.DROPPED, FailureKind.REJECTED_LOCALLY,
          "the gateway is shutting down", true);
    }
    ForwardOutcome refused =
        ForwardRules.answeredBeforeForwarding(request, exchange, maxRequestBodyBytes);
    if (refused != null) {
      return refused;
    }
    long declared = request.contentLength().orElse(-1L);
    boolean chunked = request.headers().contains("Transfer-Encoding");
    boolean hasBody = chunked || declared > 0;
    String method = request.method();
    OutgoingRequest outgoing;
    try {
      outgoing = outgoing(forward, request, exchange.remoteAddress().getAddress(),
          exchange.protocol());
    } catch (IllegalArgumentException e) {
      return problem(exchange, 400, "bad_request", Outcome.DROPPED, FailureKind.REJECTED_LOCALLY,
          e.getMessage(), true);
    }
    StreamingRequestBody body = null;
    if (hasBody) {
      body = new StreamingRequestBody(request, chunked ? -1 : declared, maxRequestBodyBytes,
          watchdog);
    }
    Upstreams.Upstream upstream = upstreams.get(backend, forward.instance());
    Request.Builder builder =
        new Request.Builder().url(upstream.url(outgoing)).headers(ProxyHeaders.toOkHttp(
            outgoing.headers()));
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
      response = call(upstream, backendRequest, outgoing, !hasBody);
    } catch (IOException e) {
      if (body != null && body.timedOut()) {
        return clientTimedOut(exchange, e);
      }
      if (body != null && body.tooLarge()) {
        return problem(exchange, 413, "body_too_large", Outcome.DROPPED,
            FailureKind.REJECTED_LOCALLY,
            "request body is larger than " + maxRequestBodyBytes + " bytes", true);
      }
      if (body != null && body.clientFailed()) {
        // The client's body broke off or is malformed (a bad chunk). Nothing was sent yet, so
        // answer 400 and close: where the next request would start is unknown. A client that
        // left never reads it, and a failed write aborts the exchange. Aborting here instead
        // would leave the answer to the server: Jetty sends its own 500 error page.
        ForwardOutcome answered = problem(exchange, 400, "bad_request", Outcome.DROPPED,
            FailureKind.REJECTED_LOCALLY, "the request body could not be read", true);
        return answered.status() < 0 ? ForwardOutcome.clientGone(-1, 0) : answered;
      }
      FailureKind kind = FailureClassifier.classify(e);
      String tag = ForwardRules.failureTag(kind);
      failures.log(System.Logger.Level.WARNING,
          backend.name() + " " + forward.instance() + " " + kind,
          "backend '" + backend.name() + "' instance " + forward.instance() + " failed ("
              + kind + ") for " + method + " " + outgoing.encodedPath(), e);
      ForwardOutcome stale = ForwardRules.answerWithFallback(exchange, request, fill,
          Completion.NO_STATUS, tag, kind, forward.handle().responseHeaders());
      if (stale != null) {
        return stale;
      }
      return ForwardRules.backendFailed(exchange, kind);
    }
    try (response) {
      return relayResponse(outgoing, request, exchange, response,
          forward.handle().responseHeaders(), fill);
    }
  }

  /**
   * Executes {@code request}, and again for as long as the retry policy says so after a
   * failure. Nothing has been sent to the client yet, so the client sees only the last answer.
   */
  private Response call(Upstreams.Upstream upstream, Request request, OutgoingRequest outgoing,
      boolean replayable) throws IOException {
    IOException previous = null;
    // the backend's call timeout is the deadline of all attempts together; each attempt gets the
    // retry policy's per-try timeout, or what is left of the deadline if that is less
    long deadlineNanos = outgoing.backend().callTimeout().toNanos();
    long startNanos = deadlineNanos > 0 ? System.nanoTime() : 0; // no clock read without one
    long perTryNanos = retryPolicy.perTryTimeout().toNanos();
    for (int attempt = 1; ; attempt++) {
      try {
        okhttp3.Call call = upstream.client().newCall(request);
        long timeout = deadlineNanos == 0 ? perTryNanos
            : Math.min(perTryNanos > 0 ? perTryNanos : Long.MAX_VALUE,
                deadlineNanos - (System.nanoTime() - startNanos));
        if (timeout > 0) {
          call.timeout().timeout(timeout, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
        return call.execute();
      } catch (IOException e) {
        if (previous != null) {
          e.addSuppressed(previous);
        }
        RetryPolicy.Attempt failed = new RetryPolicy.Attempt(outgoing, attempt, e,
            FailureClassifier.classify(e), replayable);
        boolean pastDeadline = deadlineNanos > 0
            && System.nanoTime() - startNanos >= deadlineNanos;
        if (pastDeadline || !retryPolicy.retry(failed)) {
          throw e;
        }
        if (metrics != null) {
          metrics.retried(outgoing.backend());
        }
        java.net.URI to = retryPolicy.retryTo(failed);
        Upstreams.Upstream next = upstreams.get(outgoing.backend(), to);
        if (!to.equals(outgoing.instance()) && next.basePath().equals(upstream.basePath())) {
          // another instance (with the same base path, so the path sent stays right)
          outgoing = new OutgoingRequest(outgoing.backend(), to, outgoing.method(),
              outgoing.encodedPath(), outgoing.query(), outgoing.headers());
          upstream = next;
          request = request.newBuilder().url(upstream.url(outgoing)).build();
        }
        previous = e;
      }
    }
  }

  private ForwardOutcome relayResponse(OutgoingRequest outgoing, OffloadRequest request,
      ServerExchange exchange, Response response, Headers extra, GuardedFill fill) {
    String backend = outgoing.backend().name();
    int status = response.code();
    if (status < 200 || status > 599) {
      failures.log(System.Logger.Level.WARNING,
          backend + " " + outgoing.instance() + " " + FailureKind.BAD_RESPONSE,
          "backend '" + backend + "' instance " + outgoing.instance() + " answered status "
              + status, null);
      return problem(exchange, 502, "bad_response", Outcome.FAILURE, FailureKind.BAD_RESPONSE,
          "the backend sent no valid response", false);
    }
    if (status == 304) {
      // the decision asked the backend to revalidate what the cache holds: answer from it
      Optional<CachedResponse> revalidated =
          fill.notModified(ProxyHeaders.response(response.headers()));
      if (revalidated.isPresent()) {
        return ForwardRules.answerWith(exchange, request, revalidated.get(), extra, "success",
            Outcome.SUCCESS, FailureKind.NONE);
      }
    }
    if (status >= 500) {
      ForwardOutcome stale = ForwardRules.answerWithFallback(exchange, request, fill, status,
          "server_error", FailureKind.SERVER_ERROR, extra);
      if (stale != null) {
        return stale; // the 5xx body is left unread; closing the response drops its connection
      }
    }
    okhttp3.Headers received = response.headers();
    boolean head = request.method().equals("HEAD");
    boolean noBody = head || status == 204 || status == 304;
    long length;
    if (status == 204) {
      length = -1;
    } else if (noBody) {
      length = HttpSyntax.parseContentLength(received.get("Content-Length"));
    } else {
      length = response.body().contentLength();
    }
    Headers origin = ProxyHeaders.response(received);
    Headers headers = origin.overriddenBy(extra); // fields the decision adds (guards) win
    try {
      exchange.startResponse(status, headers, length);
    } catch (IOException e) {
      exchange.abort();
      return ForwardOutcome.clientGone(-1, 0);
    }
    boolean serverError = status >= 500;
    Outcome success = serverError ? Outcome.FAILURE : Outcome.SUCCESS;
    FailureKind successKind = serverError ? FailureKind.SERVER_ERROR : FailureKind.NONE;
    String successTag = serverError ? "server_error" : "success";
    BodySink sink = ForwardRules.tee(sink(outgoing, status, headers, noBody ? 0 : length),
        // the decision's fill sees the origin's fields, not those the decision added
        fill.onResponse(status, origin, noBody ? 0 : length));
    OutputStream out;
    try {
      out = exchange.responseBody();
    } catch (IOException e) {
      exchange.abort();
      sink.abort();
      return ForwardOutcome.clientGone(status, 0);
    }
    if (noBody) {
      try {
        out.close();
      } catch (IOException e) {
        exchange.abort();
        sink.abort();
        return ForwardOutcome.clientGone(status, 0);
      }
      sink.complete();
      return ForwardOutcome.of(successTag, success, successKind, status);
    }
    // relayed from OkHttp's own buffer, segment by segment: no array of ours, no copy
    BufferedSource source = response.body().source();
    Buffer atHand = source.getBuffer();
    Buffer.UnsafeCursor cursor = new Buffer.UnsafeCursor();
    long relayed = 0;
    while (true) {
      boolean more;
      try {
        more = source.request(1); // blocks until some bytes are at hand, or the body ended
      } catch (IOException e) {
        exchange.abort(); // never a clean end of a truncated body
        sink.abort();
        FailureKind kind = FailureClassifier.isTimeout(e) ? FailureKind.READ_TIMEOUT
            : FailureKind.RESET;
        return new ForwardOutcome(kind == FailureKind.READ_TIMEOUT ? "timeout" : "reset",
            Outcome.FAILURE, kind, status, relayed);
      }
      try {
        if (!more) {
          // stored before the client has the last bytes: a client that asks again at once finds
          // it (the body is whole from the backend whatever the client does next)
          sink.complete();
          out.close();
          return new ForwardOutcome(successTag, success, successKind, status, relayed);
        }
        long size = atHand.size();
        try (Buffer.UnsafeCursor segments = atHand.readUnsafe(cursor)) {
          for (int n = segments.next(); n != -1; n = segments.next()) {
            out.write(segments.data, segments.start, n);
            relayed += n;
            sink.write(segments.data, segments.start, n);
          }
        }
        atHand.skip(size);
        out.flush(); // nothing more at hand: let the client see what arrived (streaming)
      } catch (IOException e) {
        exchange.abort();
        sink.abort();
        return ForwardOutcome.clientGone(status, relayed);
      }
    }
  }

  /** The observer's sink for this response; a throwing observer observes nothing. */
  private BodySink sink(OutgoingRequest outgoing, int status, Headers headers,
      long length) {
    if (observer == ResponseObserver.NONE) {
      return BodySink.NONE;
    }
    try {
      BodySink sink = observer.onResponse(outgoing, status, headers, length);
      return ContainedSink.of(sink, "response observer");
    } catch (RuntimeException e) {
      failures.log(System.Logger.Level.WARNING, "observer " + outgoing.backend().name(),
          "response observer threw; not observing " + outgoing, e);
      return BodySink.NONE;
    }
  }

  /**
   * The client's body stalled past a deadline; the backend call has failed and its connection is
   * released. Answers 408 with {@code Connection: close} where the connection is still open
   * (Jetty); on the JDK server the watchdog's interrupt has closed it, and the exchange is
   * aborted.
   */
  private static ForwardOutcome clientTimedOut(ServerExchange exchange, IOException e) {
    LOG.log(System.Logger.Level.DEBUG, "request body timed out: {0}", e.getMessage());
    try {
      Problem.send(exchange, 408, "the request body did not arrive in time",
          Headers.of("Connection", "close"));
      return ForwardOutcome.of("client_timeout", Outcome.DROPPED, FailureKind.REJECTED_LOCALLY,
          408);
    } catch (IOException | RuntimeException closed) {
      exchange.abort();
      return ForwardOutcome.of("client_timeout", Outcome.DROPPED, FailureKind.REJECTED_LOCALLY,
          -1);
    }
  }

  private static ForwardOutcome problem(ServerExchange exchange, int status, String tag,
      Outcome outcome, FailureKind kind, String detail, boolean close) {
    return ForwardRules.problem(exchange, status, tag, outcome, kind, detail, close);
  }

  /** Builds a {@link Forwarder}. Not thread-safe. */
  public static final class Builder {
    private OkHttpClient client;
    private long maxRequestBodyBytes = DEFAULT_MAX_REQUEST_BODY_BYTES;
    private TrustedProxies trustedProxies = TrustedProxies.none();
    private RetryPolicy retryPolicy = RetryPolicy.staleConnection();
    private ResponseObserver observer = ResponseObserver.NONE;
    private MeterRegistry registry;
    private boolean allowUnderscoresInHeaders = DEFAULT_ALLOW_UNDERSCORES_IN_HEADERS;
    private Duration requestBodyIdleTimeout = DEFAULT_REQUEST_BODY_IDLE_TIMEOUT;
    private Duration requestBodyTimeout = DEFAULT_REQUEST_BODY_TIMEOUT;
    private Ticker ticker = Ticker.systemTicker();
    private final Map<String, BackendTls> backendTls = new HashMap<>();

    private Builder() {}

    /**
     * Sets the clock that spaces out the log entries of repeated backend failures (default: the
     * system ticker; {@code OffloadExecutor} sets its router's).
     *
     * @param ticker the clock
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets TLS towards one backend (its trust, client certificate, expiry gauge), by the
     * backend's name; replaces earlier settings for that name. Backends without one use the
     * client's TLS settings (the JVM's CAs by default).
     *
     * @param tls the backend's TLS settings
     * @return this builder
     * @throws NullPointerException if {@code tls} is null
     */
    public Builder backendTls(BackendTls tls) {
      requireNonNull(tls, "backendTls");
      backendTls.put(tls.backend(), tls);
      return this;
    }

    /**
     * Sets the longest wait for the next bytes of a client's request body while it is forwarded
     * (default {@link #DEFAULT_REQUEST_BODY_IDLE_TIMEOUT}). When it passes, the backend call is
     * abandoned (its connection closed, never reused) and the client gets 408 with {@code
     * Connection: close}, or, on the JDK server, its connection is closed.
     *
     * @param timeout the timeout
     * @return this builder
     * @throws IllegalArgumentException naming {@code requestBodyIdleTimeout} if not positive
     */
    public Builder requestBodyIdleTimeout(Duration timeout) {
      this.requestBodyIdleTimeout = Settings.positive("requestBodyIdleTimeout", timeout);
      return this;
    }

    /**
     * Sets the longest time a client's whole request body may take to arrive, from the first
     * read (default {@link #DEFAULT_REQUEST_BODY_TIMEOUT}); a client that trickles a byte now
     * and then is cut off here. What happens then: as for {@link #requestBodyIdleTimeout}.
     *
     * @param timeout the timeout
     * @return this builder
     * @throws IllegalArgumentException naming {@code requestBodyTimeout} if not positive
     */
    public Builder requestBodyTimeout(Duration timeout) {
      this.requestBodyTimeout = Settings.positive("requestBodyTimeout", timeout);
      return this;
    }

    /**
     * Sets whether request header fields whose names contain {@code _} are forwarded (default
     * {@value #DEFAULT_ALLOW_UNDERSCORES_IN_HEADERS}, as nginx). CGI-style servers and many
     * frameworks read {@code X_Forwarded_For} as {@code X-Forwarded-For}, so such names are
     * dropped by default; even when allowed, a name that reads as a field the forwarder drops or
     * rebuilds ({@code Transfer_Encoding}, {@code Content_Length}, {@code X_Real_IP}) is dropped.
     *
     * @param allow whether it is allowed
     * @return this builder
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
     *
     * @param client the client
     * @return this builder
     */
    public Builder okHttpClient(OkHttpClient client) {
      this.client = requireNonNull(client, "okHttpClient");
      return this;
    }

    /**
     * Sets the largest request body forwarded, in bytes (default {@value
     * #DEFAULT_MAX_REQUEST_BODY_BYTES}); {@code Long.MAX_VALUE} means no limit.
     *
     * @param bytes the number of bytes
     * @return this builder
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
     * @param cidrs the cidrs
     * @return this builder
     * @throws IllegalArgumentException naming {@code trustedProxies} if a block does not parse
     */
    public Builder trustedProxies(String... cidrs) {
      return trustedProxies(TrustedProxies.of(requireNonNull(cidrs, "trustedProxies")));
    }

    /**
     * Sets the proxies whose forwarding headers are appended to; none by default.
     *
     * @param proxies the proxies
     * @return this builder
     */
    public Builder trustedProxies(TrustedProxies proxies) {
      this.trustedProxies = requireNonNull(proxies, "trustedProxies");
      return this;
    }

    /**
     * Sets when a failed request is sent again; default {@link RetryPolicy#staleConnection()}.
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = requireNonNull(policy, "retryPolicy");
      return this;
    }

    /**
     * Sets what sees each relayed response (an edge cache); default none.
     *
     * @param observer the observer
     * @return this builder
     */
    public Builder responseObserver(ResponseObserver observer) {
      this.observer = requireNonNull(observer, "responseObserver");
      return this;
    }

    /**
     * Sets the registry for the forwarding metrics; none by default.
     *
     * @param registry the meter registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Returns the forwarder.
     *
     * @return the forwarder
     * @throws IllegalStateException if the class path has OkHttp 4 next to OkHttp 5, or only
     *     OkHttp 4: the message names the jars and the Maven exclusion to add
     */
    public Forwarder build() {
      return new Forwarder(this);
    }
  }
}
