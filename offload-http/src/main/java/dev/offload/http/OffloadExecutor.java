package dev.offload.http;

import static java.util.Objects.requireNonNull;

import dev.offload.core.AttributeKey;
import dev.offload.core.CachedResponse;
import dev.offload.core.Completion;
import dev.offload.core.CorrelationId;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Outcome;
import dev.offload.core.PendingResponse;
import dev.offload.core.ResponseFill;
import dev.offload.core.internal.HttpMethods;
import dev.offload.core.internal.HttpSyntax;
import dev.offload.core.internal.ThrottledLog;
import dev.offload.http.forward.Forwarder;
import dev.offload.http.log.AccessLog;
import dev.offload.http.internal.CorrelatedExchange;
import dev.offload.http.internal.DiscardingExchange;
import dev.offload.http.internal.GuardedFill;
import dev.offload.http.internal.HostHeader;
import dev.offload.http.internal.LoggedExchange;
import dev.offload.http.internal.Problem;
import dev.offload.http.internal.TrackingExchange;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Decides each exchange with an {@link OffloadRouter} and executes the decision: the one
 * server-agnostic executor that every adapter shares. Adapters translate their server's exchange
 * into a {@link ServerExchange} and call {@link #execute} with a {@link HostHandler} that runs
 * the host's own handler when the decision is to pass through.
 *
 * <pre>{@code
 * OffloadExecutor executor = OffloadExecutor.builder(router)
 *     .trustedProxies("10.0.0.0/8")          // our load balancer
 *     .forwarding(f -> f.maxRequestBodyBytes(64L << 20))
 *     .meterRegistry(registry)
 *     .build();
 * server.createContext("/", OffloadHttpHandler.wrap(executor, existingHandler));
 * }</pre>
 *
 * <p>Before the router sees a request, the executor refuses what a proxy must not pass on:
 * {@code CONNECT} and {@code TRACE} (405; {@code TRACE} would have a backend or the host echo
 * the request with its {@code Cookie} and {@code Authorization}: cross-site tracing), more than
 * one {@code Host} or a {@code Host} that is not a valid authority (RFC 9110 section 7.2: a
 * reg-name, an IPv4 address or a bracketed IPv6 address, an optional port, no userinfo) (400),
 * {@code Content-Length} together with {@code Transfer-Encoding}, an invalid or repeated {@code
 * Content-Length} (400), a transfer coding other than {@code chunked} (501), header fields
 * that are not valid (400), an HTTP/1.1 request without {@code Host} (400; RFC 9112 section 3.2;
 * HTTP/1.0 may omit it) and a request target with octets outside visible ASCII (400); each with {@code Connection: close}, since the framing of what
 * follows on the connection is in doubt. These checks also protect pass-through requests.
 *
 * <p>The request's {@link OffloadRequest#clientAddress()} is the socket peer, or, when the peer
 * is one of the {@linkplain Builder#trustedProxies trusted proxies}, the right-most address of
 * {@code X-Forwarded-For} that is not trusted. The body is not read unless the decision needs it.
 *
 * <p>Every {@link Decision.Holding} handle is completed exactly once, whatever happens. Error
 * responses are {@code application/problem+json} (RFC 9457) with a short reason.
 *
 * <p>Metrics go to the router's meter registry ({@code OffloadRouter.Builder.meterRegistry}),
 * unless {@link Builder#meterRegistry} names another. The requests refused here, before the
 * router, are counted in {@code offload.decisions} under {@code route=}{@value
 * OffloadRouter#BEFORE_ROUTING}, {@code decision=reject}.
 *
 * <p>Thread-safe: build one per router and share it. {@link #close() Close} it when the server
 * in front has stopped: that releases the forwarder's backend connections and threads (an OkHttp
 * client you passed in with {@code forwarding(f -> f.okHttpClient(c))} stays yours to close).
 */
public final class OffloadExecutor implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(OffloadExecutor.class.getName());
  private static final Headers CLOSE = Headers.of("Connection", "close");

  private final OffloadRouter router;
  private final TrustedProxies trustedProxies;
  private final Forwarder forwarder;
  private final OffloadHandler offloadHandler;
  private final Executor backgroundExecutor;
  private final Counter refusedBeforeRouting;
  private final ThrottledLog failures;
  private final CorrelationIds correlationIds;
  private final AccessLog accessLog;
  private final Compression compression;

  private OffloadExecutor(Builder b) {
    this.compression = b.compression;
    this.accessLog = b.accessLog;
    this.correlationIds = b.correlationIds;
    this.backgroundExecutor = b.backgroundExecutor;
    this.router = b.router;
    this.failures = new ThrottledLog(LOG, b.router.ticker(), ThrottledLog.DEFAULT_INTERVAL);
    this.trustedProxies = b.trustedProxies;
    this.offloadHandler = b.offloadHandler;
    MeterRegistry registry = b.registry != null ? b.registry
        : b.router.meterRegistry().orElse(null);
    if (registry != null) {
      b.forwarder.meterRegistry(registry);
    }
    this.forwarder = b.forwarder.ticker(b.router.ticker()).build();
    this.refusedBeforeRouting = registry == null ? null
        : Counter.builder("offload.decisions")
            .description("Routing decisions, by route and kind of decision")
            .baseUnit("decisions")
            .tag("route", OffloadRouter.BEFORE_ROUTING)
            .tag("decision", Decision.Kind.REJECT.tag())
            .register(registry);
  }

  /**
   * Returns an executor with default settings.
   *
   * @param router decides each request
   * @return an executor using the router's meter registry, if it has one
   */
  public static OffloadExecutor of(OffloadRouter router) {
    return builder(router).build();
  }

  /**
   * Returns a builder for an executor of {@code router}'s decisions.
   *
   * @param router decides each request
   * @return a builder with default settings
   */
  public static Builder builder(OffloadRouter router) {
    return new Builder(requireNonNull(router, "router"));
  }

  /**
   * Returns the router.
   *
   * @return the router this executor executes the decisions of
   */
  public OffloadRouter router() {
    return router;
  }

  /**
   * Returns the forwarder this executor forwards with, built from {@link Builder#forwarding}'s
   * settings; another adapter's forwarder (offload-netty's non-blocking one) takes its rules
   * from it.
   *
   * @return the forwarder
   */
  public Forwarder forwarder() {
    return forwarder;
  }

  /**
   * Returns how answers are compressed ({@link Compression#off()} by default); an adapter that
   * relays responses itself (offload-netty's non-blocking forwarder) leaves compressed ones to
   * the executor.
   *
   * @return the compression setting
   */
  public Compression compression() {
    return compression;
  }

  /**
   * Releases what forwarding holds: closes the forwarder's idle backend connections and stops
   * its threads, so that a JVM (or {@code mvn exec:java}) can exit at once. Call it after the
   * server in front has stopped; a request forwarded after it gets 503. Idempotent. An OkHttp
   * client passed in with {@code forwarding(f -> f.okHttpClient(c))} is not closed: it is
   * yours.
   */
  @Override
  public void close() {
    forwarder.close();
  }

  /**
   * Decides {@code exchange} and carries the decision out: answers it, or, for a pass-through,
   * runs the host's own handler through {@code host} and measures it. Every holding decision's
   * handle is completed exactly once, also when the host's handler throws.
   *
   * <p>I/O failures towards the client while answering abort the exchange rather than throw.
   *
   * @param <E> the type of the value
   * @param exchange the exchange
   * @param host the host
   * @throws IOException from the host's handler, unchanged (the pass-through's handle completes
   * as dropped)
   * @throws E from the host's handler, unchanged (the handle completes as failed)
   */
  public <E extends Exception> void execute(ServerExchange exchange, HostHandler<E> host)
      throws IOException, E {
    requireNonNull(exchange, "exchange");
    requireNonNull(host, "host");
    if (accessLog == null) {
      decideAndExecute(exchange, null, host);
      return;
    }
    LoggedExchange logged = new LoggedExchange(exchange, accessLog); // access log: issue 15
    try {
      decideAndExecute(logged, logged, host);
    } finally {
      logged.record();
    }
  }

  private <E extends Exception> void decideAndExecute(ServerExchange exchange,
      LoggedExchange logged, HostHandler<E> host) throws IOException, E {
    ServerExchange correlated = correlationIds.wrap(exchange, trustedProxies); // issue 15
    Decided decided = decide(correlated);
    if (decided == null) {
      return;
    }
    if (logged != null) {
      logged.decided(decided.request(), decided.decision());
    }
    execute(decided, correlated, host);
  }

  /**
   * The first half of {@link #execute(ServerExchange, HostHandler)}, for adapters that must not
   * block (an event loop): validates the request, answers it when refused (405, 400, 501, with
   * {@code Connection: close}), and otherwise asks the router. Does no I/O but writing a refusal,
   * and never reads the request body.
   *
   * @param exchange the exchange
   * @return the request and its decision, or null when the exchange was answered or aborted
   */
  public Decided decide(ServerExchange exchange) {
    requireNonNull(exchange, "exchange");
    OffloadRequest request;
    try {
      request = requestOrAnswer(exchange);
    } catch (IOException e) {
      exchange.abort();
      return null;
    }
    if (request == null) {
      if (refusedBeforeRouting != null) {
        refusedBeforeRouting.increment();
      }
      return null;
    }
    if (exchange instanceof CorrelatedExchange correlated) { // correlation ids: issue 15
      request = request.withAttribute(CorrelationId.KEY, correlated.id());
    }
    return new Decided(request, router.decide(request));
  }

  /**
   * The second half of {@link #execute(ServerExchange, HostHandler)}: carries out a decision
   * from {@link #decide(ServerExchange)} on the same exchange. May block unless {@link
   * Decided#mayBlock()} is false.
   *
   * @param decided what {@link #decide(ServerExchange)} returned for {@code exchange}
   * @param exchange the exchange
   * @param host runs the host's own handler on a pass-through
   * @param <E> what the host's handler throws
   * @throws IOException from the host's handler, unchanged (the pass-through's handle completes
   *     as dropped)
   * @throws E from the host's handler, unchanged (the handle completes as failed)
   */
  public <E extends Exception> void execute(Decided decided, ServerExchange exchange,
      HostHandler<E> host) throws IOException, E {
    requireNonNull(decided, "decided");
    requireNonNull(exchange, "exchange");
    requireNonNull(host, "host");
    OffloadRequest request = decided.request();
    Decision decision = decided.decision();
    if (exchange instanceof CorrelatedExchange correlated // correlation ids: issue 15
        && decision instanceof Decision.PassThrough passThrough) {
      passThrough.handle().putAttribute(CorrelationId.KEY, correlated.id()).addResponseHeaders(
          Headers.of(CorrelationIds.REQUEST_ID, correlated.id().requestId()));
    }
    exchange = compression.wrap(exchange, request.headers()); // compression: issue 15
    if (decision instanceof Decision.Holding holding
        && holding.handle().pendingResponse().isPresent()
        && answeredFromPending(exchange, request, holding)) {
      return;
    }
    if (decision instanceof Decision.PassThrough passThrough) {
      for (Map.Entry<AttributeKey<?>, Object> a : passThrough.handle().attributes().entrySet()) {
        exchange.setAttribute(a.getKey().name(), a.getValue());
      }
      passThrough(passThrough, host);
      return;
    }
    if (decision instanceof Decision.Forward forward) {
      forwarder.forward(forward, request, exchange);
      return;
    }
    // These answers never read the request body: if it has one, close after answering instead
    // of letting the server drain it (the JDK server waits for it without a timeout, so a slow
    // client would hold a thread exactly where load is being shed).
    boolean unreadBody = request.contentLength().orElse(0L) > 0
        || request.headers().contains("Transfer-Encoding");
    try {
      switch (decision.kind()) {
        case REDIRECT -> redirect(exchange, (Decision.Redirect) decision, unreadBody);
        case REJECT -> reject(exchange, (Decision.Reject) decision, unreadBody);
        case SERVE_CACHED -> serveCached(exchange, (Decision.ServeCached) decision, unreadBody);
        case OFFLOAD -> offload(exchange, request, (Decision.Offload) decision);
        default -> unhandled(exchange, decision);
      }
    } catch (IOException e) {
      exchange.abort();
    }
  }

  /**
   * Waits, bounded by the pending response's own deadline, for the response another request is
   * fetching (request coalescing), and answers with it. Returns false when there is none to
   * answer with: the decision is then executed as it is.
   */
  private boolean answeredFromPending(ServerExchange exchange, OffloadRequest request,
      Decision.Holding holding) {
    PendingResponse pending = holding.handle().pendingResponse().orElseThrow();
    Optional<CachedResponse> response;
    try {
      response = pending.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      response = Optional.empty();
    } catch (RuntimeException e) {
      failures.log(System.Logger.Level.WARNING, "pending",
          "pending response failed; executing the decision", e);
      response = Optional.empty();
    }
    if (response.isEmpty()) {
      return false;
    }
    boolean unreadBody = request.contentLength().orElse(0L) > 0
        || request.headers().contains("Transfer-Encoding");
    if (pending.refreshInBackground() && holding instanceof Decision.Forward forward) {
      answerThenRefresh(exchange, request, forward, response.get(), unreadBody);
      return true;
    }
    new GuardedFill(holding.handle().responseFill()).endUnanswered();
    // the origin was not asked: dropped, which tells its load figures nothing, then served
    holding.handle().tryComplete(Outcome.DROPPED, FailureKind.NONE, response.get().status(), 0);
    try {
      serveCached(exchange, new Decision.ServeCached(response.get(), holding.handle()),
          unreadBody);
    } catch (IOException e) {
      exchange.abort();
    }
    return true;
  }

  /**
   * Answers the client with {@code answer} (a stale response), then forwards in the background,
   * on the background executor, with an answer nobody reads: the forward's fill refreshes the
   * cache, and the forward completes its handle as usual.
   */
  private void answerThenRefresh(ServerExchange exchange, OffloadRequest request,
      Decision.Forward forward, CachedResponse answer, boolean unreadBody) {
    DiscardingExchange background = new DiscardingExchange(exchange, request.headers());
    try {
      writeCached(exchange, answer, forward.handle().responseHeaders(), unreadBody);
    } catch (IOException e) {
      exchange.abort();
    }
    try {
      backgroundExecutor.execute(() -> {
        try {
          forwarder.forward(forward, request, background);
        } catch (RuntimeException e) {
          failures.log(System.Logger.Level.WARNING, "refresh", "background refresh failed", e);
        }
      });
    } catch (RejectedExecutionException e) {
      new GuardedFill(forward.handle().responseFill()).endUnanswered();
      forward.handle().tryComplete(Outcome.DROPPED, FailureKind.REJECTED_LOCALLY,
          Completion.NO_STATUS, 0);
    }
  }

  /**
   * A decision kind this executor does not know: a bug (a kind added without its executor).
   * Fails loudly: logged as an error, answered 500, its handle completed as failed; with
   * assertions on (tests), thrown.
   */
  private static void unhandled(ServerExchange exchange, Decision decision) throws IOException {
    if (decision instanceof Decision.Holding holding) {
      holding.handle().tryComplete(Outcome.FAILURE, FailureKind.INTERNAL_ERROR, 500, 0);
    }
    LOG.log(System.Logger.Level.ERROR, "no executor for decision kind " + decision.kind());
    Problem.send(exchange, 500, "internal error while executing the decision", Headers.empty());
    if (OffloadExecutor.class.desiredAssertionStatus()) {
      throw new AssertionError("OffloadExecutor does not execute " + decision.kind());
    }
  }

  /** Runs the host's handler and completes the pass-through's handle with what it answered. */
  private static <E extends Exception> void passThrough(Decision.PassThrough passThrough,
      HostHandler<E> host) throws IOException, E {
    DecisionHandle handle = passThrough.handle();
    GuardedFill fill = new GuardedFill(handle.responseFill());
    boolean returned = false;
    try {
      HostHandler.HostResponse answered = host.run(handle.responseHeaders(),
          fill.active() ? fill::onResponse : ResponseFill.NONE);
      returned = true;
      completePassThrough(handle, answered.status(), answered.bytes());
    } catch (IOException e) {
      handle.tryComplete(Outcome.DROPPED, FailureKind.CLIENT_GONE, Completion.NO_STATUS, 0);
      throw e;
    } finally {
      fill.abortIfOpen(); // an adapter that ended its copy already made this a no-op
      fill.endUnanswered();
      if (!returned) { // the host's handler threw something other than an IOException
        handle.tryComplete(Outcome.FAILURE, FailureKind.INTERNAL_ERROR, Completion.NO_STATUS, 0);
      }
    }
  }

  /**
   * Completes a pass-through's handle with what the host's handler answered: success, or failure
   * for a 5xx. For adapters whose host answers asynchronously (a Netty pipeline); {@link #execute}
   * does this itself. A no-op when the handle was completed already.
   *
   * @param handle the pass-through's handle
   * @param status the status the host sent; outside 100..599 counts as unknown
   * @param bytes the body bytes it wrote
   */
  public static void completePassThrough(DecisionHandle handle, int status, long bytes) {
    int known = status >= 100 && status <= 599 ? status : Completion.NO_STATUS;
    boolean serverError = known >= 500;
    handle.tryComplete(serverError ? Outcome.FAILURE : Outcome.SUCCESS,
        serverError ? FailureKind.SERVER_ERROR : FailureKind.NONE, known, Math.max(0, bytes));
  }

  /**
   * A request as the router saw it and its decision, between {@link #decide(ServerExchange)} and
   * {@link #execute(Decided, ServerExchange, HostHandler)}.
   *
   * @param request the request
   * @param decision the router's decision
   */
  public record Decided(OffloadRequest request, Decision decision) {
    /**
     * Checks the values.
     *
     * @param request the request
     * @param decision the router's decision
     * @throws NullPointerException if either is null
     */
    public Decided {
      requireNonNull(request, "request");
      requireNonNull(decision, "decision");
    }

    /**
     * Returns whether carrying the decision out may block: a forward, an offload, a pass-through
     * (the host's handler) or a wait for a coalesced response do; a redirect, a rejection and a
     * cached answer only write a response held in memory.
     *
     * @return whether to carry it out off an event loop
     */
    public boolean mayBlock() {
      if (decision instanceof Decision.Holding holding
          && holding.handle().pendingResponse().isPresent()) {
        return true;
      }
      return !(decision instanceof Decision.Redirect || decision instanceof Decision.Reject
          || decision instanceof Decision.ServeCached);
    }
  }

  /** Validates the message and builds the request; answers and returns null when refused. */
  private OffloadRequest requestOrAnswer(ServerExchange exchange) throws IOException {
    String method = exchange.method();
    if (method.equals("CONNECT") || method.equals("TRACE")) {
      // CONNECT would open a tunnel; TRACE echoes the request, Cookie and Authorization
      // included, which is cross-site tracing when a backend (or the host) answers it
      Problem.send(exchange, 405, method + " is not supported",
          Headers.of("Allow", HttpMethods.ALLOW, "Connection", "close"));
      return null;
    }
    Headers headers;
    try {
      headers = exchange.requestHeaders();
    } catch (IllegalArgumentException e) {
      Problem.send(exchange, 400, "invalid header field", CLOSE);
      return null;
    }
    String refused = framingError(headers);
    if (refused != null) {
      int status = refused.startsWith("unsupported") ? 501 : 400;
      Problem.send(exchange, status, refused, CLOSE);
      return null;
    }
    if (!HostHeader.isValid(headers.first("Host").orElse(""))) {
      // it would be relayed in X-Forwarded-Host and Forwarded, and hosts build URLs from it
      Problem.send(exchange, 400, "invalid Host", CLOSE);
      return null;
    }
    if (!headers.contains("Host") && exchange.protocol().equals("HTTP/1.1")) {
      // RFC 9112 section 3.2: a server must answer 400 to an HTTP/1.1 request without Host
      Problem.send(exchange, 400, "missing Host", CLOSE);
      return null;
    }
    String target = exchange.requestTarget();
    if (!isVisibleAscii(target)) {
      // RFC 9112 section 3.2: the request target is ASCII. A server that decoded raw octets
      // >= 0x80 as ISO-8859-1 (the JDK's) would hand on a path no client meant
      Problem.send(exchange, 400, "invalid request target", CLOSE);
      return null;
    }
    InetAddress peer = exchange.remoteAddress().getAddress();
    InetAddress client = trustedProxies.resolveClient(peer, headers.all("X-Forwarded-For"));
    try {
      return OffloadRequest.builder(method, target)
          .headers(headers)
          .clientAddress(client)
          .scheme(exchange.isSecure() ? "https" : "http")
          .body(exchange::requestBody)
          .build();
    } catch (IllegalArgumentException e) {
      Problem.send(exchange, 400, "invalid request line", CLOSE);
      return null;
    }
  }

  /** Returns why the framing or identity of the request is ambiguous, or null when it is not. */
  static String framingError(Headers headers) {
    List<String> hosts = headers.all("Host");
    if (hosts.size() > 1 || (hosts.size() == 1 && hosts.get(0).indexOf(',') >= 0)) {
      return "more than one Host";
    }
    List<String> lengths = headers.all("Content-Length");
    List<String> codings = headers.all("Transfer-Encoding");
    if (!codings.isEmpty() && !lengths.isEmpty()) {
      return "both Content-Length and Transfer-Encoding";
    }
    if (lengths.size() > 1) {
      return "more than one Content-Length";
    }
    if (lengths.size() == 1 && HttpSyntax.parseContentLength(lengths.get(0)) < 0) {
      return "invalid Content-Length";
    }
    if (codings.size() > 1
        || (codings.size() == 1 && !codings.get(0).toLowerCase(Locale.ROOT).equals("chunked"))) {
      return "unsupported Transfer-Encoding";
    }
    return null;
  }

  /** Whether {@code s} is non-empty and every char is visible ASCII (0x21..0x7e). */
  private static boolean isVisibleAscii(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  private static void redirect(ServerExchange exchange, Decision.Redirect redirect,
      boolean unreadBody) throws IOException {
    Headers.Builder headers = redirect.headers().toBuilder().set("Location", redirect.location());
    exchange.startResponse(redirect.status(), closingIf(unreadBody, headers), 0);
    exchange.responseBody().close();
  }

  private static void reject(ServerExchange exchange, Decision.Reject reject, boolean unreadBody)
      throws IOException {
    Headers.Builder extra = reject.headers().toBuilder();
    Problem.send(exchange, reject.status(), reject.reason(), closingIf(unreadBody, extra));
  }

  /** Adds {@code Connection: close} when the request body is left unread. */
  private static Headers closingIf(boolean unreadBody, Headers.Builder headers) {
    return unreadBody ? headers.set("Connection", "close").build() : headers.build();
  }

  private static void serveCached(ServerExchange exchange, Decision.ServeCached cached,
      boolean unreadBody) throws IOException {
    DecisionHandle handle = cached.handle();
    int status = cached.response().status();
    long[] written = {0};
    try {
      written[0] = writeCached(exchange, cached.response(), handle.responseHeaders(), unreadBody);
      handle.tryComplete(Outcome.SUCCESS, FailureKind.NONE, status, written[0]);
    } finally {
      // the client left while we wrote
      handle.tryComplete(Outcome.DROPPED, FailureKind.CLIENT_GONE, status, written[0]);
    }
  }

  /** Writes a response from memory with {@code extra} fields set on it; returns the bytes. */
  private static long writeCached(ServerExchange exchange, CachedResponse response,
      Headers extra, boolean unreadBody) throws IOException {
    int status = response.status();
    long written = 0;
    boolean noBody = status == 204 || status == 304;
    Headers.Builder headers = response.headers().overriddenBy(extra).toBuilder();
    exchange.startResponse(status, closingIf(unreadBody, headers), noBody ? -1
        : response.bodyLength());
    try (OutputStream out = exchange.responseBody()) {
      if (!noBody && !exchange.method().equals("HEAD")) {
        ByteBuffer body = response.body();
        byte[] chunk = new byte[Math.min(body.remaining(), 16 * 1024)];
        while (body.hasRemaining()) {
          int n = Math.min(chunk.length, body.remaining());
          body.get(chunk, 0, n);
          out.write(chunk, 0, n);
          written += n;
        }
      }
    }
    return written;
  }

  private void offload(ServerExchange exchange, OffloadRequest request, Decision.Offload offload)
      throws IOException {
    TrackingExchange tracked = new TrackingExchange(exchange, offload.handle().responseHeaders());
    try {
      offloadHandler.handle(offload, request, tracked);
      offload.handle().tryComplete(Outcome.DROPPED, FailureKind.NONE, Completion.NO_STATUS, 0);
    } catch (IOException e) {
      offload.handle().tryComplete(Outcome.DROPPED, FailureKind.CLIENT_GONE,
          Completion.NO_STATUS, 0);
      throw e;
    } catch (Exception e) { // runtime, or checked and thrown undeclared (Kotlin, @SneakyThrows)
      offload.handle().tryComplete(Outcome.FAILURE, FailureKind.INTERNAL_ERROR, 500, 0);
      failures.log(System.Logger.Level.WARNING, "offload " + offload.queue(),
          "offload handler failed for queue '" + offload.queue() + "'", e);
      if (tracked.started()) {
        exchange.abort();
      } else {
        Problem.send(exchange, 500, "the request could not be offloaded", Headers.empty());
      }
    }
  }

  /**
   * Builds an {@link OffloadExecutor}. Forwarding is configured on the {@link Forwarder.Builder}
   * that {@link #forwarding} hands out; the executor builds the forwarder with the trusted
   * proxies and meter registry set here. Not thread-safe.
   */
  public static final class Builder {
    private final OffloadRouter router;
    private final Forwarder.Builder forwarder = Forwarder.builder();
    private TrustedProxies trustedProxies = TrustedProxies.none();
    private OffloadHandler offloadHandler = OffloadHandler.unavailable();
    private Executor backgroundExecutor = Runnable::run;
    private MeterRegistry registry;
    private CorrelationIds correlationIds = CorrelationIds.off();
    private AccessLog accessLog;
    private Compression compression = Compression.off();

    private Builder(OffloadRouter router) {
      this.router = router;
    }

    /**
     * Sets where background work runs: the refresh of a response served stale under {@code
     * stale-while-revalidate}, a forward whose answer only the edge cache reads. Default: on the
     * request's thread, once its client was answered. A rejected task is dropped (the stale
     * response stays until another request refreshes it).
     *
     * @param executor the executor
     * @return this builder
     */
    public Builder backgroundExecutor(Executor executor) {
      this.backgroundExecutor = requireNonNull(executor, "backgroundExecutor");
      return this;
    }

    /**
     * Configures forwarding: {@code configure} receives the forwarder's builder.
     *
     * <pre>{@code
     * OffloadExecutor.builder(router)
     * .forwarding(f -> f.maxRequestBodyBytes(64L << 20).retryPolicy(RetryPolicy.never()))
     * .build();
     * }</pre>
     *
     * @param configure the configure
     * @return this builder
     */
    public Builder forwarding(Consumer<Forwarder.Builder> configure) {
      requireNonNull(configure, "forwarding").accept(forwarder);
      return this;
    }

    /**
     * Sets the proxies in front of this server, as CIDR blocks ({@code 10.0.0.0/8}, {@code
     * 2001:db8::/32}) or addresses. Their {@code X-Forwarded-For} decides the client address and
     * their forwarding headers are appended to; everyone else's are dropped. Replaces earlier
     * values; none by default.
     *
     * @param cidrs the cidrs
     * @return this builder
     * @throws IllegalArgumentException naming {@code trustedProxies} if a block does not parse
     */
    public Builder trustedProxies(String... cidrs) {
      return trustedProxies(TrustedProxies.of(requireNonNull(cidrs, "trustedProxies")));
    }

    /**
     * Sets the proxies in front of this server; parsed once, shared with the forwarder.
     *
     * @param proxies the proxies
     * @return this builder
     */
    public Builder trustedProxies(TrustedProxies proxies) {
      this.trustedProxies = requireNonNull(proxies, "trustedProxies");
      forwarder.trustedProxies(proxies);
      return this;
    }

    /**
     * See {@link Forwarder.Builder#requestBodyIdleTimeout}.
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder requestBodyIdleTimeout(Duration timeout) {
      forwarder.requestBodyIdleTimeout(timeout);
      return this;
    }

    /**
     * See {@link Forwarder.Builder#requestBodyTimeout}.
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder requestBodyTimeout(Duration timeout) {
      forwarder.requestBodyTimeout(timeout);
      return this;
    }

    /**
     * See {@link Forwarder.Builder#allowUnderscoresInHeaders}.
     *
     * @param allow whether it is allowed
     * @return this builder
     */
    public Builder allowUnderscoresInHeaders(boolean allow) {
      forwarder.allowUnderscoresInHeaders(allow);
      return this;
    }

    /**
     * Sets the registry for the forwarding metrics and the count of requests refused before
     * routing. Rarely needed: by default the router's registry is used, so a registry given to
     * {@code OffloadRouter.builder().meterRegistry(...)} is all it takes.
     *
     * @param registry where the executor's and the forwarder's meters go
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Sets what executes {@link Decision.Offload}; default {@link OffloadHandler#unavailable()}.
     *
     * @param handler the handler
     * @return this builder
     */
    public Builder offloadHandler(OffloadHandler handler) {
      this.offloadHandler = requireNonNull(handler, "offloadHandler");
      return this;
    }

    /**
     * Sets how requests are correlated: {@link CorrelationIds#standard()} accepts {@code
     * X-Request-Id} and {@code traceparent} from the {@linkplain #trustedProxies trusted
     * proxies} only, generates them otherwise, passes them to backends and returns {@code
     * X-Request-Id} on every answer. Default {@link CorrelationIds#off()}.
     *
     * @param ids the correlation rules
     * @return this builder
     */
    public Builder correlationIds(CorrelationIds ids) {
      this.correlationIds = requireNonNull(ids, "correlationIds");
      return this;
    }

    /**
     * Writes one access-log line per request to {@code accessLog} (off the request's thread);
     * none by default. The executor does not close it: close it at shutdown.
     *
     * @param accessLog the access log
     * @return this builder
     */
    public Builder accessLog(AccessLog accessLog) {
      this.accessLog = requireNonNull(accessLog, "accessLog");
      return this;
    }

    /**
     * Sets how answers the gateway writes are compressed; default {@link Compression#off()}.
     *
     * @param compression the compression settings, such as {@code Compression.gzip().build()}
     * @return this builder
     */
    public Builder compression(Compression compression) {
      this.compression = requireNonNull(compression, "compression");
      return this;
    }

    /**
     * Returns the executor.
     *
     * @return the executor
     */
    public OffloadExecutor build() {
      return new OffloadExecutor(this);
    }
  }
}
