package dev.offload.netty;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Backend;
import dev.offload.core.Completion;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Outcome;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.forward.Forwarder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The non-blocking forwarder through {@link OffloadServer}, on real loopback sockets: what is
 * relayed, what is refused, how backends and clients that fail are handled, and the pool.
 */
class NettyForwarderTest {
  private final BlockingQueue<Completion> completions = new LinkedBlockingQueue<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T t) {
    closeables.add(t);
    return t;
  }

  /** A gateway forwarding everything to {@code backend}'s first instance, recording completions. */
  private OffloadServer gateway(Backend backend, Consumer<Forwarder.Builder> forwarding,
      int loops) throws Exception {
    OffloadRouter router = OffloadRouter.builder()
        .otherwise((request, context) -> new Decision.Forward(backend, backend.instances().get(0),
            DecisionHandle.create(context.ticker(), completions::add)))
        .build();
    OffloadExecutor executor = closing(OffloadExecutor.builder(router).meterRegistry(registry)
        .forwarding(forwarding).build());
    return closing(OffloadServer.builder(executor).port(0).eventLoops(loops).start());
  }

  private OffloadServer gateway(URI backend) throws Exception {
    return gateway(Backend.of("orders", backend), f -> { }, 1);
  }

  private Completion completion() throws InterruptedException {
    Completion c = completions.poll(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS);
    assertThat(c).as("a completion").isNotNull();
    return c;
  }

  private HttpServer jdkBackend(com.sun.net.httpserver.HttpHandler handler) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    ExecutorService threads = Executors.newCachedThreadPool();
    server.setExecutor(threads);
    server.createContext("/", handler);
    server.start();
    closeables.add(() -> {
      server.stop(0);
      threads.shutdownNow();
    });
    return server;
  }

  private static URI uri(HttpServer server) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @Test
  void relaysStatusHeadersAndFixedBodiesBothWays() throws Exception {
    HttpServer backend = jdkBackend(ex -> {
      byte[] in = ex.getRequestBody().readAllBytes();
      byte[] out = (ex.getRequestMethod() + " " + ex.getRequestURI() + " "
          + new String(in, UTF_8)).getBytes(UTF_8);
      ex.getResponseHeaders().add("X-Backend", "yes");
      ex.getResponseHeaders().add("Set-Cookie", "a=1");
      ex.getResponseHeaders().add("Set-Cookie", "b=2");
      ex.sendResponseHeaders(201, out.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(out);
      }
    });
    OffloadServer server = gateway(uri(backend));
    assertThat(server.transport()).isIn("epoll", "nio");
    try (Raw client = new Raw(server.port())) {
      Raw.Response r = client.send("POST /api/orders?x=1&y=%20 HTTP/1.1\r\nHost: shop\r\n"
          + "Content-Length: 5\r\n\r\nhello").read();
      assertThat(r.status()).isEqualTo(201);
      assertThat(r.body()).isEqualTo("POST /api/orders?x=1&y=%20 hello");
      assertThat(r.header("X-Backend")).isEqualTo("yes");
      assertThat(r.header("Set-Cookie")).isEqualTo("a=1, b=2");
      assertThat(r.header("Content-Length")).isEqualTo(String.valueOf(r.body().length()));
      Completion c = completion();
      assertThat(c.outcome()).isEqualTo(Outcome.SUCCESS);
      assertThat(c.status()).isEqualTo(201);
      assertThat(c.bytes()).isEqualTo("POST /api/orders?x=1&y=%20 hello".length());
      // the meter is recorded just after the handle completes, on the connection's loop, which
      // reads the next request only after that: a second exchange orders the check after it
      assertThat(client.send("GET / HTTP/1.1\r\nHost: shop\r\n\r\n").read().status())
          .isEqualTo(201);
    }
    assertThat(registry.get(Forwarder.REQUESTS_METER).tag("outcome", "success")
        .tag("status", "201").timer().count()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void relaysChunkedBodiesBothWays() throws Exception {
    try (RawBackend backend = new RawBackend((s, i) -> {
      RawBackend.Request req = backendRead(s);
      String body = new String(req.body(), UTF_8);
      RawBackend.write(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "3\r\nte=\r\n" + Integer.toHexString(req.header("transfer-encoding").length()) + "\r\n"
          + req.header("transfer-encoding") + "\r\n" + Integer.toHexString(body.length())
          + "\r\n" + body + "\r\n0\r\nX-Trailer: t\r\n\r\n");
    })) {
      OffloadServer server = gateway(backend.uri());
      try (Raw client = new Raw(server.port())) {
        Raw.Response r = client.send("POST /up HTTP/1.1\r\nHost: shop\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
        assertThat(r.body()).isEqualTo("te=chunkedhello world");
      }
      assertThat(completion().bytes()).isEqualTo("te=chunkedhello world".length());
    }
  }

  private static RawBackend.Request backendRead(Socket s) throws IOException {
    return RawBackend.read(s.getInputStream());
  }

  @Test
  void streamsALargeResponseToASlowReaderWithBoundedMemory() throws Exception {
    long size = 128L << 20;
    AtomicLong written = new AtomicLong();
    CountDownLatch backendDone = new CountDownLatch(1);
    try (RawBackend backend = new RawBackend((s, i) -> {
      backendRead(s);
      RawBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n");
      byte[] piece = new byte[64 * 1024];
      java.util.Arrays.fill(piece, (byte) 'x');
      OutputStream out = s.getOutputStream();
      for (long n = 0; n < size; n += piece.length) {
        out.write(piece);
        written.addAndGet(piece.length);
      }
      out.flush();
      backendDone.countDown();
    })) {
      OffloadServer server = gateway(backend.uri());
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
        client.setSoTimeout(Raw.TIMEOUT_MS);
        client.getOutputStream().write("GET /big HTTP/1.1\r\nHost: shop\r\n\r\n".getBytes(
            ISO_8859_1));
        InputStream in = client.getInputStream();
        byte[] buf = new byte[64 * 1024];
        int first = in.read(buf);
        assertThat(new String(buf, 0, first, ISO_8859_1)).startsWith("HTTP/1.1 200");
        // the client reads nothing more: the backend must be held back, not buffered for
        assertThat(backendDone.await(1500, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(written.get()).isLessThan(48L << 20);
        long maxDirect = 0;
        long total = first;
        for (int n = in.read(buf); n > 0; n = in.read(buf)) {
          total += n;
          if ((total & ((4 << 20) - 1)) < n) {
            maxDirect = Math.max(maxDirect,
                PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory());
          }
          if (total >= size + 38) { // the head is 38 bytes
            break;
          }
        }
        assertThat(total).isGreaterThanOrEqualTo(size);
        assertThat(maxDirect).isLessThan(32L << 20);
      }
      Completion c = completion();
      assertThat(c.outcome()).isEqualTo(Outcome.SUCCESS);
      assertThat(c.bytes()).isEqualTo(size);
    }
  }

  @Test
  void stripsHopByHopFieldsBothWays() throws Exception {
    try (RawBackend backend = new RawBackend((s, i) -> {
      RawBackend.Request req = backendRead(s);
      String seen = String.join(",", req.headers().keySet());
      RawBackend.write(s, "HTTP/1.1 200 OK\r\nConnection: X-Resp-Hop\r\nX-Resp-Hop: 1\r\n"
          + "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-End: 1\r\n"
          + "Content-Length: " + seen.length() + "\r\n\r\n" + seen);
    })) {
      OffloadServer server = gateway(backend.uri());
      try (Raw client = new Raw(server.port())) {
        Raw.Response r = client.send("GET / HTTP/1.1\r\nHost: shop\r\nConnection: X-Hop\r\n"
            + "X-Hop: 1\r\nKeep-Alive: 300\r\nTE: trailers\r\nProxy-Authorization: Basic x\r\n"
            + "Upgrade: h2c\r\nX-End: 2\r\n\r\n").read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().split(",")).contains("host", "x-end", "x-forwarded-for", "via")
            .doesNotContain("x-hop", "keep-alive", "te", "proxy-authorization", "upgrade");
        assertThat(r.headers()).containsKey("x-end")
            .doesNotContainKeys("x-resp-hop", "keep-alive", "proxy-connection");
      }
    }
  }

  @Test
  void replacesForwardingFieldsFromAnUntrustedPeer() throws Exception {
    try (RawBackend backend = new RawBackend((s, i) -> {
      RawBackend.Request req = backendRead(s);
      String seen = "host=" + req.header("host") + "|xff=" + req.header("x-forwarded-for")
          + "|xfh=" + req.header("x-forwarded-host") + "|fwd=" + req.header("forwarded")
          + "|via=" + req.header("via") + "|real=" + req.header("x-real-ip");
      RawBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: " + seen.length() + "\r\n\r\n"
          + seen);
    })) {
      OffloadServer server = gateway(backend.uri());
      try (Raw client = new Raw(server.port())) {
        String seen = client.send("GET / HTTP/1.1\r\nHost: shop.example\r\n"
            + "X-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nVia: 1.1 evil\r\n"
            + "X-Real-IP: 6.6.6.6\r\n\r\n").read().body();
        assertThat(seen).isEqualTo("host=" + backend.uri().getAuthority()
            + "|xff=127.0.0.1|xfh=shop.example|fwd=for=127.0.0.1;host=shop.example;proto=http"
            + "|via=1.1 offload|real=null");
      }
    }
  }

  @Test
  void refusesABodyOverTheLimitWith413() throws Exception {
    try (RawBackend backend = new RawBackend((s, i) -> {
      backendRead(s);
      RawBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    })) {
      OffloadServer server = gateway(Backend.of("orders", backend.uri()),
          f -> f.maxRequestBodyBytes(10), 1);
      try (Raw client = new Raw(server.port())) {
        Raw.Response r = client.send("POST / HTTP/1.1\r\nHost: shop\r\nContent-Length: 11\r\n"
            + "\r\nhello world").read();
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(r.header("Connection")).isEqualTo("close");
        assertThat(client.closedByServer()).isTrue();
      }
      Completion declared = completion();
      assertThat(declared.outcome()).isEqualTo(Outcome.DROPPED);
      assertThat(declared.failure()).isEqualTo(FailureKind.REJECTED_LOCALLY);
      assertThat(declared.status()).isEqualTo(413);
      assertThat(backend.connections()).isZero();
      try (Raw client = new Raw(server.port())) {
        Raw.Response r = client.send("POST / HTTP/1.1\r\nHost: shop\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n6\r\nworld!\r\n0\r\n\r\n").read();
        assertThat(r.status()).isEqualTo(413);
        assertThat(client.closedByServer()).isTrue();
      }
      assertThat(completion().status()).isEqualTo(413);
    }
  }

  @Test
  void answers408AndClosesWhenTheRequestBodyStalls() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (RawBackend backend = new RawBackend((s, i) -> {
      release.await(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS);
    })) {
      OffloadServer server = gateway(Backend.of("orders", backend.uri()),
          f -> f.requestBodyIdleTimeout(Duration.ofMillis(300)), 1);
      try (Raw client = new Raw(server.port())) {
        Raw.Response r = client.send("PUT / HTTP/1.1\r\nHost: shop\r\nContent-Length: 10\r\n"
            + "\r\nabc").read();
        assertThat(r.status()).isEqualTo(408);
        assertThat(r.header("Connection")).isEqualTo("close");
        assertThat(client.closedByServer()).isTrue();
      }
      release.countDown();
      Completion c = completion();
      assertThat(c.outcome()).isEqualTo(Outcome.DROPPED);
      assertThat(c.failure()).isEqualTo(FailureKind.REJECTED_LOCALLY);
      assertThat(c.status()).isEqualTo(408);
    }
  }

  @Test
  void answers502WithoutBackendNamesWhenTheConnectionIsRefused() throws Exception {
    int port;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    OffloadServer server = gateway(URI.create("http://127.0.0.1:" + port));
    try (Raw client = new Raw(server.port())) {
      Raw.Response r = client.send("GET / HTTP/1.1\r\nHost: shop\r\n\r\n").read();
      assertThat(r.status()).isEqualTo(502);
      assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
      assertThat(r.body()).contains("unreachable").doesNotContain("orders")
          .doesNotContain(String.valueOf(port)).doesNotContain("127.0.0.1");
    }
    Completion c = completion();
    assertThat(c.outcome()).isEqualTo(Outcome.FAILURE);
    assertThat(c.failure()).isEqualTo(FailureKind.CONNECT_REFUSED);
    assertThat(c.status()).isEqualTo(502);
  }

  @Test
  void answers504WhenTheBackendIsSilent() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (RawBackend backend = new RawBackend((s, i) -> {
      backendRead(s);
      release.await(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS);
    })) {
      Backend silent = Backend.builder("orders").instance(backend.uri())
          .readTimeout(Duration.ofMillis(300)).build();
      OffloadServer server = gateway(silent, f -> { }, 1);
      try (Raw client = new Raw(server.port())) {
        Raw.Response r = client.send("GET / HTTP/1.1\r\nHost: shop\r\n\r\n").read();
        assertThat(r.status()).isEqualTo(504);
        assertThat(r.body()).contains("did not answer in time").doesNotContain("orders");
      }
      release.countDown();
      Completion c = completion();
      assertThat(c.outcome()).isEqualTo(Outcome.FAILURE);
      assertThat(c.failure()).isEqualTo(FailureKind.READ_TIMEOUT);
      assertThat(c.status()).isEqualTo(504);
    }
  }

  @Test
  void abortsTheClientWhenTheBackendClosesMidBody() throws Exception {
    try (RawBackend backend = new RawBackend((s, i) -> {
      backendRead(s);
      RawBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
      s.shutdownOutput();
    })) {
      OffloadServer server = gateway(backend.uri());
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
        client.setSoTimeout(Raw.TIMEOUT_MS);
        client.getOutputStream().write("GET / HTTP/1.1\r\nHost: shop\r\n\r\n".getBytes(
            ISO_8859_1));
        byte[] all = readUntilClosed(client.getInputStream());
        String text = new String(all, ISO_8859_1);
        assertThat(text).startsWith("HTTP/1.1 200");
        assertThat(text.toLowerCase(java.util.Locale.ROOT)).contains("content-length: 100000");
        assertThat(text.substring(text.indexOf("\r\n\r\n") + 4)).hasSize(1000);
      }
      Completion c = completion();
      assertThat(c.outcome()).isEqualTo(Outcome.FAILURE);
      assertThat(c.failure()).isEqualTo(FailureKind.RESET);
      assertThat(c.status()).isEqualTo(200);
      assertThat(c.bytes()).isEqualTo(1000);
    }
  }

  private static byte[] readUntilClosed(InputStream in) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      for (int n = in.read(buf); n > 0; n = in.read(buf)) {
        out.write(buf, 0, n);
      }
    } catch (java.net.SocketException reset) {
      // a reset ends it too
    }
    return out.toByteArray();
  }

  @Test
  void closesTheBackendConnectionWhenTheClientLeavesMidBody() throws Exception {
    CountDownLatch backendSawClose = new CountDownLatch(1);
    try (RawBackend backend = new RawBackend((s, i) -> {
      backendRead(s);
      RawBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n");
      byte[] piece = new byte[64 * 1024];
      try {
        for (int n = 0; n < 1_000_000_000; n += piece.length) {
          s.getOutputStream().write(piece);
        }
      } catch (IOException closed) {
        backendSawClose.countDown();
      }
    })) {
      OffloadServer server = gateway(backend.uri());
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
        client.getOutputStream().write("GET / HTTP/1.1\r\nHost: shop\r\n\r\n".getBytes(
            ISO_8859_1));
        assertThat(client.getInputStream().read(new byte[1024])).isPositive();
      }
      Completion c = completion();
      assertThat(c.outcome()).isEqualTo(Outcome.DROPPED);
      assertThat(c.failure()).isEqualTo(FailureKind.CLIENT_GONE);
      assertThat(backendSawClose.await(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS)).isTrue();
    }
  }

  /** Serves one response per request; the second request on connection 0 finds it dead. */
  private static RawBackend.Script staleOnSecondRequest() {
    return (s, i) -> {
      for (int n = 0; ; n++) {
        RawBackend.Request req = backendRead(s);
        if (req == null) {
          return;
        }
        if (i == 0 && n == 1) {
          s.setSoLinger(true, 0);
          return; // closed as a stale pooled connection: before any byte of a response
        }
        String body = "conn" + i;
        RawBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n"
            + body);
      }
    };
  }

  @Test
  void retriesAnIdempotentRequestOnceWhenAPooledConnectionIsStale() throws Exception {
    try (RawBackend backend = new RawBackend(staleOnSecondRequest())) {
      OffloadServer server = gateway(backend.uri());
      try (Raw client = new Raw(server.port())) {
        assertThat(client.send("GET /a HTTP/1.1\r\nHost: shop\r\n\r\n").read().body())
            .isEqualTo("conn0");
        assertThat(completion().outcome()).isEqualTo(Outcome.SUCCESS);
        Raw.Response second = client.send("GET /b HTTP/1.1\r\nHost: shop\r\n\r\n").read();
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.body()).isEqualTo("conn1");
      }
      assertThat(completion().outcome()).isEqualTo(Outcome.SUCCESS);
      assertThat(registry.get(Forwarder.RETRIES_METER).counter().count()).isEqualTo(1);
      assertThat(backend.connections()).isEqualTo(2);
    }
  }

  @Test
  void neverRetriesAPostWithABody() throws Exception {
    try (RawBackend backend = new RawBackend(staleOnSecondRequest())) {
      OffloadServer server = gateway(backend.uri());
      try (Raw client = new Raw(server.port())) {
        assertThat(client.send("GET /a HTTP/1.1\r\nHost: shop\r\n\r\n").read().status())
            .isEqualTo(200);
        completion();
        Raw.Response second = client.send("POST /b HTTP/1.1\r\nHost: shop\r\n"
            + "Content-Length: 2\r\n\r\nhi").read();
        assertThat(second.status()).isEqualTo(502);
      }
      Completion c = completion();
      assertThat(c.failure()).isEqualTo(FailureKind.RESET);
      assertThat(backend.connections()).isEqualTo(1);
    }
  }

  @Test
  void aStalledForwardDoesNotHoldItsEventLoop() throws Exception {
    CountDownLatch stalled = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    HttpServer backend = jdkBackend(ex -> {
      if (ex.getRequestURI().getPath().equals("/slow")) {
        stalled.countDown();
        try {
          release.await(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      ex.sendResponseHeaders(200, 2);
      try (OutputStream o = ex.getResponseBody()) {
        o.write("ok".getBytes(UTF_8));
      }
    });
    // one event loop and no worker in the path: the slow forward waits on the loop's selector
    OffloadServer server = gateway(Backend.of("orders", uri(backend)), f -> { }, 1);
    try (Raw slow = new Raw(server.port()); Raw fast = new Raw(server.port())) {
      slow.send("GET /slow HTTP/1.1\r\nHost: shop\r\n\r\n");
      assertThat(stalled.await(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS)).isTrue();
      for (int i = 0; i < 3; i++) {
        assertThat(fast.send("GET /fast HTTP/1.1\r\nHost: shop\r\n\r\n").read().body())
            .isEqualTo("ok");
      }
      release.countDown();
      assertThat(slow.read().body()).isEqualTo("ok");
    }
  }

  @Test
  void resolvesABackendHostNameOffTheLoopThenRelaysToIt() throws Exception {
    try (RawBackend backend = new RawBackend((s, i) -> {
      for (RawBackend.Request req = backendRead(s); req != null; req = backendRead(s)) {
        String body = "connection=" + req.header("connection");
        RawBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n"
            + body);
      }
    })) {
      Backend named = Backend.of("orders",
          URI.create("http://localhost:" + backend.uri().getPort()));
      OffloadRouter router = OffloadRouter.builder()
          .otherwise((request, context) -> new Decision.Forward(named, named.instances().get(0),
              DecisionHandle.create(context.ticker(), completions::add)))
          .build();
      OffloadExecutor executor = closing(OffloadExecutor.of(router));
      BlockingQueue<Runnable> resolutions = new LinkedBlockingQueue<>();
      NettyForwarder forwarder = closing(NettyForwarder.builder(executor)
          .resolver(resolutions::add).build());
      ExecutorService blocking = Executors.newCachedThreadPool();
      closeables.add(blocking::shutdownNow);
      io.netty.channel.EventLoopGroup loop = new io.netty.channel.nio.NioEventLoopGroup(1);
      closeables.add(() -> loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync());
      io.netty.channel.Channel server = new io.netty.bootstrap.ServerBootstrap().group(loop)
          .channel(io.netty.channel.socket.nio.NioServerSocketChannel.class)
          .childHandler(new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
            @Override
            protected void initChannel(io.netty.channel.Channel ch) {
              ch.pipeline().addLast(OffloadServer.newDecoder(),
                  new io.netty.handler.codec.http.HttpResponseEncoder(),
                  new OffloadChannelHandler(executor, blocking,
                      OffloadChannelHandler.DEFAULT_REQUEST_HEAD_TIMEOUT, forwarder));
            }
          })
          .bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
      closeables.add(() -> server.close().sync());
      int port = ((InetSocketAddress) server.localAddress()).getPort();
      try (Raw client = new Raw(port)) {
        // not resolved yet: the OkHttp forwarder takes it (OkHttp sends Connection: Keep-Alive)
        assertThat(client.send("GET / HTTP/1.1\r\nHost: shop\r\n\r\n").read().body())
            .isEqualTo("connection=Keep-Alive");
        Runnable resolve = resolutions.poll(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertThat(resolve).as("a resolution handed to the resolver").isNotNull();
        resolve.run(); // here, on the test's thread: never on the loop
        assertThat(client.send("GET / HTTP/1.1\r\nHost: shop\r\n\r\n").read().body())
            .as("relayed by the Netty forwarder, which adds no Connection field")
            .isEqualTo("connection=null");
      }
      assertThat(resolutions).isEmpty();
      assertThat(completion().outcome()).isEqualTo(Outcome.SUCCESS);
      assertThat(completion().outcome()).isEqualTo(Outcome.SUCCESS);
    }
  }

  @Test
  void withNettyForwardingOffTheOkHttpForwarderRelays() throws Exception {
    try (RawBackend backend = new RawBackend((s, i) -> {
      RawBackend.Request req = backendRead(s);
      String body = "connection=" + req.header("connection");
      RawBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n"
          + body);
    })) {
      Backend b = Backend.of("orders", backend.uri());
      OffloadRouter router = OffloadRouter.builder()
          .otherwise((request, context) -> new Decision.Forward(b, b.instances().get(0),
              DecisionHandle.create(context.ticker(), completions::add)))
          .build();
      OffloadServer server = closing(OffloadServer.builder(closing(OffloadExecutor.of(router)))
          .port(0).nettyForwarding(false).start());
      try (Raw client = new Raw(server.port())) {
        assertThat(client.send("GET / HTTP/1.1\r\nHost: shop\r\n\r\n").read().body())
            .as("OkHttp adds Connection: Keep-Alive; the Netty relay adds nothing")
            .isEqualTo("connection=Keep-Alive");
        // checked before the client closes: on the blocking path the last chunk may be written
        // after the client already has every byte, and a client gone by then counts as dropped
        assertThat(completion()).extracting(Completion::outcome, Completion::failure)
            .containsExactly(Outcome.SUCCESS, FailureKind.NONE);
      }
    }
  }

  @Test
  void refusesBadPoolSettingsNamingThem() {
    OffloadExecutor executor = closing(OffloadExecutor.of(OffloadRouter.builder()
        .otherwise(dev.offload.core.OffloadStrategy.passThrough()).build()));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> NettyForwarder.builder(executor).maxIdlePerInstance(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxIdlePerInstance").hasMessageContaining("-1");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> NettyForwarder.builder(executor).idleTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idleTimeout");
  }

  @Test
  void reusesOneBackendConnectionForSequentialRequests() throws Exception {
    Set<Integer> ports = ConcurrentHashMap.newKeySet();
    HttpServer backend = jdkBackend(ex -> {
      ports.add(ex.getRemoteAddress().getPort());
      ex.getRequestBody().readAllBytes();
      ex.sendResponseHeaders(200, 2);
      try (OutputStream o = ex.getResponseBody()) {
        o.write("ok".getBytes(UTF_8));
      }
    });
    OffloadServer server = gateway(uri(backend));
    try (Raw client = new Raw(server.port())) {
      for (int i = 0; i < 20; i++) {
        String request = i % 2 == 0 ? "GET /" + i + " HTTP/1.1\r\nHost: shop\r\n\r\n"
            : "PUT /" + i + " HTTP/1.1\r\nHost: shop\r\nContent-Length: 3\r\n\r\nabc";
        assertThat(client.send(request).read().body()).isEqualTo("ok");
        assertThat(completion().outcome()).isEqualTo(Outcome.SUCCESS);
      }
    }
    assertThat(ports).hasSize(1);
  }

  @Test
  void poolsBackendConnectionsPerEventLoop() throws Exception {
    Set<Integer> ports = ConcurrentHashMap.newKeySet();
    HttpServer backend = jdkBackend(ex -> {
      ports.add(ex.getRemoteAddress().getPort());
      ex.sendResponseHeaders(200, 2);
      try (OutputStream o = ex.getResponseBody()) {
        o.write("ok".getBytes(UTF_8));
      }
    });
    OffloadServer server = gateway(Backend.of("orders", uri(backend)), f -> { }, 2);
    // two connections land on the two loops (round robin); their requests alternate, so one
    // shared pool would need a single backend connection, one pool per loop needs two
    try (Raw a = new Raw(server.port()); Raw b = new Raw(server.port())) {
      for (int i = 0; i < 6; i++) {
        Raw client = i % 2 == 0 ? a : b;
        assertThat(client.send("GET / HTTP/1.1\r\nHost: shop\r\n\r\n").read().body())
            .isEqualTo("ok");
        completion();
      }
    }
    assertThat(ports).hasSize(2);
  }
}
