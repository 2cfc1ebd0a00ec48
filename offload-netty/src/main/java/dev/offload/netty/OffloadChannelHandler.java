package dev.offload.netty;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Completion;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Headers;
import dev.offload.core.Outcome;
import dev.offload.core.ResponseFill;
import dev.offload.http.HostHandler;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.internal.GuardedFill;
import dev.offload.http.internal.Problem;
import dev.offload.netty.internal.BackendRelay;
import dev.offload.netty.internal.NettyExchange;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Puts an {@link OffloadExecutor} in front of a Netty host's own handlers: add one instance per
 * channel right after the HTTP codec, before the handlers that answer requests.
 *
 * <pre>{@code
 * OffloadExecutor offload = OffloadExecutor.of(router);
 * ExecutorService blocking = Executors.newFixedThreadPool(64);
 * new ServerBootstrap().childHandler(new ChannelInitializer<SocketChannel>() {
 *   protected void initChannel(SocketChannel ch) {
 *     ch.pipeline().addLast(new HttpRequestDecoder(), new HttpResponseEncoder(),
 *         new OffloadChannelHandler(offload, blocking),
 *         new MyHostHandler());                  // the host's own handlers, unchanged
 *   }
 * });
 * }</pre>
 *
 * <p>A request the router passes through continues down the pipeline untouched (its head, then
 * its body), with the decision's response header fields added to the host's response, and the
 * host's answer measured for the pass-through's handle. What admitting guards attached (the
 * identity, as {@code dev.offload.identity}) is set as a channel attribute of that name ({@code
 * AttributeKey.valueOf(name)}) while the request runs, and cleared after its response. Every other decision is carried out by
 * the executor here. The executor does blocking I/O (the OkHttp forwarder, the {@code
 * OffloadHandler}, waiting for a coalesced response), so it runs on {@code blocking}, never on
 * the event loop; the loop only moves bytes: it feeds the request body one socket read at a time
 * (auto-read is off while an exchange runs) and the worker waits while the channel is not
 * writable. A pipelined request waits until the one before it is answered.
 *
 * <p>A request the decoder could not parse is answered 400 (414 for a long request line, 431 for
 * large headers) with {@code Connection: close}, and the connection is closed; use {@link
 * OffloadServer#newDecoder()} for the strict decoder (Content-Length with Transfer-Encoding,
 * bare CR or LF, repeated Content-Length refused). A connection that sends no complete request
 * head within the request-head timeout is closed (slow headers, idle keep-alive).
 *
 * <p>Not sharable: one instance per channel.
 */
public final class OffloadChannelHandler extends ChannelDuplexHandler {
  /** Default time a connection has to send a complete request head: 30 seconds. */
  public static final Duration DEFAULT_REQUEST_HEAD_TIMEOUT = Duration.ofSeconds(30);
  /** Requests read ahead (pipelined) before reading pauses. */
  private static final int MAX_BACKLOG = 64;
  private static final System.Logger LOG =
      System.getLogger(OffloadChannelHandler.class.getName());

  private final OffloadExecutor executor;
  private final Executor blocking;
  private final long requestHeadTimeoutNanos;
  /** Relays forwards on the loop; null: forwards go through the executor's OkHttp forwarder. */
  private final NettyForwarder forwarder;
  private BackendRelay relay;
  private final ArrayDeque<Object> backlog = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private ScheduledFuture<?> headTimer;
  private NettyExchange current;
  private boolean inBody;
  private Pass pass;

  /**
   * Creates the handler for one channel with the default request-head timeout.
   *
   * @param executor executes the router's decisions; shared by every channel
   * @param blocking runs the executor's blocking work (forwarding, offload handlers); shared
   */
  public OffloadChannelHandler(OffloadExecutor executor, Executor blocking) {
    this(executor, blocking, DEFAULT_REQUEST_HEAD_TIMEOUT);
  }

  /**
   * Creates the handler for one channel.
   *
   * @param executor executes the router's decisions; shared by every channel
   * @param blocking runs the executor's blocking work (forwarding, offload handlers); shared. A
   *     rejected task is answered 503
   * @param requestHeadTimeout how long a connection may take to send a complete request head,
   *     counted from when it is ready for one (connected, or the previous response written)
   * @throws IllegalArgumentException naming {@code requestHeadTimeout} if it is not positive
   */
  public OffloadChannelHandler(OffloadExecutor executor, Executor blocking,
      Duration requestHeadTimeout) {
    this.forwarder = null;
    this.executor = requireNonNull(executor, "executor");
    this.blocking = requireNonNull(blocking, "blocking");
    this.requestHeadTimeoutNanos = headTimeoutNanos(requestHeadTimeout);
  }

