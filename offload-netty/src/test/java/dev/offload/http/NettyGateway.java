package dev.offload.http;

import dev.offload.core.guard.Identity;
import dev.offload.http.Loopback.Received;
import dev.offload.netty.NettyForwarder;
import dev.offload.netty.OffloadChannelHandler;
import dev.offload.netty.OffloadServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@link Gateway#NETTY}: a Netty server as a Netty host sets one up, the strict decoder, the
 * response encoder, {@link OffloadChannelHandler} with a {@link NettyForwarder}, and the host's
 * handler (an aggregator and {@link Gateway.Host}, run off the loop). A probe before the offload
 * handler counts each exchange once its response's last chunk is written or its connection
 * closed, after the handle completed.
 */
public final class NettyGateway implements Gateway.Starter {
  @Override
  public Gateway.Running start(OffloadExecutor executor, Gateway.Host host) throws Exception {
    Gateway.Probe probe = new Gateway.Probe();
    EventLoopGroup loops = new NioEventLoopGroup(2);
    ExecutorService blocking = Executors.newCachedThreadPool();
    NettyForwarder forwarder = NettyForwarder.of(executor);
    Channel server = new ServerBootstrap().group(loops).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(OffloadServer.newDecoder(), new HttpResponseEncoder(),
                new Counting(probe),
                new OffloadChannelHandler(executor, blocking,
                    OffloadChannelHandler.DEFAULT_REQUEST_HEAD_TIMEOUT, forwarder),
                new HttpObjectAggregator(64 << 20), new HostHandler(host, blocking, probe));
          }
        })
        .bind(new InetSocketAddress(Loopback.LOCALHOST, 0)).sync().channel();
    return new Gateway.Running(((InetSocketAddress) server.localAddress()).getPort(), probe,
        () -> {
          server.close().syncUninterruptibly();
          forwarder.close();
          loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
          blocking.shutdownNow();
        });
  }

  /** Counts an exchange as handled once its last chunk is written, or its connection closed. */
  private static final class Counting extends ChannelDuplexHandler {
    private final Gateway.Probe probe;
    private int open;

    Counting(Gateway.Probe probe) {
      this.probe = probe;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest) {
        open++;
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof LastHttpContent && open > 0) {
        open--;
        ChannelPromise unvoided = promise.unvoid();
        // released after the listeners that complete the handle (they are added later)
        unvoided.addListener(f -> ctx.executor().execute(probe.handled::release));
        ctx.write(msg, unvoided);
        return;
      }
      ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      int left = open;
      open = 0;
      if (left > 0) {
        ctx.executor().execute(() -> probe.handled.release(left));
      }
      ctx.fireChannelInactive();
    }
  }

  /** The host's handler: the aggregated request to {@link Gateway.Host}, on a worker. */
  private static final class HostHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Gateway.Host host;
    private final ExecutorService blocking;
    private final Gateway.Probe probe;

    HostHandler(Gateway.Host host, ExecutorService blocking, Gateway.Probe probe) {
      this.host = host;
      this.blocking = blocking;
      this.probe = probe;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (Map.Entry<String, String> e : request.headers()) {
        headers.computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
            .add(e.getValue());
      }
      Object identity = ctx.channel().attr(AttributeKey.valueOf(Identity.ATTRIBUTE_NAME)).get();
      Received received = new Received(request.method().name(), request.uri(), headers,
          ByteBufUtil.getBytes(request.content()), identity);
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      blocking.execute(() -> {
        Gateway.Reply reply;
        try {
          reply = host.handle(received);
        } catch (IOException | RuntimeException e) {
          probe.thrown.complete(e);
          ctx.close();
          return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(reply.body()));
        reply.headers().forEach((name, value) -> response.headers().set(name, value));
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
        HttpUtil.setKeepAlive(response, keepAlive);
        ctx.writeAndFlush(response).addListener(keepAlive
            ? ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE : ChannelFutureListener.CLOSE);
      });
    }
  }
}
