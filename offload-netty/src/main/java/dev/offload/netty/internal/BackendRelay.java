package dev.offload.netty.internal;

import dev.offload.core.Backend;
import dev.offload.core.BodySink;
import dev.offload.core.CachedResponse;
import dev.offload.core.Completion;
import dev.offload.core.Decision;
import dev.offload.core.FailureKind;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Outcome;
import dev.offload.core.internal.HttpSyntax;
import dev.offload.http.forward.ForwardOutcome;
import dev.offload.http.forward.ForwardRules;
import dev.offload.http.forward.OutgoingRequest;
import dev.offload.http.forward.RetryPolicy;
import dev.offload.http.internal.GuardedFill;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One forward relayed without blocking, on the client's event loop: the request head and body
 * stream to a backend connection of the same loop, the response streams back, each side read
 * only while the other can take more (the client's body one read at a time while the backend's
 * channel is writable; the backend's auto-read off while the client's is not). Applies the {@link
 * ForwardRules} (and so the OkHttp forwarder's rules) and completes the decision's handle exactly
 * once. Event loop only: every method runs on the client's loop.
 */
public final class BackendRelay {
  private final BackendPools pools;
  private final BackendPool pool;
  private final ChannelHandlerContext client;
  private final NettyExchange exchange;
  private final OffloadRequest request;
  private final Decision.Forward forward;
  private final Backend backend;
  private final GuardedFill fill;
  private final ForwardRules.Tracked tracked;
  private final ArrayDeque<HttpContent> queued = new ArrayDeque<>(2);
  private final long startNanos;
  private OutgoingRequest outgoing;
  private BackendTarget target;
  private boolean hasBody;
  private long bodyBytes;
  private int attempts;
  private BackendConnection conn;
  private ChannelFuture connecting;
  private boolean requestDone;
  private boolean requestSent;
  private boolean wantClientRead;
  private boolean wantBackendRead;
  private boolean interim;
  private HttpResponse head;
  private boolean skipBody;
  private boolean responseStarted;
  private boolean responseDone;
  private int status = -1;
  private long relayed;
  private BodySink sink = BodySink.NONE;
  private boolean serverError;
  private ScheduledFuture<?> attemptTimer;
  /** Whichever side this relay waits on: the backend's answer or room, or the client's body. */
  private ScheduledFuture<?> readTimer;
  /** The client's whole request body: {@code requestBodyTimeout} from its first read. */
  private ScheduledFuture<?> bodyTimer;
  private boolean finished;
  /** How the answer from memory ended, once the backend's 304 was answered from the cache. */
  private ForwardOutcome answeredFromMemory;

  BackendRelay(BackendPools pools, BackendPool pool, ChannelHandlerContext client,
      NettyExchange exchange, OffloadRequest request, Decision.Forward forward) {
    this.pools = pools;
    this.pool = pool;
    this.client = client;
    this.exchange = exchange;
    this.request = request;
    this.forward = forward;
    this.backend = forward.backend();
    this.fill = new GuardedFill(forward.handle().responseFill());
    this.tracked = pools.rules().start(backend, forward.handle());
    this.startNanos = pools.ticker().read();
  }

  void start() {
    try {
      begin();
    } catch (RuntimeException | Error e) {
      failed(e);
    }
  }

  /**
   * A bug in the relay: logged, the exchange aborted, the backend connection closed, the handle
   * completed as an internal error, so that nothing is left holding a slot.
   */
  private void failed(Throwable e) {
    pools.failures().log(System.Logger.Level.ERROR, "relay " + backend.name(),
        "the Netty relay failed for backend '" + backend.name() + "'", e);
    sink.abort();
    closeBackend();
    if (!exchange.ended()) {
      exchange.abort();
    }
    finish(ForwardOutcome.ERROR);
  }

  private void begin() {
    ForwardRules rules = pools.rules();
    long max = rules.forwarder().maxRequestBodyBytes();
    ForwardOutcome answered = ForwardRules.answeredBeforeForwarding(request, exchange, max);
    if (answered != null) {
      finish(answered);
      return;
    }
    try {
      outgoing = rules.forwarder().outgoing(forward, request,
          exchange.remoteAddress().getAddress(), exchange.protocol());
    } catch (IllegalArgumentException e) {
      finish(ForwardRules.problem(exchange, 400, "bad_request", Outcome.DROPPED,
          FailureKind.REJECTED_LOCALLY, e.getMessage(), true));
      return;
    }
    hasBody = request.headers().contains("Transfer-Encoding")
        || request.contentLength().orElse(0L) > 0;
    if (hasBody && HttpUtil.is100ContinueExpected(exchange.request())) {
      client.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          HttpResponseStatus.CONTINUE));
    }
    target = pools.target(forward.instance());
    attempt(true);
  }

  // ---- the client's side -----------------------------------------------------------------

  /**
   * Takes a piece of the request body from the client (its ownership with it).
   *
   * @param content the piece; the last one is a {@link LastHttpContent}
   */
  public void requestContent(HttpContent content) {
    try {
      takeContent(content);
    } catch (RuntimeException | Error e) {
      failed(e);
    }
  }

  private void takeContent(HttpContent content) {
    if (finished || responseDone || !hasBody) {
      content.release(); // without a body only the empty last piece comes: the head ended it
      return;
    }
    if (content.decoderResult().isFailure()) {
      content.release();
      requestBodyFailed();
      return;
    }
    bodyBytes += content.content().readableBytes();
    if (bodyBytes > pools.rules().forwarder().maxRequestBodyBytes()) {
      content.release();
      requestTooLarge();
      return;
    }
    boolean last = content instanceof LastHttpContent;
    if (last) {
      requestDone = true;
    }
    if (conn == null) {
      queued.add(content);
      return;
    }
    writeBody(content);
    conn.channel.flush();
    if (last) {
      requestSent();
    } else {
      readClient();
    }
  }

  /** The client's channel can take more, or less. */
  public void clientWritabilityChanged() {
    if (!finished && conn != null && wantBackendRead && client.channel().isWritable()) {
      wantBackendRead = false;
      conn.channel.config().setAutoRead(true);
      armReadTimer();
    }
  }

  /** The client's connection closed: the backend's connection is closed too, not reused. */
  public void clientClosed() {
    if (finished) {
      return;
    }
    closeBackend();
    sink.abort();
    finish(ForwardOutcome.clientGone(responseStarted ? status : -1, relayed));
  }

  private void readClient() {
    if (requestDone || finished) {
      return;
    }
    cancel(readTimer);
    if (conn != null && conn.channel.isWritable()) {
      wantClientRead = false;
      if (bodyTimer == null) {
        bodyTimer = client.executor().schedule(this::clientTimedOut,
            pools.rules().forwarder().requestBodyTimeout().toNanos(), TimeUnit.NANOSECONDS);
      }
      readTimer = client.executor().schedule(this::clientTimedOut,
          pools.rules().forwarder().requestBodyIdleTimeout().toNanos(), TimeUnit.NANOSECONDS);
      client.read();
    } else {
      wantClientRead = true; // the backend takes no more: as OkHttp's write timeout
      readTimer = client.executor().schedule(this::attemptTimedOut,
          backend.readTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** The client's body stalled past a deadline: 408 and close, as the OkHttp forwarder. */
  private void clientTimedOut() {
    if (finished || requestDone) {
      return;
    }
    closeBackend();
    if (responseStarted) {
      sink.abort();
      exchange.abort();
      finish(new ForwardOutcome("client_timeout", Outcome.DROPPED, FailureKind.REJECTED_LOCALLY,
          status, relayed));
      return;
    }
    ForwardOutcome answered = ForwardRules.problem(exchange, 408, "client_timeout",
        Outcome.DROPPED, FailureKind.REJECTED_LOCALLY, "the request body did not arrive in time",
        true);
    finish(answered);
  }

  private void requestBodyFailed() {
    // malformed chunking or a body cut short: where the next request starts is unknown
    closeBackend();
    if (responseStarted) {
      sink.abort();
      exchange.abort();
      finish(ForwardOutcome.clientGone(status, relayed));
      return;
    }
    ForwardOutcome answered = ForwardRules.problem(exchange, 400, "bad_request",
        Outcome.DROPPED, FailureKind.REJECTED_LOCALLY, "the request body could not be read",
        true);
    finish(answered.status() < 0 ? ForwardOutcome.clientGone(-1, 0) : answered);
  }

  private void requestTooLarge() {
    closeBackend();
    long max = pools.rules().forwarder().maxRequestBodyBytes();
    if (responseStarted) {
      sink.abort();
      exchange.abort();
      finish(new ForwardOutcome("body_too_large", Outcome.DROPPED, FailureKind.REJECTED_LOCALLY,
          status, relayed));
      return;
    }
    finish(ForwardRules.problem(exchange, 413, "body_too_large", Outcome.DROPPED,
        FailureKind.REJECTED_LOCALLY, "request body is larger than " + max + " bytes", true));
  }

  // ---- the backend's side ----------------------------------------------------------------

  private void attempt(boolean pooled) {
    attempts++;
    long remaining = remainingNanos();
    long perTry = pools.rules().retryPolicy().perTryTimeout().toNanos();
    long limit = perTry > 0 ? Math.min(perTry, remaining) : remaining;
    if (limit != Long.MAX_VALUE) {
      attemptTimer = client.executor().schedule(this::attemptTimedOut, Math.max(limit, 0),
          TimeUnit.NANOSECONDS);
    }
    BackendConnection idle = pooled ? pool.take(target) : null;
    if (idle != null) {
      attach(idle);
      return;
    }
    int connectMillis = (int) Math.min(Integer.MAX_VALUE,
        Math.max(1, backend.connectTimeout().toMillis()));
    ChannelFuture f = pool.connect(target, connectMillis);
    connecting = f;
    f.addListener(done -> {
      if (connecting != f) {
        return;
      }
      connecting = null;
      Channel ch = f.channel();
      if (finished) {
        ch.close();
        return;
      }
      if (!done.isSuccess()) {
        Throwable cause = done.cause();
        FailureKind kind = cause instanceof ConnectTimeoutException
            ? FailureKind.CONNECT_TIMEOUT : FailureKind.CONNECT_REFUSED;
        attemptFailed(kind, cause instanceof IOException io ? io
            : new IOException("connect failed", cause));
        return;
      }
      attach((BackendConnection) ch.pipeline().get("conn"));
    });
  }

  private long remainingNanos() {
    long call = backend.callTimeout().toNanos();
    if (call == 0) {
      return Long.MAX_VALUE;
    }
    return call - (pools.ticker().read() - startNanos);
  }

  private void attach(BackendConnection c) {
    conn = c;
    c.relay = this;
    c.channel.write(requestHead(), c.channel.voidPromise());
    if (!hasBody) {
      requestDone = true;
      c.channel.write(LastHttpContent.EMPTY_LAST_CONTENT, c.channel.voidPromise());
    }
    HttpContent q;
    while ((q = queued.poll()) != null) {
      writeBody(q);
    }
    c.channel.flush();
    if (requestDone) {
      requestSent();
    } else {
      readClient();
    }
    // auto-read stays on: an early answer (a 413 from the backend) is relayed as it comes
  }

  private DefaultHttpRequest requestHead() {
    String targetPath = outgoing.target();
    DefaultHttpRequest out = new DefaultHttpRequest(HttpVersion.HTTP_1_1,
        HttpMethod.valueOf(outgoing.method()), targetPath);
    HttpHeaders h = out.headers();
    h.add(HttpHeaderNames.HOST, target.hostHeader());
    Headers headers = outgoing.headers();
    for (int i = 0; i < headers.size(); i++) {
      h.add(headers.name(i), octets(headers.value(i)));
    }
    long declared = request.contentLength().orElse(-1L);
    if (request.headers().contains("Transfer-Encoding")) {
      h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    } else if (declared > 0) {
      h.set(HttpHeaderNames.CONTENT_LENGTH, declared);
    } else if (requiresBody(outgoing.method())) {
      h.set(HttpHeaderNames.CONTENT_LENGTH, HttpHeaderValues.ZERO);
    }
    return out;
  }

  /** Methods OkHttp always sends a body with (an empty one when the client sent none). */
  private static boolean requiresBody(String method) {
    return switch (method) {
      case "POST", "PUT", "PATCH", "PROPPATCH", "REPORT" -> true;
      default -> false;
    };
  }

  /**
   * A header value as octets: the rules decoded UTF-8 values to characters (OkHttp encodes them
   * again); Netty writes one octet per character, so non-ASCII goes back to its UTF-8 octets.
   */
  private static CharSequence octets(String value) {
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) >= 0x80) {
        return new AsciiString(value.getBytes(StandardCharsets.UTF_8), false);
      }
    }
    return value;
  }

  private void writeBody(HttpContent content) {
    if (content instanceof LastHttpContent) {
      if (content.content().isReadable()) {
        conn.channel.write(new DefaultHttpContent(content.content().retain()),
            conn.channel.voidPromise());
      }
      content.release(); // trailers are dropped
      conn.channel.write(LastHttpContent.EMPTY_LAST_CONTENT, conn.channel.voidPromise());
      return;
    }
    conn.channel.write(content, conn.channel.voidPromise());
  }

  private void requestSent() {
    requestSent = true;
    cancel(bodyTimer);
    bodyTimer = null;
    armReadTimer();
  }

  /** The backend's channel can take more, or less. */
  void backendWritabilityChanged() {
    if (!finished && wantClientRead && conn != null && conn.channel.isWritable()) {
      readClient();
    }
  }

  void backendRead(Object msg) {
    try {
      read(msg);
    } catch (RuntimeException | Error e) {
      failed(e);
    }
  }

  private void read(Object msg) {
    if (finished) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse response) {
      if (response.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        badResponse("the backend sent a malformed response head");
        return;
      }
      int code = response.status().code();
      if (code >= 100 && code < 200 && code != 101) {
        interim = true; // 100 Continue, 103 Early Hints: consumed
      } else if (code < 200 || code > 599) {
        ReferenceCountUtil.release(msg);
        badResponse("the backend answered status " + code);
        return;
      } else {
        responseHead(response);
        if (finished) {
          ReferenceCountUtil.release(msg);
          return;
        }
      }
    }
    if (msg instanceof HttpContent content) {
      if (interim) {
        interim = !(content instanceof LastHttpContent);
        content.release();
        return;
      }
      if (content.decoderResult().isFailure()) {
        content.release();
        backendBroke(FailureKind.BAD_RESPONSE,
            new IOException("malformed response body", content.decoderResult().cause()));
        return;
      }
      relayContent(content);
    }
  }

  private void responseHead(HttpResponse response) {
    cancel(attemptTimer);
    attemptTimer = null;
    head = response;
    status = response.status().code();
    Headers origin = ForwardRules.responseHeaders(headersOf(response.headers()));
    Headers extra = forward.handle().responseHeaders();
    if (status == 304) {
      Optional<CachedResponse> revalidated = fill.notModified(origin);
      if (revalidated.isPresent()) {
        skipBody = true;
        answerFromMemory(ForwardRules.answerWith(exchange, request, revalidated.get(), extra,
            "success", Outcome.SUCCESS, FailureKind.NONE));
        return;
      }
    }
    if (status >= 500) {
      ForwardOutcome stale = ForwardRules.answerWithFallback(exchange, request, fill, status,
          "server_error", FailureKind.SERVER_ERROR, extra);
      if (stale != null) {
        closeBackend(); // its body is left unread
        finish(stale);
        return;
      }
    }
    boolean headRequest = request.method().equals("HEAD");
    boolean noBody = headRequest || status == 204 || status == 304;
    long length;
    if (status == 204) {
      length = -1;
    } else if (noBody) {
      length = HttpSyntax.parseContentLength(
          response.headers().get(HttpHeaderNames.CONTENT_LENGTH));
    } else if (HttpUtil.isTransferEncodingChunked(response)) {
      length = -1;
    } else {
      length = HttpSyntax.parseContentLength(
          response.headers().get(HttpHeaderNames.CONTENT_LENGTH));
    }
    Headers headers = origin.overriddenBy(extra);
    try {
      exchange.startResponse(status, headers, length);
    } catch (IOException e) {
      closeBackend();
      exchange.abort();
      finish(ForwardOutcome.clientGone(-1, 0));
      return;
    }
    responseStarted = true;
    serverError = status >= 500;
    long observed = noBody ? 0 : length;
    sink = ForwardRules.tee(pools.rules().observe(outgoing, status, headers, observed),
        fill.onResponse(status, origin, observed));
  }

  /** Answered from memory (the cache's response to a 304): the backend's answer is consumed. */
  private void answerFromMemory(ForwardOutcome outcome) {
    // the 304 has no body: its end comes next and the connection goes back to the pool
    answeredFromMemory = outcome;
  }

  private void relayContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    int n = content.content().readableBytes();
    if (skipBody) {
      content.release();
    } else if (n > 0) {
      if (sink != BodySink.NONE) {
        byte[] copy = ByteBufUtil.getBytes(content.content());
        sink.write(copy, 0, copy.length);
      }
      relayed += n;
      if (last) {
        client.write(new DefaultHttpContent(content.content().retain()), client.voidPromise());
        content.release();
      } else {
        client.write(content, client.voidPromise());
      }
    } else {
      content.release();
    }
    if (last) {
      responseComplete();
    }
  }

  private void responseComplete() {
    responseDone = true;
    cancel(readTimer);
    readTimer = null;
    BackendConnection c = conn;
    conn = null;
    if (c != null) {
      c.relay = null;
      boolean reusable = requestSent && c.channel.isActive() && head != null
          && HttpUtil.isKeepAlive(head) && head.protocolVersion().equals(HttpVersion.HTTP_1_1)
          && (HttpUtil.isContentLengthSet(head) || HttpUtil.isTransferEncodingChunked(head)
              || status == 204 || status == 304 || request.method().equals("HEAD"));
      if (reusable) {
        pool.release(c);
      } else {
        c.channel.close();
      }
    }
    if (answeredFromMemory != null) {
      finish(answeredFromMemory);
      return;
    }
    sink.complete(); // stored before the client has the last bytes, as the OkHttp forwarder
    Outcome outcome = serverError ? Outcome.FAILURE : Outcome.SUCCESS;
    FailureKind kind = serverError ? FailureKind.SERVER_ERROR : FailureKind.NONE;
    String tag = serverError ? "server_error" : "success";
    long bytes = relayed;
    exchange.endRelayed(bytes).addListener(f -> finish(f.isSuccess()
        ? new ForwardOutcome(tag, outcome, kind, status, bytes)
        : ForwardOutcome.clientGone(status, bytes)));
  }

  void backendReadComplete() {
    if (finished || responseDone) {
      return;
    }
    client.flush();
    if (conn == null) {
      return;
    }
    if (client.channel().isWritable()) {
      if (requestSent) {
        armReadTimer();
      }
    } else {
      // the client is slow: stop reading the backend until it drains (auto-read is on
      // otherwise: no epoll_ctl per read)
      wantBackendRead = true;
      conn.channel.config().setAutoRead(false);
      cancel(readTimer);
      readTimer = null;
    }
  }

  void backendClosed(BackendConnection c, Throwable cause) {
    if (finished || c != conn || responseDone) {
      return;
    }
    IOException e = cause instanceof IOException io ? io
        : new IOException("the backend closed the connection", cause);
    if (head == null) {
      attemptFailed(cause != null && !(cause instanceof IOException)
          ? FailureKind.BAD_RESPONSE : FailureKind.RESET, e);
    } else {
      backendBroke(FailureKind.RESET, e);
    }
  }

  private void attemptTimedOut() {
    if (finished || responseDone) {
      return;
    }
    SocketTimeoutException e = new SocketTimeoutException("timeout");
    if (head == null) {
      attemptFailed(FailureKind.READ_TIMEOUT, e);
    } else {
      backendBroke(FailureKind.READ_TIMEOUT, e);
    }
  }

  private void armReadTimer() {
    if (finished || responseDone) {
      return;
    }
    cancel(readTimer);
    readTimer = client.executor().schedule(this::attemptTimedOut,
        backend.readTimeout().toNanos(), TimeUnit.NANOSECONDS);
  }

  private void badResponse(String why) {
    closeBackend();
    pools.failures().log(System.Logger.Level.WARNING,
        backend.name() + " " + outgoing.instance() + " " + FailureKind.BAD_RESPONSE,
        "backend '" + backend.name() + "' instance " + outgoing.instance() + ": " + why, null);
    finish(ForwardRules.problem(exchange, 502, "bad_response", Outcome.FAILURE,
        FailureKind.BAD_RESPONSE, "the backend sent no valid response", false));
  }

  /** The backend failed after its response began: the client's connection is aborted. */
  private void backendBroke(FailureKind kind, IOException e) {
    closeBackend();
    sink.abort();
    pools.failures().log(System.Logger.Level.WARNING,
        backend.name() + " " + outgoing.instance() + " " + kind,
        "backend '" + backend.name() + "' instance " + outgoing.instance() + " failed (" + kind
            + ") in the response to " + outgoing.method() + " " + outgoing.encodedPath(), e);
    if (responseStarted) {
      exchange.abort(); // never a clean end of a truncated body
      finish(new ForwardOutcome(kind == FailureKind.READ_TIMEOUT ? "timeout"
          : kind == FailureKind.BAD_RESPONSE ? "bad_response" : "reset", Outcome.FAILURE, kind,
          status, relayed));
    } else {
      finish(ForwardRules.backendFailed(exchange, kind));
    }
  }

  /** An attempt failed before any response: sent again when the retry policy says so. */
  private void attemptFailed(FailureKind kind, IOException e) {
    boolean reused = conn != null && conn.reused;
    closeBackend();
    cancel(attemptTimer);
    attemptTimer = null;
    cancel(readTimer);
    readTimer = null;
    RetryPolicy policy = pools.rules().retryPolicy();
    // a body that was streamed (or partly read) cannot be sent again
    RetryPolicy.Attempt failed = new RetryPolicy.Attempt(outgoing, attempts, e, kind, !hasBody);
    if (remainingNanos() > 0 && policy.retry(failed)) {
      tracked.retried();
      URI to = policy.retryTo(failed);
      BackendTarget next = to.equals(outgoing.instance()) ? target : pools.target(to);
      if (next != null && !to.equals(outgoing.instance())
          && next.basePath().equals(target.basePath())) {
        outgoing = new OutgoingRequest(outgoing.backend(), to, outgoing.method(),
            outgoing.encodedPath(), outgoing.query(), outgoing.headers());
        target = next;
      }
      requestSent = false;
      attempt(false); // a fresh connection: the pooled one was stale
      return;
    }
    pools.failures().log(System.Logger.Level.WARNING,
        backend.name() + " " + outgoing.instance() + " " + kind,
        "backend '" + backend.name() + "' instance " + outgoing.instance() + " failed (" + kind
            + (reused ? ", on a reused connection" : "") + ") for " + outgoing.method() + " "
            + outgoing.encodedPath(), e);
    ForwardOutcome stale = ForwardRules.answerWithFallback(exchange, request, fill,
        Completion.NO_STATUS, ForwardRules.failureTag(kind), kind,
        forward.handle().responseHeaders());
    finish(stale != null ? stale : ForwardRules.backendFailed(exchange, kind));
  }

  private void closeBackend() {
    if (connecting != null) {
      ChannelFuture f = connecting;
      connecting = null;
      f.channel().close();
    }
    BackendConnection c = conn;
    conn = null;
    if (c != null) {
      c.relay = null;
      c.channel.close();
    }
  }

  private void finish(ForwardOutcome outcome) {
    if (finished) {
      return;
    }
    finished = true;
    cancel(attemptTimer);
    cancel(readTimer);
    cancel(bodyTimer);
    HttpContent q;
    while ((q = queued.poll()) != null) {
      q.release();
    }
    closeBackend();
    fill.abortIfOpen();
    fill.endUnanswered();
    tracked.end(outcome);
    if (!exchange.ended()) {
      exchange.abort(); // nothing may leave the client waiting
    }
  }

  private static void cancel(ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  private static Headers headersOf(HttpHeaders received) {
    Headers.Builder b = Headers.builder();
    Iterator<Map.Entry<CharSequence, CharSequence>> it = received.iteratorCharSequence();
    while (it.hasNext()) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      try {
        b.add(e.getKey().toString(), e.getValue().toString());
      } catch (IllegalArgumentException invalid) {
        // a name that is not a token: not relayed
      }
    }
    return b.build();
  }
}