  /**
   * Creates the handler for one channel, forwarding without blocking: each {@link
   * Decision.Forward} the forwarder can relay runs on this channel's event loop over a pooled
   * backend connection of the same loop (see {@link NettyForwarder}); other forwards go through
   * the executor's OkHttp forwarder on {@code blocking}.
   *
   * @param executor executes the router's decisions; shared by every channel
   * @param blocking runs the executor's blocking work (offload handlers, forwards the forwarder
   *     does not relay); shared. A rejected task is answered 503
   * @param requestHeadTimeout how long a connection may take to send a complete request head
   * @param forwarder relays forwards on the event loop; shared by every channel
   * @throws IllegalArgumentException naming {@code requestHeadTimeout} if it is not positive
   */
  public OffloadChannelHandler(OffloadExecutor executor, Executor blocking,
      Duration requestHeadTimeout, NettyForwarder forwarder) {
    this.forwarder = requireNonNull(forwarder, "forwarder");
    this.executor = requireNonNull(executor, "executor");
    this.blocking = requireNonNull(blocking, "blocking");
    this.requestHeadTimeoutNanos = headTimeoutNanos(requestHeadTimeout);
  }

  private static long headTimeoutNanos(Duration requestHeadTimeout) {
    requireNonNull(requestHeadTimeout, "requestHeadTimeout");
    if (requestHeadTimeout.isNegative() || requestHeadTimeout.isZero()) {
      throw new IllegalArgumentException(
          "requestHeadTimeout must be positive, got " + requestHeadTimeout);
    }
    return requestHeadTimeout.toNanos();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    if (ctx.channel().isActive()) {
      armHeadTimer();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    armHeadTimer();
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HttpObject)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (current != null && !(inBody && msg instanceof HttpContent) || !backlog.isEmpty()) {
      backlog.add(msg);
      if (backlog.size() > MAX_BACKLOG) {
        ctx.channel().config().setAutoRead(false);
      }
      return;
    }
    handle(msg);
  }

  private void handle(Object msg) {
    if (msg instanceof HttpRequest request) {
      cancelHeadTimer();
      if (request.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        refuse(request.decoderResult().cause());
        return;
      }
      NettyExchange exchange = new NettyExchange(ctx.channel(), request);
      current = exchange;
      inBody = true;
      exchange.done().whenComplete((v, e) -> ctx.executor().execute(() -> finished(exchange)));
      OffloadExecutor.Decided decided = executor.decide(exchange); // no I/O but a refusal
      if (decided == null) {
        ctx.channel().config().setAutoRead(false);
        ReferenceCountUtil.release(msg);
        return; // answered: refused with Connection: close
      }
      boolean relayed = forwarder != null && decided.decision() instanceof Decision.Forward f
          && forwarder.canRelay(ctx.channel(), f);
      if (!relayed || hasBody(decided.request())) {
        // the body is fed as it is taken; a relayed request without one leaves reading on (what
        // a client sends meanwhile waits in the backlog), which spares two epoll_ctl calls
        ctx.channel().config().setAutoRead(false);
      }
      if (relayed) {
        relay = forwarder.relay(ctx, exchange, decided.request(),
            (Decision.Forward) decided.decision()); // on the loop
      } else if (decided.decision() instanceof Decision.PassThrough passThrough
          && passThrough.handle().pendingResponse().isEmpty()) {
        passThroughOnLoop(exchange, passThrough.handle());
      } else if (!decided.mayBlock()) {
        run(exchange, decided); // a response from memory: writes only, on the loop
      } else {
        try {
          blocking.execute(() -> run(exchange, decided));
        } catch (RejectedExecutionException e) {
          if (decided.decision() instanceof Decision.Holding holding) {
            new GuardedFill(holding.handle().responseFill()).endUnanswered();
            holding.handle().tryComplete(Outcome.DROPPED, FailureKind.REJECTED_LOCALLY,
                503, 0);
          }
          ReferenceCountUtil.release(msg);
          answerAndClose(HttpResponseStatus.SERVICE_UNAVAILABLE, "the gateway is at capacity");
          return;
        }
      }
      if (msg instanceof HttpContent && current == exchange && inBody) {
        content((HttpContent) msg); // a full request built by an earlier handler
      }
      return;
    }
    if (msg instanceof HttpContent content) {
      if (current == null || !inBody) { // the body of a refused request: the channel closes
        ReferenceCountUtil.release(msg);
        return;
      }
      content(content);
    }
  }

