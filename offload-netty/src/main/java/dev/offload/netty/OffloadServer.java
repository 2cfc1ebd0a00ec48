package dev.offload.netty;

import static java.util.Objects.requireNonNull;

import dev.offload.core.OffloadRouter;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.internal.Problem;
import dev.offload.netty.internal.StrictRequestDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A ready-made gateway server on Netty, for running the gateway as its own process: a router, a
 * port, and a fallback for what passes through.
 *
 * <pre>{@code
 * try (OffloadServer server = OffloadServer.builder(OffloadExecutor.of(router))
 *     .port(8080)
 *     .start()) {
 *   server.awaitClose();
 * }
 * }</pre>
 *
 * <p>Each connection's pipeline is the {@linkplain #newDecoder() strict decoder}, the response
 * encoder, an {@link OffloadChannelHandler}, and the fallback handler, which answers what the
 * router passes through (by default 404 problem+json). Native epoll when it is available, NIO
 * otherwise ({@link #transport()} says which). Forwards are relayed on the event loops by a
 * {@link NettyForwarder} (non-blocking, pooled backend connections per loop) unless {@link
 * Builder#nettyForwarding} turns it off; the blocking executor then runs only what may block
 * (offload handlers, forwards over TLS or to a host name not resolved yet, coalesced waits).
 *
 * <p>Thread-safe; closing stops accepting, closes the connections and stops the threads it made.
 */
public final class OffloadServer implements AutoCloseable {
  /** Default size of the pool that runs blocking work (forwarding on OkHttp, offload handlers). */
  public static final int DEFAULT_BLOCKING_THREADS = 200;

  private final EventLoopGroup group;
  private final ExecutorService ownBlocking;
  private final Channel server;
  private final String transport;
  private final NettyForwarder forwarder;

  private OffloadServer(Builder b) throws InterruptedException {
    boolean epoll = b.nativeTransport && Epoll.isAvailable();
    this.transport = epoll ? "epoll" : "nio";
    // one loop per core: the loops forward without blocking (as nginx runs a worker per core);
    // Netty's own default, twice the cores, measured no faster here and costs switches
    int loops = b.eventLoops > 0 ? b.eventLoops : Runtime.getRuntime().availableProcessors();
    this.group = epoll ? new EpollEventLoopGroup(loops, daemonThreads("offload-netty-loop"))
        : new NioEventLoopGroup(loops, daemonThreads("offload-netty-loop"));
    java.util.concurrent.Executor blocking;
    if (b.blocking == null) {
      ownBlocking = new ThreadPoolExecutor(0, b.blockingThreads, 60, TimeUnit.SECONDS,
          new SynchronousQueue<>(), daemonThreads("offload-netty-blocking"));
      blocking = ownBlocking;
    } else {
      ownBlocking = null;
      blocking = b.blocking;
    }
    OffloadExecutor executor = b.executor;
    Supplier<ChannelHandler> fallback = b.fallback;
    Duration headTimeout = b.requestHeadTimeout;
    NettyForwarder relays = b.nettyForwarding ? NettyForwarder.of(executor) : null;
    this.forwarder = relays;
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast("decoder", newDecoder())
                .addLast("encoder", new HttpResponseEncoder())
                .addLast("offload", relays != null
                    ? new OffloadChannelHandler(executor, blocking, headTimeout, relays)
                    : new OffloadChannelHandler(executor, blocking, headTimeout))
                .addLast("fallback", fallback.get());
          }
        });
    try {
      this.server = bootstrap.bind(new InetSocketAddress(b.address, b.port)).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      if (relays != null) {
        relays.close();
      }
      if (ownBlocking != null) {
        ownBlocking.shutdownNow();
      }
      throw e;
    }
  }

  /**
   * Returns a builder for a server that executes {@code executor}'s decisions.
   *
   * @param executor the executor, with its router, forwarding and trusted proxies
   * @return the builder
   */
  public static Builder builder(OffloadExecutor executor) {
    return new Builder(requireNonNull(executor, "executor"));
  }

  /**
   * Returns a builder for a server that executes {@code router}'s decisions with a default
   * executor.
   *
   * @param router the router
   * @return the builder
   */
  public static Builder builder(OffloadRouter router) {
    return builder(OffloadExecutor.of(requireNonNull(router, "router")));
  }

  /**
   * Returns a new strict request decoder for a pipeline: header validation, strict line parsing
   * (a bare CR or LF is refused), one {@code Content-Length}, {@code Content-Length} with {@code
   * Transfer-Encoding} refused, 8 KiB request line, 16 KiB header section. A Netty host puts it
   * in front of {@link OffloadChannelHandler} in place of {@code HttpRequestDecoder}.
   *
   * @return a decoder for one channel
   */
  public static ChannelHandler newDecoder() {
    return new StrictRequestDecoder();
  }

  /**
   * Returns the bound port.
   *
   * @return the port
   */
  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /**
   * Returns the transport in use: {@code epoll} or {@code nio}.
   *
   * @return the transport's name
   */
  public String transport() {
    return transport;
  }

  /**
   * Blocks until the server is closed.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public void awaitClose() throws InterruptedException {
    server.closeFuture().sync();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    if (forwarder != null) {
      forwarder.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    if (ownBlocking != null) {
      ownBlocking.shutdownNow();
    }
  }

  private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Builds an {@link OffloadServer}. Not thread-safe.
   */
  public static final class Builder {
    private final OffloadExecutor executor;
    private InetAddress address = InetAddress.getLoopbackAddress();
    private int port = 8080;
    private int eventLoops;
    private int blockingThreads = DEFAULT_BLOCKING_THREADS;
    private java.util.concurrent.Executor blocking;
    private Supplier<ChannelHandler> fallback = NotFound::new;
    private Duration requestHeadTimeout = OffloadChannelHandler.DEFAULT_REQUEST_HEAD_TIMEOUT;
    private boolean nativeTransport = true;
    private boolean nettyForwarding = true;

    private Builder(OffloadExecutor executor) {
      this.executor = executor;
    }

    /**
     * Sets the port; 0 picks a free one. Default 8080.
     *
     * @param port the port, 0..65535
     * @return this builder
     * @throws IllegalArgumentException naming {@code port} if it is out of range
     */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Sets the address to bind. Default: the loopback address (set {@code 0.0.0.0} to serve
     * other machines).
     *
     * @param address the local address
     * @return this builder
     */
    public Builder address(InetAddress address) {
      this.address = requireNonNull(address, "address");
      return this;
    }

    /**
     * Sets the number of event loops; 0 (default) means one per available processor.
     *
     * @param loops the number, at least 0
     * @return this builder
     * @throws IllegalArgumentException naming {@code eventLoops} if negative
     */
    public Builder eventLoops(int loops) {
      if (loops < 0) {
        throw new IllegalArgumentException("eventLoops must be >= 0, got " + loops);
      }
      this.eventLoops = loops;
      return this;
    }

    /**
     * Sets the executor for blocking work (forwarding, offload handlers, the pass-through
     * bridge); the server does not shut it down. Default: a pool of up to {@link
     * #blockingThreads} threads that the server owns; a request it cannot take is answered 503.
     *
     * @param blocking the executor
     * @return this builder
     */
    public Builder blockingExecutor(java.util.concurrent.Executor blocking) {
      this.blocking = requireNonNull(blocking, "blockingExecutor");
      return this;
    }

    /**
     * Sets the size of the server's own blocking pool (ignored with {@link #blockingExecutor}).
     *
     * @param threads at least 1; default {@value OffloadServer#DEFAULT_BLOCKING_THREADS}
     * @return this builder
     * @throws IllegalArgumentException naming {@code blockingThreads} if below 1
     */
    public Builder blockingThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("blockingThreads must be >= 1, got " + threads);
      }
      this.blockingThreads = threads;
      return this;
    }

    /**
     * Sets what answers requests the router passes through: a supplier of one handler per
     * connection, last in the pipeline, that receives the decoded {@code HttpRequest} and its
     * {@code HttpContent}s and writes the response. Default: 404 problem+json.
     *
     * @param fallback makes a handler per connection
     * @return this builder
     */
    public Builder fallback(Supplier<ChannelHandler> fallback) {
      this.fallback = requireNonNull(fallback, "fallback");
      return this;
    }

    /**
     * Sets how long a connection may take to send a complete request head; see {@link
     * OffloadChannelHandler#OffloadChannelHandler(OffloadExecutor, java.util.concurrent.Executor,
     * Duration)}. Default 30 seconds.
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException naming {@code requestHeadTimeout} if not positive
     */
    public Builder requestHeadTimeout(Duration timeout) {
      requireNonNull(timeout, "requestHeadTimeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("requestHeadTimeout must be positive, got " + timeout);
      }
      this.requestHeadTimeout = timeout;
      return this;
    }

    /**
     * Sets whether forwards are relayed without blocking on the event loops by a {@link
     * NettyForwarder} (default true), or all go through the executor's OkHttp forwarder on the
     * blocking executor (false).
     *
     * @param enabled whether to relay forwards on the event loops
     * @return this builder
     */
    public Builder nettyForwarding(boolean enabled) {
      this.nettyForwarding = enabled;
      return this;
    }

    /**
     * Sets whether to use native epoll when available (default true); false forces NIO.
     *
     * @param enabled whether to try epoll
     * @return this builder
     */
    public Builder nativeTransport(boolean enabled) {
      this.nativeTransport = enabled;
      return this;
    }

    /**
     * Binds and starts the server.
     *
     * @return the running server
     * @throws InterruptedException if interrupted while binding
     * @throws io.netty.channel.ChannelException if the port cannot be bound
     */
    public OffloadServer start() throws InterruptedException {
      return new OffloadServer(this);
    }
  }

  /** The default fallback: 404 problem+json for whatever passes through. */
  private static final class NotFound extends SimpleChannelInboundHandler<HttpObject> {
    private boolean keepAlive;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpRequest request) {
        keepAlive = HttpUtil.isKeepAlive(request);
      }
      if (msg instanceof LastHttpContent) {
        byte[] body = Problem.json(404, "no route for this request");
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.NOT_FOUND, Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, Problem.CONTENT_TYPE)
            .set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        HttpUtil.setKeepAlive(response, keepAlive);
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
          written.addListener(ChannelFutureListener.CLOSE);
        }
      }
    }
  }
}
