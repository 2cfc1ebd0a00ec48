package dev.offload.netty;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.OffloadExecutor;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ready-made server on real loopback sockets: every decision kind, strict parsing. */
class OffloadServerTest {
  private static final int BIG = 4 << 20;
  private HttpServer backend;
  private ExecutorService backendThreads;
  private final CountDownLatch slowRelease = new CountDownLatch(1);
  private final CountDownLatch slowArrived = new CountDownLatch(1);
  private OffloadServer server;

  @BeforeEach
  void startBackend() throws IOException {
    backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    backendThreads = Executors.newCachedThreadPool();
    backend.setExecutor(backendThreads);
    backend.createContext("/", ex -> {
      byte[] in = ex.getRequestBody().readAllBytes();
      if (ex.getRequestURI().getPath().equals("/api/slow")) {
        slowArrived.countDown();
        try {
          slowRelease.await(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (ex.getRequestURI().getPath().equals("/api/big")) {
        byte[] big = new byte[BIG];
        java.util.Arrays.fill(big, (byte) 'b');
        ex.sendResponseHeaders(200, big.length);
        try (OutputStream o = ex.getResponseBody()) {
          o.write(big);
          o.write(String.valueOf(in.length).getBytes(UTF_8)); // past the length: never sent
        } catch (IOException ignored) {
          // the JDK server refuses bytes past the declared length
        }
        return;
      }
      String via = ex.getRequestHeaders().getFirst("Via");
      byte[] out = (ex.getRequestMethod() + " " + ex.getRequestURI() + " via=" + via + " body="
          + new String(in, UTF_8)).getBytes(UTF_8);
      ex.sendResponseHeaders(200, out.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(out);
      }
    });
    backend.start();
  }

  @AfterEach
  void stop() {
    slowRelease.countDown();
    if (server != null) {
      server.close();
    }
    backend.stop(0);
    backendThreads.shutdownNow();
  }

  private OffloadServer start(OffloadServer.Builder builder) throws InterruptedException {
    server = builder.port(0).start();
    return server;
  }

  private OffloadRouter router() {
    Backend b = Backend.of("b", URI.create("http://127.0.0.1:" + backend.getAddress().getPort()));
    return OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(b))
        .route("assets", Route.get("/assets/**"),
            CdnStrategy.redirect(URI.create("https://cdn.example/")))
        .route("admin", Route.prefix("/admin/"), OffloadStrategy.reject(403, "no admin here"))
        .otherwise(OffloadStrategy.passThrough())
        .build();
  }

  private OffloadServer startDefault() throws InterruptedException {
    return start(OffloadServer.builder(router()).eventLoops(1));
  }

  @Test
  void forwardsToTheBackendAndKeepsTheConnection() throws Exception {
    startDefault();
    try (Raw c = new Raw(server.port())) {
      c.send("POST /api/orders?x=1 HTTP/1.1\r\nHost: gw.example\r\nContent-Length: 5\r\n\r\nhello");
      Raw.Response first = c.read();
      c.send("GET /api/again HTTP/1.1\r\nHost: gw.example\r\n\r\n");
      Raw.Response second = c.read();

      assertThat(first.status()).isEqualTo(200);
      assertThat(first.body()).startsWith("POST /api/orders?x=1 via=").endsWith("body=hello");
      assertThat(first.body()).doesNotContain("via=null");
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.body()).startsWith("GET /api/again ");
    }
  }

  @Test
  void answersHeadWithoutABodyAndKeepsTheConnection() throws Exception {
    startDefault();
    try (Raw c = new Raw(server.port())) {
      Raw.Response head = c.send("HEAD /api/h HTTP/1.1\r\nHost: gw.example\r\n\r\n").read(true);
      Raw.Response next = c.send("GET /api/next HTTP/1.1\r\nHost: gw.example\r\n\r\n").read();

      assertThat(head.status()).isEqualTo(200);
      assertThat(next.body()).startsWith("GET /api/next ");
    }
  }

  @Test
  void relaysLargeBodiesBothWaysThroughTheWritabilityWait() throws Exception {
    startDefault();
    String upload = "u".repeat(2 << 20);
    try (Raw c = new Raw(server.port())) {
      c.send("POST /api/big HTTP/1.1\r\nHost: gw.example\r\nContent-Length: " + upload.length()
          + "\r\n\r\n" + upload);
      Raw.Response r = c.read();

      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).hasSize(BIG).matches("b+");
      assertThat(c.send("GET /api/after HTTP/1.1\r\nHost: gw.example\r\n\r\n").read().body())
          .startsWith("GET /api/after ");
    }
  }