  private void content(HttpContent content) {
    NettyExchange exchange = current;
    boolean last = content instanceof LastHttpContent;
    if (relay != null) {
      if (last || content.decoderResult().isFailure()) {
        inBody = false;
      }
      relay.requestContent(content); // the relay owns it now
      return;
    }
    if (content.decoderResult().isFailure()) {
      ReferenceCountUtil.release(content);
      inBody = false;
      exchange.fail(new IOException("invalid request body framing"));
      if (pass != null) {
        ctx.close();
      }
      return;
    }
    if (pass != null) {
      if (last) {
        inBody = false;
        exchange.endOfBody();
      }
      ctx.fireChannelRead(content);
      return;
    }
    try {
      exchange.offer(content.content());
    } finally {
      content.release();
    }
    if (last) {
      inBody = false;
      exchange.endOfBody();
    }
  }

  private static boolean hasBody(dev.offload.core.OffloadRequest request) {
    return request.contentLength().orElse(0L) > 0
        || request.headers().contains("Transfer-Encoding");
  }

  /**
   * Carries out the decision: on a worker thread, or on the loop for answers from memory.
   */
  private void run(NettyExchange exchange, OffloadExecutor.Decided decided) {
    try {
      executor.execute(decided, exchange, (responseHeaders, fill) -> passThrough(exchange,
          responseHeaders, fill));
    } catch (IOException e) {
      exchange.abort();
    } catch (RuntimeException | Error e) {
      LOG.log(System.Logger.Level.WARNING, "offload failed on a Netty channel", e);
      if (exchange.started()) {
        exchange.abort();
      } else {
        try {
          Problem.send(exchange, 500, "internal error", Headers.of("Connection", "close"));
        } catch (IOException | RuntimeException ignored) {
          exchange.abort();
        }
      }
    } finally {
      if (!exchange.ended()) {
        exchange.abort(); // the executor returned without ending the response: a bug, not a hang
      }
    }
  }

  /**
   * A pass-through on the loop: the request goes down the pipeline, and the handle completes
   * when the host's last chunk is written (or as dropped when the client leaves first).
   */
  private void passThroughOnLoop(NettyExchange exchange, DecisionHandle handle) {
    for (Map.Entry<dev.offload.core.AttributeKey<?>, Object> a : handle.attributes().entrySet()) {
      exchange.setAttribute(a.getKey().name(), a.getValue());
    }
    new GuardedFill(handle.responseFill()).endUnanswered(); // not filled from the host here
    CompletableFuture<HostHandler.HostResponse> answered = new CompletableFuture<>();
    answered.whenComplete((r, e) -> {
      if (r != null) {
        OffloadExecutor.completePassThrough(handle, r.status(), r.bytes());
      } else {
        handle.tryComplete(Outcome.DROPPED, FailureKind.CLIENT_GONE, Completion.NO_STATUS, 0);
      }
    });
    startPassThrough(exchange, handle.responseHeaders(), answered);
  }

  /**
   * The executor's host handler on a pass-through (worker thread): hands the request to the
   * pipeline on the event loop and waits for the host's response to be written.
   */
  private HostHandler.HostResponse passThrough(NettyExchange exchange, Headers responseHeaders,
      ResponseFill fill) throws IOException {
    CompletableFuture<HostHandler.HostResponse> answered = new CompletableFuture<>();
    ctx.executor().execute(() -> startPassThrough(exchange, responseHeaders, answered));
    try {
      return answered.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while the host answered");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("the host's handlers failed", e.getCause());
    }
  }

