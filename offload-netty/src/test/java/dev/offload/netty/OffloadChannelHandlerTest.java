package dev.offload.netty;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Completion;
import dev.offload.core.DecisionHandle;
import dev.offload.core.Decision;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Outcome;
import dev.offload.core.Route;
import dev.offload.http.OffloadExecutor;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The handler in a Netty host's own pipeline, in front of the host's own handler. */
class OffloadChannelHandlerTest {
  private static final dev.offload.core.AttributeKey<String> WHO =
      dev.offload.core.AttributeKey.of("test.who", String.class);
  private final NioEventLoopGroup group = new NioEventLoopGroup(1);
  private final ExecutorService blocking = Executors.newCachedThreadPool();
  private final List<String> hostSaw = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Completion> passed = new CompletableFuture<>();

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    blocking.shutdownNow();
  }

  /** The host's own handler: answers with what it received, head and body. */
  private final class Host extends SimpleChannelInboundHandler<HttpObject> {
    private final StringBuilder seen = new StringBuilder();

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpRequest request) {
        Object identity = ctx.channel().attr(AttributeKey.valueOf("test.who")).get();
        seen.setLength(0);
        seen.append(request.method()).append(' ').append(request.uri()).append(" who=")
            .append(identity).append(" body=");
      }
      if (msg instanceof HttpContent content) {
        seen.append(content.content().toString(UTF_8));
      }
      if (msg instanceof LastHttpContent) {
        hostSaw.add(seen.toString());
        ByteBuf body = Unpooled.copiedBuffer("host:" + seen, UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        ctx.writeAndFlush(response);
      }
    }
  }

  private int start(OffloadRouter router) throws InterruptedException {
    OffloadExecutor executor = OffloadExecutor.of(router);
    Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(OffloadServer.newDecoder(), new HttpResponseEncoder(),
                new OffloadChannelHandler(executor, blocking), new Host());
          }
        })
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  @Test
  void passThroughContinuesDownThePipelineWithItsBodyAndIsMeasured() throws Exception {
    OffloadStrategy measured = (request, context) -> {
      DecisionHandle handle = DecisionHandle.create(context.ticker(), passed::complete);
      handle.addResponseHeaders(Headers.of("X-Offload", "passed"));
      if (request.path().equals("/orders")) {
        handle.putAttribute(WHO, "alice");
      }
      return new Decision.PassThrough(handle);
    };
    int port = start(OffloadRouter.builder()
        .route(Route.prefix("/admin/"), OffloadStrategy.reject(403, "no"))
        .otherwise(measured).build());
    try (Raw c = new Raw(port)) {
      Raw.Response first = c.send("POST /orders HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
          + "hello").read();
      Raw.Response refused = c.send("GET /admin/x HTTP/1.1\r\nHost: h\r\n\r\n").read();
      Raw.Response second = c.send("GET /again HTTP/1.1\r\nHost: h\r\n\r\n").read();

      assertThat(first.status()).isEqualTo(200);
      assertThat(first.body()).isEqualTo("host:POST /orders who=alice body=hello");
      assertThat(first.header("X-Offload")).isEqualTo("passed");
      assertThat(refused.status()).isEqualTo(403);
      assertThat(second.body()).isEqualTo("host:GET /again who=null body=");
      // the refused request never reached the host; the identity was the first request's only
      assertThat(hostSaw).hasSize(2);
      Completion completion = passed.get(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS);
      assertThat(completion.outcome()).isEqualTo(Outcome.SUCCESS);
      assertThat(completion.status()).isEqualTo(200);
      assertThat(completion.bytes()).isEqualTo(first.body().length());
    }
  }

  @Test
  void aChunkedBodyPassesThroughAsTheClientSentIt() throws Exception {
    int port = start(OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build());
    try (Raw c = new Raw(port)) {
      Raw.Response r = c.send("PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n").read();

      assertThat(r.body()).isEqualTo("host:PUT /up who=null body=abcde");
    }
  }

  @Test
  void aRefusedRequestNeverReachesTheHost() throws Exception {
    int port = start(OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build());
    try (Raw c = new Raw(port)) {
      Raw.Response r = c.send("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").read();

      assertThat(r.status()).isEqualTo(400);
      assertThat(c.closedByServer()).isTrue();
      assertThat(hostSaw).isEmpty();
    }
  }
}