  @Test
  void streamsAChunkedRequestBodyToTheBackend() throws Exception {
    startDefault();
    try (Raw c = new Raw(server.port())) {
      c.send("POST /api/up HTTP/1.1\r\nHost: gw.example\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
      Raw.Response r = c.read();

      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).endsWith("body=abcdefg");
    }
  }

  @Test
  void answersABackendThatIsDownWith502ProblemJson() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    OffloadRouter router = OffloadRouter.builder()
        .route(Route.prefix("/api/"),
            FailoverStrategy.to(Backend.of("down", URI.create("http://127.0.0.1:" + closed))))
        .build();
    start(OffloadServer.builder(router));
    try (Raw c = new Raw(server.port())) {
      Raw.Response r = c.send("GET /api/x HTTP/1.1\r\nHost: gw.example\r\n\r\n").read();

      assertThat(r.status()).isEqualTo(502);
      assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
    }
  }

  @Test
  void redirectsRejectsAndFallsBackOnTheLoop() throws Exception {
    startDefault();
    try (Raw c = new Raw(server.port())) {
      Raw.Response redirect = c.send("GET /assets/app.js HTTP/1.1\r\nHost: gw.example\r\n\r\n")
          .read();
      Raw.Response reject = c.send("GET /admin/x HTTP/1.1\r\nHost: gw.example\r\n\r\n").read();
      Raw.Response fallback = c.send("GET /other HTTP/1.1\r\nHost: gw.example\r\n\r\n").read();

      assertThat(redirect.status()).isBetween(301, 308);
      assertThat(redirect.header("Location")).startsWith("https://cdn.example/");
      assertThat(reject.status()).isEqualTo(403);
      assertThat(reject.body()).contains("no admin here");
      assertThat(fallback.status()).isEqualTo(404);
      assertThat(fallback.header("Content-Type")).isEqualTo("application/problem+json");
    }
  }

  @Test
  void answersPipelinedRequestsInOrder() throws Exception {
    startDefault();
    try (Raw c = new Raw(server.port())) {
      c.send("GET /api/one HTTP/1.1\r\nHost: gw.example\r\n\r\n"
          + "GET /admin/two HTTP/1.1\r\nHost: gw.example\r\n\r\n"
          + "GET /api/three HTTP/1.1\r\nHost: gw.example\r\n\r\n");

      assertThat(c.read().body()).startsWith("GET /api/one ");
      assertThat(c.read().status()).isEqualTo(403);
      assertThat(c.read().body()).startsWith("GET /api/three ");
    }
  }

  @Test
  void aSlowBackendDoesNotHoldTheEventLoop() throws Exception {
    startDefault(); // one event loop: a blocked loop would stall the second connection
    try (Raw slow = new Raw(server.port()); Raw other = new Raw(server.port())) {
      slow.send("GET /api/slow HTTP/1.1\r\nHost: gw.example\r\n\r\n");
      assertThat(slowArrived.await(Raw.TIMEOUT_MS, TimeUnit.MILLISECONDS)).isTrue();

      Raw.Response meanwhile = other.send("GET /api/fast HTTP/1.1\r\nHost: gw.example\r\n\r\n")
          .read();
      assertThat(meanwhile.status()).isEqualTo(200);
      slowRelease.countDown();
      assertThat(slow.read().body()).startsWith("GET /api/slow ");
    }
  }

  @Test
  void refusesContentLengthWithTransferEncodingAndCloses() throws Exception {
    assertRefused("POST /api/x HTTP/1.1\r\nHost: gw.example\r\nContent-Length: 3\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  }

  @Test
  void refusesTwoContentLengthsAndCloses() throws Exception {
    assertRefused("POST /api/x HTTP/1.1\r\nHost: gw.example\r\nContent-Length: 3\r\n"
        + "Content-Length: 3\r\n\r\nabc", 400);
  }

  @Test
  void refusesAnInvalidContentLengthAndCloses() throws Exception {
    assertRefused("POST /api/x HTTP/1.1\r\nHost: gw.example\r\nContent-Length: 3x\r\n\r\nabc",
        400);
  }

  @Test
  void refusesABareCarriageReturnAndCloses() throws Exception {
    assertRefused("GET /api/x HTTP/1.1\r\nHost: gw.example\rX-Evil: 1\r\n\r\n", 400);
  }

  @Test
  void refusesAnObsoleteLineFoldAndCloses() throws Exception {
    assertRefused("GET /api/x HTTP/1.1\r\nHost: gw.example\r\nX-A: 1\r\n folded\r\n\r\n", 400);
  }

  @Test
  void refusesAnInvalidHeaderNameAndCloses() throws Exception {
    assertRefused("GET /api/x HTTP/1.1\r\nHost: gw.example\r\nBad Name: 1\r\n\r\n", 400);
  }

  @Test
  void refusesMissingHostOnHttp11AndCloses() throws Exception {
    assertRefused("GET /api/x HTTP/1.1\r\n\r\n", 400);
  }

  @Test
  void refusesTraceAndCloses() throws Exception {
    assertRefused("TRACE /api/x HTTP/1.1\r\nHost: gw.example\r\n\r\n", 405);
  }

  @Test
  void anInvalidChunkSizeNeverReachesTheBackendAsACompleteBody() throws Exception {
    startDefault();
    try (Raw c = new Raw(server.port())) {
      c.send("POST /api/x HTTP/1.1\r\nHost: gw.example\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "3\r\nabc\r\nzz\r\nmore\r\n0\r\n\r\n");
      // either a 4xx answer and the close, or the close: never a 200 relayed for a cut body
      try {
        Raw.Response r = c.read();
        assertThat(r.status()).isBetween(400, 499);
      } catch (IOException closedFirst) {
        // closed without an answer: also refused
      }
      assertThat(c.closedByServer()).isTrue();
    }
  }

  @Test
  void closesAConnectionThatSendsNoRequestHeadInTime() throws Exception {
    start(OffloadServer.builder(router()).requestHeadTimeout(Duration.ofMillis(200)));
    try (Raw c = new Raw(server.port())) {
      c.send("GET /api/x HTTP/1.1\r\nHost: gw.exa"); // and nothing more

      assertThat(c.closedByServer()).isTrue();
    }
  }

  @Test
  void namesABadSettingInTheException() {
    assertThatThrownBy(() -> OffloadServer.builder(router()).port(70000))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port").hasMessageContaining("70000");
    assertThatThrownBy(() -> OffloadServer.builder(router()).requestHeadTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("requestHeadTimeout");
  }

  @Test
  void runsOnNioWhenNativeTransportIsOff() throws Exception {
    start(OffloadServer.builder(router()).nativeTransport(false));
    try (Raw c = new Raw(server.port())) {
      assertThat(server.transport()).isEqualTo("nio");
      assertThat(c.send("GET /api/nio HTTP/1.1\r\nHost: gw.example\r\n\r\n").read().status())
          .isEqualTo(200);
    }
  }

  private void assertRefused(String request, int status) throws Exception {
    startDefault();
    try (Raw c = new Raw(server.port())) {
      Raw.Response r = c.send(request).read();

      assertThat(r.status()).isEqualTo(status);
      assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
      assertThat(c.closedByServer()).isTrue();
    }
  }
}