  private void startPassThrough(NettyExchange exchange, Headers responseHeaders,
      CompletableFuture<HostHandler.HostResponse> answered) {
    if (current != exchange || !ctx.channel().isActive()) {
      answered.completeExceptionally(new IOException("the client closed the connection"));
      return;
    }
    pass = new Pass(exchange, responseHeaders, answered);
    exchange.attributes().forEach((name, value) -> ctx.channel().attr(AttributeKey.valueOf(name))
        .set(value));
    ctx.fireChannelRead(exchange.request());
    List<byte[]> queued = exchange.drainForPassThrough();
    for (byte[] piece : queued) {
      ctx.fireChannelRead(piece.length == 0 ? LastHttpContent.EMPTY_LAST_CONTENT
          : new DefaultHttpContent(Unpooled.wrappedBuffer(piece)));
    }
    ctx.channel().config().setAutoRead(true); // the host's handlers expect it
    ctx.read();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    Pass p = pass;
    if (p == null || !(msg instanceof HttpObject)) {
      ctx.write(msg, promise);
      return;
    }
    if (msg instanceof HttpResponse response) {
      p.status = response.status().code();
      for (int i = 0; i < p.responseHeaders.size(); i++) {
        response.headers().set(p.responseHeaders.name(i), p.responseHeaders.value(i));
      }
      p.close = !HttpUtil.isKeepAlive(response);
    }
    if (msg instanceof HttpContent content) {
      p.bytes += content.content().readableBytes();
    }
    if (msg instanceof LastHttpContent) {
      pass = null;
      ChannelPromise unvoided = promise.unvoid();
      ctx.write(msg, unvoided);
      unvoided.addListener(f -> {
        if (f.isSuccess()) {
          p.exchange.endedByHost(p.status, p.bytes, p.close);
          p.answered.complete(new HostHandler.HostResponse(p.status, p.bytes));
        } else {
          p.exchange.abort();
          p.answered.completeExceptionally(new IOException("the response could not be written",
              f.cause()));
        }
      });
      return;
    }
    ctx.write(msg, promise);
  }

  /** The exchange ended (event loop): read the next request, or close. */
  private void finished(NettyExchange exchange) {
    if (current != exchange) {
      return;
    }
    current = null;
    pass = null;
    relay = null;
    // what guards attached (the identity) belongs to that request only
    exchange.attributes().keySet().forEach(name -> ctx.channel().attr(AttributeKey.valueOf(name))
        .set(null));
    if (!ctx.channel().isActive() || exchange.closeAfter() || inBody) {
      inBody = false;
      ctx.close();
      releaseBacklog();
      return;
    }
    armHeadTimer();
    while (!backlog.isEmpty()) {
      Object next = backlog.peek();
      if (current != null && !(inBody && next instanceof HttpContent)) {
        return; // the next request runs; the rest waits for it
      }
      handle(backlog.poll());
    }
    if (current == null) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelHeadTimer();
    NettyExchange exchange = current;
    if (relay != null) {
      relay.clientClosed();
    }
    if (exchange != null) {
      exchange.fail(new IOException("the client closed the connection"));
      Pass p = pass;
      if (p != null) {
        p.answered.completeExceptionally(new IOException("the client closed the connection"));
      }
    }
    releaseBacklog();
    super.channelInactive(ctx);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    NettyExchange exchange = current;
    if (relay != null) {
      relay.clientWritabilityChanged();
    }
    if (exchange != null) {
      exchange.writabilityChanged();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      ctx.close(); // the connection broke: nothing to tell the host
      return;
    }
    ctx.fireExceptionCaught(cause);
  }

  private void refuse(Throwable cause) {
    if (cause instanceof TooLongHttpLineException) {
      answerAndClose(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line too long");
    } else if (cause instanceof TooLongHttpHeaderException) {
      answerAndClose(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
          "request header fields too large");
    } else {
      answerAndClose(HttpResponseStatus.BAD_REQUEST, "invalid request: "
          + (cause instanceof IllegalArgumentException
              && "both Content-Length and Transfer-Encoding".equals(cause.getMessage())
              ? cause.getMessage() : "malformed request head"));
    }
  }

  /** Answers with a problem and closes the connection (event loop). */
  private void answerAndClose(HttpResponseStatus status, String detail) {
    byte[] body = Problem.json(status.code(), detail);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.wrappedBuffer(body));
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, Problem.CONTENT_TYPE)
        .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    inBody = false;
    ctx.channel().config().setAutoRead(false);
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  private void armHeadTimer() {
    cancelHeadTimer();
    headTimer = ctx.executor().schedule(() -> {
      if (current == null && ctx.channel().isActive()) {
        ctx.close();
      }
    }, requestHeadTimeoutNanos, TimeUnit.NANOSECONDS);
  }

  private void cancelHeadTimer() {
    if (headTimer != null) {
      headTimer.cancel(false);
      headTimer = null;
    }
  }

  private void releaseBacklog() {
    Object m;
    while ((m = backlog.poll()) != null) {
      ReferenceCountUtil.release(m);
    }
  }

  /** A pass-through under way: what the host's response needs and what it answered. */
  private static final class Pass {
    final NettyExchange exchange;
    final Headers responseHeaders;
    final CompletableFuture<HostHandler.HostResponse> answered;
    int status;
    long bytes;
    boolean close;

    Pass(NettyExchange exchange, Headers responseHeaders,
        CompletableFuture<HostHandler.HostResponse> answered) {
      this.exchange = exchange;
      this.responseHeaders = responseHeaders;
      this.answered = answered;
    }
  }
}
