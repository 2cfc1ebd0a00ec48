package dev.offload.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The floor for a Netty gateway: a reverse proxy that does only what one must (strip the
 * hop-by-hop fields, keep both sides alive), with what makes nginx fast: native epoll when
 * available, the backend channels on the event loop of the client's channel, a keep-alive pool
 * per event loop, bodies streamed both ways without aggregation, reads paused while the other
 * side cannot take more. A reference arm for {@link LoadComparison}, not a proxy to use: no
 * limits, no timeouts, no header rules, one request at a time per client connection.
 */
final class MinimalNettyProxy {
  /** Idle backend channels of the current event loop: only that loop's thread touches them. */
  private static final FastThreadLocal<ArrayDeque<Channel>> IDLE = new FastThreadLocal<>() {
    @Override
    protected ArrayDeque<Channel> initialValue() {
      return new ArrayDeque<>();
    }
  };

  private MinimalNettyProxy() {}

  /**
   * Starts the proxy on 127.0.0.1 to {@code backend} with {@code loops} event loops (0: Netty's
   * default, twice the cores); returns its port.
   */
  static int start(URI backend, int loops) throws InterruptedException {
    boolean epoll = Epoll.isAvailable();
    EventLoopGroup group = epoll ? new EpollEventLoopGroup(loops) : new NioEventLoopGroup(loops);
    Class<? extends ServerChannel> serverType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    Class<? extends Channel> clientType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    InetSocketAddress target = new InetSocketAddress(backend.getHost(), backend.getPort());
    Channel server = new ServerBootstrap().group(group).channel(serverType)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new Frontend(target, clientType));
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** Drops the fields that belong to one connection, and those that {@code Connection} names. */
  private static void stripHopByHop(HttpHeaders headers) {
    for (String named : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String name : named.split(",")) {
        headers.remove(name.trim());
      }
    }
    headers.remove(HttpHeaderNames.CONNECTION).remove("keep-alive")
        .remove("proxy-connection").remove(HttpHeaderNames.TE).remove(HttpHeaderNames.TRAILER)
        .remove(HttpHeaderNames.UPGRADE);
  }

  /** One client connection: relays its requests, one at a time, to a backend channel. */
  private static final class Frontend extends ChannelInboundHandlerAdapter {
    private final InetSocketAddress target;
    private final Class<? extends Channel> clientType;
    private Channel backend; // of the request in flight, null between requests
    private List<Object> pending; // what arrived while the backend channel was connecting
    private boolean keepAlive;
    private boolean requestDone;

    Frontend(InetSocketAddress target, Class<? extends Channel> clientType) {
      this.target = target;
      this.clientType = clientType;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest request) {
        keepAlive = HttpUtil.isKeepAlive(request);
        requestDone = false;
        stripHopByHop(request.headers());
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        acquire(ctx);
      }
      if (msg instanceof LastHttpContent) {
        requestDone = true;
        ctx.channel().config().setAutoRead(false); // the next request waits for this answer
      }
      if (pending != null) {
        pending.add(msg);
      } else if (backend != null) {
        backend.write(msg);
        if (requestDone || !backend.isWritable()) {
          backend.flush();
        }
        ctx.channel().config().setAutoRead(!requestDone && backend.isWritable());
      } else {
        ReferenceCountUtil.release(msg); // the rest of a request already answered
      }
    }

    private void acquire(ChannelHandlerContext ctx) {
      ArrayDeque<Channel> idle = IDLE.get();
      Channel pooled;
      while ((pooled = idle.pollLast()) != null) {
        if (pooled.isActive()) {
          attach(ctx, pooled);
          return;
        }
      }
      pending = new ArrayList<>(2);
      new Bootstrap().group(ctx.channel().eventLoop()).channel(clientType)
          .option(ChannelOption.TCP_NODELAY, true)
          .handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
              ch.pipeline().addLast(new HttpClientCodec(), new Backend());
            }
          })
          .connect(target).addListener((ChannelFutureListener) f -> {
            List<Object> queued = pending;
            pending = null;
            if (!f.isSuccess()) {
              queued.forEach(ReferenceCountUtil::release);
              ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                  HttpResponseStatus.BAD_GATEWAY)).addListener(ChannelFutureListener.CLOSE);
              return;
            }
            attach(ctx, f.channel());
            queued.forEach(backend::write);
            backend.flush();
          });
    }

    private void attach(ChannelHandlerContext ctx, Channel channel) {
      backend = channel;
      channel.pipeline().get(Backend.class).frontend = this;
      channel.pipeline().get(Backend.class).client = ctx.channel();
    }

    /** The answer was relayed whole: pool or close the backend channel, read the next request. */
    void responseDone(Channel client, Channel used, boolean reusable, ChannelFuture written) {
      backend = null;
      if (reusable && requestDone) {
        used.config().setAutoRead(true);
        IDLE.get().addLast(used);
      } else {
        used.close(); // a request body still on its way cannot share the connection
      }
      if (keepAlive) {
        client.config().setAutoRead(true);
      } else {
        written.addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (backend != null) { // stop reading the answer while the client cannot take it
        backend.config().setAutoRead(ctx.channel().isWritable());
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (backend != null) {
        backend.close(); // mid-answer: the connection cannot be reused
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // wrk resets its connections at the end of a run
    }
  }

  /** One backend connection: relays each answer to the client that the channel serves now. */
  private static final class Backend extends ChannelInboundHandlerAdapter {
    private Frontend frontend;
    private Channel client;
    private boolean reusable;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (client == null) {
        ReferenceCountUtil.release(msg); // nobody asked
        ctx.close();
        return;
      }
      if (msg instanceof HttpResponse response) {
        reusable = HttpUtil.isKeepAlive(response);
        stripHopByHop(response.headers());
        HttpUtil.setKeepAlive(response, frontend.keepAlive);
      }
      if (msg instanceof LastHttpContent) {
        Channel to = client;
        Frontend from = frontend;
        client = null;
        frontend = null;
        from.responseDone(to, ctx.channel(), reusable, to.writeAndFlush(msg));
        return;
      }
      client.write(msg);
      if (!client.isWritable()) {
        client.flush();
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (client != null) {
        client.flush();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (client != null) { // stop reading the request body while the backend cannot take it
        client.config().setAutoRead(ctx.channel().isWritable() && !frontend.requestDone);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      IDLE.get().remove(ctx.channel());
      if (client != null) {
        client.close(); // the answer was cut short: the client must not take it as whole
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
