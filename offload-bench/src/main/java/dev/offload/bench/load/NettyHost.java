package dev.offload.bench.load;

import dev.offload.http.OffloadExecutor;
import dev.offload.netty.OffloadChannelHandler;
import dev.offload.netty.OffloadServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
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
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A Netty host answering 1 KiB from memory on its event loop, alone or with {@link
 * OffloadChannelHandler} in front (the pass-through arm on Netty).
 */
final class NettyHost {
  private static final byte[] BODY = "x".repeat(1024).getBytes(StandardCharsets.US_ASCII);

  private NettyHost() {}

  /**
   * Starts the host, with {@code offload} in front when not null; returns its port. It runs
   * until the process exits (each arm has a JVM of its own).
   */
  static int start(OffloadExecutor offload) throws Exception {
    boolean epoll = Epoll.isAvailable();
    EventLoopGroup group = epoll ? new EpollEventLoopGroup() : new NioEventLoopGroup();
    ExecutorService blocking = Executors.newCachedThreadPool();
    Channel server = new ServerBootstrap().group(group)
        .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(OffloadServer.newDecoder(), new HttpResponseEncoder());
            if (offload != null) {
              ch.pipeline().addLast(new OffloadChannelHandler(offload, blocking));
            }
            ch.pipeline().addLast(new Answer());
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  private static final class Answer extends SimpleChannelInboundHandler<HttpObject> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof LastHttpContent) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.OK, Unpooled.wrappedBuffer(BODY));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
            .set(HttpHeaderNames.CONTENT_LENGTH, BODY.length);
        ctx.writeAndFlush(response);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // wrk resets its connections at the end of a run
    }
  }
}
