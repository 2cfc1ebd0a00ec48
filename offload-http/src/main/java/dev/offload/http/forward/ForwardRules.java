package dev.offload.http.forward;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.Backend;
import dev.offload.core.BodySink;
import dev.offload.core.CachedResponse;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Outcome;
import dev.offload.core.internal.ThrottledLog;
import dev.offload.http.ServerExchange;
import dev.offload.http.internal.ContainedSink;
import dev.offload.http.internal.GuardedFill;
import dev.offload.http.internal.MaxForwards;
import dev.offload.http.internal.Problem;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@link Forwarder}'s proxy rules that do not depend on how bytes move, for a forwarder on
 * another I/O style (offload-netty's non-blocking one) so that both apply one set of rules: what
 * is answered before a backend is contacted (413, a {@code GET} with a body, {@code OPTIONS} with
 * {@code Max-Forwards: 0}), the problem a backend failure becomes (502 or 504, no backend names),
 * the response fields relayed, and the completion record and metrics of each forward. The
 * outgoing request itself is {@link Forwarder#outgoing}'s.
 *
 * <pre>{@code
 * ForwardRules rules = ForwardRules.of(forwarder, router.ticker());
 * ForwardRules.Tracked tracked = rules.start(forward.backend(), forward.handle());
 * ...
 * tracked.end(ForwardOutcome.clientGone(200, relayed));
 * }</pre>
 *
 * <p>Thread-safe; the {@link Tracked} of one forward is not. No compatibility promise beyond the
 * module's version: it is the seam between offload's own forwarders.
 */
public final class ForwardRules {
  private static final System.Logger LOG = System.getLogger(ForwardRules.class.getName());
  private static final int BUFFER_SIZE = 16 * 1024;

  private final Forwarder forwarder;
  private final ForwardMetrics metrics;
  private final ThrottledLog failures;

  private ForwardRules(Forwarder forwarder, Ticker ticker) {
    this.forwarder = forwarder;
    this.metrics = forwarder.metrics();
    this.failures = new ThrottledLog(LOG, ticker, ThrottledLog.DEFAULT_INTERVAL);
  }

  /**
   * Returns the rules of {@code forwarder}: its limits, retry policy, response observer and
   * metrics.
   *
   * @param forwarder the forwarder whose settings apply
   * @param ticker the clock that spaces out repeated log entries (the router's)
   * @return the rules
   */
  public static ForwardRules of(Forwarder forwarder, Ticker ticker) {
    return new ForwardRules(requireNonNull(forwarder, "forwarder"), requireNonNull(ticker,
        "ticker"));
  }

  /**
   * Returns the forwarder whose settings these are.
   *
   * @return the forwarder
   */
  public Forwarder forwarder() {
    return forwarder;
  }

  /**
   * Returns when a failed attempt is sent again.
   *
   * @return the forwarder's retry policy
   */
  public RetryPolicy retryPolicy() {
    return forwarder.retryPolicy();
  }

  /**
   * Returns whether the forwarder was closed: it answers forwards 503 from then on.
   *
   * @return whether {@link Forwarder#close()} was called
   */
  public boolean forwarderClosed() {
    return forwarder.closed();
  }

  /**
   * Starts tracking one forward: counts it in {@value Forwarder#ACTIVE_METER} until it ends.
   *
   * @param backend the backend forwarded to
   * @param handle the forward's handle, completed when the forward ends
   * @return the forward's tracker
   */
  public Tracked start(Backend backend, DecisionHandle handle) {
    requireNonNull(backend, "backend");
    requireNonNull(handle, "handle");
    return new Tracked(backend, handle, metrics == null ? null : metrics.started(backend));
  }

  /**
   * Returns where the forwarder's {@link ResponseObserver} wants a copy of this response's body,
   * or {@link BodySink#NONE}; a throwing observer is logged and observes nothing.
   *
   * @param outgoing what was sent
   * @param status the status relayed
   * @param headers the fields relayed to the client
   * @param contentLength the body length, -1 when unknown
   * @return the observer's sink, contained
   */
  public BodySink observe(OutgoingRequest outgoing, int status, Headers headers,
      long contentLength) {
    ResponseObserver observer = forwarder.responseObserver();
    if (observer == ResponseObserver.NONE) {
      return BodySink.NONE;
    }
    try {
      return ContainedSink.of(observer.onResponse(outgoing, status, headers, contentLength),
          "response observer");
    } catch (RuntimeException e) {
      failures.log(System.Logger.Level.WARNING, "observer " + outgoing.backend().name(),
          "response observer threw; not observing " + outgoing, e);
      return BodySink.NONE;
    }
  }

  /**
   * Returns the response header fields relayed to the client from those a backend sent:
   * hop-by-hop fields, what {@code Connection} names and {@code Content-Length} removed (the
   * server in front frames the body); names that are not tokens dropped.
   *
   * @param received the backend's fields, as received
   * @return the fields to relay
   */
  public static Headers responseHeaders(Headers received) {
    return ProxyHeaders.response(requireNonNull(received, "received"));
  }

  /**
   * Answers what is answered before any backend is contacted, and returns how that ended; null
   * when the request is to be forwarded. A declared body over {@code maxRequestBodyBytes}: 413
   * with {@code Connection: close}; a {@code GET} or {@code HEAD} with a body: 400 and close; an
   * {@code OPTIONS} with {@code Max-Forwards: 0}: 200 with {@code Allow}, answered here.
   *
   * @param request the client's request
   * @param exchange where to answer
   * @param maxRequestBodyBytes the largest request body forwarded
   * @return how the answer ended, or null to forward
   */
  public static ForwardOutcome answeredBeforeForwarding(OffloadRequest request,
      ServerExchange exchange, long maxRequestBodyBytes) {
    long declared = request.contentLength().orElse(-1L);
    boolean chunked = request.headers().contains("Transfer-Encoding");
    if (declared > maxRequestBodyBytes) {
      return problem(exchange, 413, "body_too_large", Outcome.DROPPED,
          FailureKind.REJECTED_LOCALLY,
          "request body is larger than " + maxRequestBodyBytes + " bytes", true);
    }
    boolean hasBody = chunked || declared > 0;
    String method = request.method();
    if (hasBody && (method.equals("GET") || method.equals("HEAD"))) {
      return problem(exchange, 400, "bad_request", Outcome.DROPPED, FailureKind.REJECTED_LOCALLY,
          "a " + method + " request with a body is not forwarded", true);
    }
    if (MaxForwards.of(method, request.headers()) == 0) {
      return answerOptionsHere(request, exchange);
    }
    return null;
  }

  /**
   * Returns the {@code outcome} tag of {@value Forwarder#REQUESTS_METER} for a backend call that
   * failed with {@code kind}: {@code timeout}, {@code connect_error} or {@code bad_response}.
   *
   * @param kind the failure
   * @return the tag
   */
  public static String failureTag(FailureKind kind) {
    return switch (kind) {
      case CONNECT_TIMEOUT, READ_TIMEOUT -> "timeout";
      case CONNECT_REFUSED -> "connect_error";
      default -> "bad_response";
    };
  }

  /**
   * Answers a backend call that failed before any response with its problem: 504 for a timeout,
   * 502 otherwise; the body names no backend.
   *
   * @param exchange where to answer
   * @param kind the failure
   * @return how the answer ended
   */
  public static ForwardOutcome backendFailed(ServerExchange exchange, FailureKind kind) {
    return switch (kind) {
      case CONNECT_TIMEOUT, READ_TIMEOUT -> problem(exchange, 504, "timeout", Outcome.FAILURE,
          kind, "the backend did not answer in time", false);
      case CONNECT_REFUSED -> problem(exchange, 502, "connect_error", Outcome.FAILURE, kind,
          "the backend is unreachable", false);
      default -> problem(exchange, 502, "bad_response", Outcome.FAILURE, kind,
          "the backend sent no valid response", false);
    };
  }

  /**
   * Answers with a problem+json body and returns the outcome; a client that cannot be written to
   * aborts the exchange and the outcome has no status.
   *
   * @param exchange where to answer
   * @param status the status
   * @param tag the {@code outcome} tag
   * @param outcome the handle's outcome
   * @param kind the failure
   * @param detail the problem's detail, for the client
   * @param close whether to close the connection after it
   * @return how the answer ended
   */
  public static ForwardOutcome problem(ServerExchange exchange, int status, String tag,
      Outcome outcome, FailureKind kind, String detail, boolean close) {
    try {
      Problem.send(exchange, status, detail,
          close ? Headers.of("Connection", "close") : Headers.empty());
      return ForwardOutcome.of(tag, outcome, kind, status);
    } catch (IOException e) {
      exchange.abort();
      return ForwardOutcome.of(tag, outcome, kind, -1);
    }
  }

  /**
   * Answers with the response the decision's fill offers instead of the origin's failure (a stale
   * stored response under {@code stale-if-error}); returns null when it offers none. The outcome
   * still names the backend's failure, so its load and health see it.
   *
   * @param exchange where to answer
   * @param request the client's request
   * @param fill the decision's fill
   * @param originStatus the origin's status, {@code Completion.NO_STATUS} when it sent none
   * @param tag the {@code outcome} tag
   * @param kind the origin's failure
   * @param extra the fields the decision adds
   * @return how the answer ended, or null when the fill offers nothing
   */
  public static ForwardOutcome answerWithFallback(ServerExchange exchange,
      OffloadRequest request, GuardedFill fill, int originStatus, String tag, FailureKind kind,
      Headers extra) {
    Optional<CachedResponse> fallback = fill.fallback(originStatus);
    if (fallback.isEmpty()) {
      return null;
    }
    return answerWith(exchange, request, fallback.get(), extra, tag, Outcome.FAILURE, kind);
  }

  /**
   * Answers with a response from memory (a fill's), the decision's extra fields added (the
   * response's own win).
   *
   * @param exchange where to answer
   * @param request the client's request
   * @param answer the response
   * @param extra the fields the decision adds
   * @param tag the {@code outcome} tag
   * @param outcome the handle's outcome
   * @param kind the failure
   * @return how the answer ended
   */
  public static ForwardOutcome answerWith(ServerExchange exchange, OffloadRequest request,
      CachedResponse answer, Headers extra, String tag, Outcome outcome, FailureKind kind) {
    Headers.Builder headers = answer.headers().toBuilder();
    for (int i = 0; i < extra.size(); i++) {
      if (!answer.headers().contains(extra.name(i))) { // the fallback's own fields win
        headers.add(extra.name(i), extra.value(i));
      }
    }
    boolean noBody = answer.status() == 204 || answer.status() == 304;
    long written = 0;
    try {
      exchange.startResponse(answer.status(), headers.build(), noBody ? -1 : answer.bodyLength());
      try (OutputStream out = exchange.responseBody()) {
        if (!noBody && !request.method().equals("HEAD")) {
          ByteBuffer body = answer.body();
          byte[] chunk = new byte[Math.min(Math.max(body.remaining(), 1), BUFFER_SIZE)];
          while (body.hasRemaining()) {
            int n = Math.min(chunk.length, body.remaining());
            body.get(chunk, 0, n);
            out.write(chunk, 0, n);
            written += n;
          }
        }
      }
    } catch (IOException e) {
      exchange.abort();
      return ForwardOutcome.clientGone(answer.status(), written);
    }
    return new ForwardOutcome(tag, outcome, kind, answer.status(), written);
  }

  /**
   * Returns one sink feeding both, or the one that is not {@link BodySink#NONE}: the response
   * observer's and the decision's fill's.
   *
   * @param a a sink
   * @param b another sink
   * @return a sink that writes, completes and aborts both
   */
  public static BodySink tee(BodySink a, BodySink b) {
    if (b == BodySink.NONE) {
      return a;
    }
    if (a == BodySink.NONE) {
      return b;
    }
    return new BodySink() {
      @Override
      public void write(byte[] bytes, int offset, int length) {
        a.write(bytes, offset, length);
        b.write(bytes, offset, length);
      }

      @Override
      public void complete() {
        a.complete();
        b.complete();
      }

      @Override
      public void abort() {
        a.abort();
        b.abort();
      }
    };
  }

  /**
   * Answers an {@code OPTIONS} with {@code Max-Forwards: 0} as its final recipient (RFC 9110
   * section 7.6.2): 200 with {@code Allow}, no body; the backend is not contacted. A body the
   * request announced is left unread, so the connection is closed after the answer.
   */
  private static ForwardOutcome answerOptionsHere(OffloadRequest request,
      ServerExchange exchange) {
    boolean unreadBody = request.contentLength().orElse(0L) > 0
        || request.headers().contains("Transfer-Encoding");
    Headers headers = unreadBody
        ? Headers.of("Allow", MaxForwards.ALLOWED_METHODS, "Connection", "close")
        : Headers.of("Allow", MaxForwards.ALLOWED_METHODS);
    try {
      exchange.startResponse(200, headers, 0);
      exchange.responseBody().close();
      return ForwardOutcome.of("answered_here", Outcome.DROPPED, FailureKind.NONE, 200);
    } catch (IOException e) {
      exchange.abort();
      return ForwardOutcome.clientGone(-1, 0);
    }
  }

  /**
   * One forward between {@link #start} and its end: completes the decision's handle and records
   * the metrics exactly as the {@link Forwarder} does. Not thread-safe: one per forward.
   */
  public final class Tracked {
    private final Backend backend;
    private final DecisionHandle handle;
    private final AtomicInteger active;
    private boolean ended;

    private Tracked(Backend backend, DecisionHandle handle, AtomicInteger active) {
      this.backend = backend;
      this.handle = handle;
      this.active = active;
    }

    /** Counts one request sent again under the retry policy ({@value Forwarder#RETRIES_METER}). */
    public void retried() {
      if (metrics != null) {
        metrics.retried(backend);
      }
    }

    /**
     * Ends the forward: completes the handle with {@code outcome} unless it was completed
     * already, and records {@value Forwarder#REQUESTS_METER} with the completion's latency. Later
     * calls do nothing.
     *
     * @param outcome how it ended
     * @return whether this call ended it
     */
    public boolean end(ForwardOutcome outcome) {
      requireNonNull(outcome, "outcome");
      if (ended) {
        return false;
      }
      ended = true;
      outcome.completeIfOpen(handle);
      if (metrics != null) {
        long latency = handle.completion().map(c -> c.latencyNanos()).orElse(0L);
        metrics.ended(backend, active, outcome, latency);
      }
      return true;
    }

    /**
     * Returns whether {@link #end} was called.
     *
     * @return whether the forward ended
     */
    public boolean ended() {
      return ended;
    }
  }
}
