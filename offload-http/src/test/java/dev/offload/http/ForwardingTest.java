package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.Loopback.RawBackend;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Received;
import dev.offload.http.Loopback.Response;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * The forwarder through a real gateway to real backends, all on loopback: every test runs once
 * with the gateway on the JDK {@code HttpServer}, once on embedded Jetty 12 (the OkHttp
 * forwarder), and, from offload-netty's run, once on Netty (its non-blocking forwarder).
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class ForwardingTest {
  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final AtomicReference<InetAddress> routedClient = new AtomicReference<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private Backend backend;
  private Gateway.Running lastGateway;



  private Loopback.Backend backend() throws IOException {
    return closer.add(new Loopback.Backend());
  }

  /** A gateway that forwards everything under /api/ to {@code target}; the rest passes through. */
  private Gateway.Running gateway(Backend target,
      UnaryOperator<OffloadExecutor.Builder> config) throws Exception {
    this.backend = target;
    FailoverStrategy recording =
        (request, context) -> {
          routedClient.set(request.clientAddress());
          return BackendLoad.of(target).forward(context);
        };
    OffloadRouter router = OffloadRouter.builder().route("api", Route.prefix("/api/"), recording)
        .build();
    OffloadExecutor executor =
        config.apply(OffloadExecutor.builder(router).meterRegistry(registry)).build();
    lastGateway = closer.add(server.start(executor, Gateway.Host.answering("host")));
    return lastGateway;
  }

  private Gateway.Running gateway(URI backendUri) throws Exception {
    return gateway(Backend.of("b", backendUri), b -> b);
  }

  private static String get(String target, String... headerLines) {
    StringBuilder sb = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: gw.example\r\n");
    for (String line : headerLines) {
      sb.append(line).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }

  private double timerCount(String status, String outcome) {
    var timer = registry.find("offload.forward.requests").tag("backend", "b")
        .tag("status", status).tag("outcome", outcome).timer();
    return timer == null ? 0 : timer.count();
  }

  @Test
  void forwardsPathAndQueryAndBuildsForwardingHeadersFromTheSocketPeer() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/items?id=7&x=%2F")).read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("ok");
    }
    Received r = b.take();
    assertThat(r.target()).isEqualTo("/api/items?id=7&x=%2F");
    assertThat(r.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
    assertThat(r.header("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(r.header("X-Forwarded-Host")).isEqualTo("gw.example");
    assertThat(r.header("Forwarded")).isEqualTo("for=127.0.0.1;host=gw.example;proto=http");
    assertThat(r.header("Via")).isEqualTo("1.1 offload");
    assertThat(r.header("Host")).isEqualTo("127.0.0.1:" + b.uri().getPort());
    assertThat(r.header("User-Agent")).as("no User-Agent was sent, none is added").isNull();
    lastGateway.awaitHandled(1);
    assertThat(timerCount("200", "success")).isEqualTo(1);
    assertThat(BackendLoad.of(backend).inFlight()).isZero();
    assertThat(registry.get("offload.forward.active").tag("backend", "b").gauge().value()).isZero();
  }

  @Test
  void dropsSpoofedForwardingHeadersFromAnUntrustedPeer() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      client.send(get("/api/x", "X-Forwarded-For: 6.6.6.6", "X-Forwarded-Host: evil.example",
          "X-Forwarded-Proto: https", "Forwarded: for=6.6.6.6", "Via: 1.1 liar",
          "X-Real-IP: 6.6.6.6")).read();
    }
    Received r = b.take();
    assertThat(r.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
    assertThat(r.header("X-Forwarded-Host")).isEqualTo("gw.example");
    assertThat(r.header("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(r.header("Forwarded")).isEqualTo("for=127.0.0.1;host=gw.example;proto=http");
    assertThat(r.header("Via")).isEqualTo("1.1 offload");
    assertThat(r.header("X-Real-IP")).isNull();
    assertThat(routedClient.get().getHostAddress()).isEqualTo("127.0.0.1");
  }

  @Test
  void appendsToForwardingHeadersFromATrustedPeerAndRoutesByTheRightmostUntrustedHop()
      throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(Backend.of("b", b.uri()),
        builder -> builder.trustedProxies("127.0.0.0/8", "10.0.0.0/8"));
    try (RawClient client = new RawClient(gw.port())) {
      client.send(get("/api/x", "X-Forwarded-For: 6.6.6.6, 203.0.113.9", "X-Forwarded-For: 10.1.2.3",
          "X-Forwarded-Proto: https", "X-Forwarded-Host: shop.example",
          "Forwarded: for=203.0.113.9", "Via: 1.1 lb")).read();
    }
    Received r = b.take();
    assertThat(r.header("X-Forwarded-For")).isEqualTo("6.6.6.6, 203.0.113.9, 10.1.2.3, 127.0.0.1");
    assertThat(r.header("X-Forwarded-Proto")).isEqualTo("https");
    assertThat(r.header("X-Forwarded-Host")).isEqualTo("shop.example");
    assertThat(r.header("Forwarded"))
        .isEqualTo("for=203.0.113.9, for=127.0.0.1;host=gw.example;proto=http");
    assertThat(r.header("Via")).isEqualTo("1.1 lb, 1.1 offload");
    assertThat(routedClient.get().getHostAddress()).isEqualTo("203.0.113.9");
  }

  @Test
  void doesNotForwardAHeaderNamedByConnectionButKeepsFramingAndIdentity() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      // Connection names Upgrade, as clients do: Jetty refuses an Upgrade field without it
      // (400 "Invalid h2c upgrade headers") before any filter runs; the JDK server ignores both
      Response response = client.send("POST /api/x HTTP/1.1\r\nHost: gw.example\r\n"
          + "Connection: X-Secret, Host, Content-Length, Authorization, X-Forwarded-For, "
          + "Upgrade\r\nX-Secret: s3cr3t\r\nAuthorization: Bearer abc\r\n"
          + "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\n"
          + "Proxy-Authorization: Basic eA==\r\n"
          + "Proxy-Connection: keep-alive\r\nContent-Length: 5\r\n\r\nhello").read();
      assertThat(response.status()).isEqualTo(200);
    }
    Received r = b.take();
    assertThat(r.header("X-Secret")).isNull();
    assertThat(r.header("Keep-Alive")).isNull();
    assertThat(r.header("TE")).isNull();
    assertThat(r.header("Upgrade")).isNull();
    assertThat(r.header("Proxy-Authorization")).isNull();
    assertThat(r.header("Proxy-Connection")).isNull();
    assertThat(r.header("Authorization")).isEqualTo("Bearer abc");
    assertThat(r.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
    assertThat(new String(r.body(), UTF_8)).isEqualTo("hello");
    assertThat(r.header("Content-Length")).isEqualTo("5");
  }

  @Test
  void removesHopByHopHeadersFromTheResponse() throws Exception {
    Loopback.Backend b = backend();
    b.responder = ex -> {
      ex.getResponseHeaders().add("Connection", "X-Backend-Secret");
      ex.getResponseHeaders().add("X-Backend-Secret", "internal");
      ex.getResponseHeaders().add("Keep-Alive", "timeout=5");
      ex.getResponseHeaders().add("Proxy-Connection", "keep-alive");
      ex.getResponseHeaders().add("Upgrade", "h2c");
      ex.getResponseHeaders().add("X-Kept", "yes");
      Loopback.respond(ex, 200, "ok".getBytes(UTF_8));
    };
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.header("X-Backend-Secret")).isNull();
      assertThat(response.header("Keep-Alive")).isNull();
      assertThat(response.header("Proxy-Connection")).isNull();
      assertThat(response.header("Upgrade")).isNull();
      assertThat(response.header("Connection")).isNull();
      assertThat(response.header("X-Kept")).isEqualTo("yes");
    }
  }

  @Test
  void anAbsoluteFormTargetOrHostHeaderCannotChooseAnotherBackend() throws Exception {
    Loopback.Backend b = backend();
    Loopback.Backend elsewhere = backend();
    Gateway.Running gw = gateway(b.uri());
    String other = "127.0.0.1:" + elsewhere.uri().getPort();
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("GET http://" + other + "/api/steal?q=1 HTTP/1.1\r\nHost: "
          + other + "\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(200);
    }
    Received r = b.take();
    assertThat(r.target()).isEqualTo("/api/steal?q=1");
    assertThat(elsewhere.received).isEmpty();
  }

  @Test
  void connectionRefusedIsA502ProblemAndAFailure() throws Exception {
    Gateway.Running gw = gateway(URI.create("http://127.0.0.1:" + Loopback.closedPort()));
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
      assertThat(response.bodyText()).contains("\"status\":502").contains("unreachable")
          .doesNotContain("Exception").doesNotContain("127.0.0.1");
    }
    lastGateway.awaitHandled(1);
    assertThat(timerCount("502", "connect_error")).isEqualTo(1);
    assertThat(BackendLoad.of(backend).inFlight()).isZero();
  }

  private double retries() {
    var counter = registry.find("offload.forward.retries").tag("backend", "b").counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void aGetOnAPooledConnectionTheBackendClosedWhileIdleIsResentOnceOnAnotherConnection()
      throws Exception {
    Loopback.ClosingIdleBackend b = closer.add(new Loopback.ClosingIdleBackend());
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(get("/api/first")).read().status()).isEqualTo(200);
      b.awaitClosed(1); // the pooled connection is now dead, and the pool does not know it
      Response response = client.send(get("/api/second")).read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("ok");
    }
    lastGateway.awaitHandled(2);
    assertThat(b.seen).containsExactly(
        new Loopback.ClosingIdleBackend.Seen(1, "GET /api/first HTTP/1.1"),
        new Loopback.ClosingIdleBackend.Seen(2, "GET /api/second HTTP/1.1"));
    // Netty's pool reads its idle connections, sees the close and drops the connection, so the
    // second request goes out on a new one at once: nothing to resend (NettyForwarderTest has
    // the race, a connection that dies as the request is sent)
    assertThat(retries()).isEqualTo(server == Gateway.NETTY ? 0 : 1);
    assertThat(timerCount("200", "success")).as("a resent request is one request").isEqualTo(2);
    assertThat(BackendLoad.of(backend).inFlight()).isZero();
  }

  @Test
  void aPostOrARequestWithABodyOnADeadPooledConnectionIsNeverResent() throws Exception {
    Assumptions.assumeTrue(server != Gateway.NETTY, "Netty's pool drops a connection the backend"
        + " closed while idle, so no request meets it (NettyForwarderTest has the race)");
    Loopback.ClosingIdleBackend b = closer.add(new Loopback.ClosingIdleBackend());
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(get("/api/warm1")).read().status()).isEqualTo(200);
      b.awaitClosed(1);
      Response post = client.send("POST /api/order HTTP/1.1\r\nHost: gw\r\n"
          + "Content-Length: 0\r\n\r\n").read();
      assertThat(post.status()).isEqualTo(502);
      assertThat(post.bodyText()).contains("no valid response");
    }
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(get("/api/warm2")).read().status()).isEqualTo(200);
      b.awaitClosed(1);
      Response put = client.send("PUT /api/doc HTTP/1.1\r\nHost: gw\r\n"
          + "Content-Length: 4\r\n\r\ndata").read();
      assertThat(put.status()).isEqualTo(502);
    }
    lastGateway.awaitHandled(4);
    assertThat(b.seen).extracting(Loopback.ClosingIdleBackend.Seen::requestLine)
        .as("neither the POST nor the PUT with a body reached the backend a second time")
        .containsExactly("GET /api/warm1 HTTP/1.1", "GET /api/warm2 HTTP/1.1");
    assertThat(retries()).isZero();
    assertThat(timerCount("502", "bad_response")).isEqualTo(2);
  }

  @Test
  void backendReadTimeoutIsA504() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    closer.add(release::countDown);
    Loopback.Backend b = backend();
    b.responder = ex -> {
      try {
        release.await(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Loopback.respond(ex, 200, new byte[0]);
    };
    Gateway.Running gw = gateway(Backend.builder("b").instance(b.uri())
        .readTimeout(Duration.ofMillis(200)).build(), x -> x);
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/slow")).read();
      assertThat(response.status()).isEqualTo(504);
      assertThat(response.bodyText()).contains("\"title\":\"Gateway Timeout\"");
    }
    lastGateway.awaitHandled(1);
    assertThat(timerCount("504", "timeout")).isEqualTo(1);
  }

  @Test
  void malformedBackendResponseIsA502() throws Exception {
    RawBackend raw = closer.add(new RawBackend(s -> {
      s.getOutputStream().write("HTTP/1.1 abc nonsense\r\n\r\n".getBytes(ISO_8859_1));
    }));
    Gateway.Running gw = gateway(raw.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.bodyText()).contains("no valid response");
    }
    lastGateway.awaitHandled(1);
    assertThat(timerCount("502", "bad_response")).isEqualTo(1);
  }

  @Test
  void backendResetMidBodyAbortsTheClientConnection() throws Exception {
    RawBackend raw = closer.add(new RawBackend(s -> {
      OutputStream out = s.getOutputStream();
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".getBytes(ISO_8859_1));
      out.write(new byte[1000]);
      out.flush();
      s.setSoLinger(true, 0); // RST
    }));
    Gateway.Running gw = gateway(raw.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.complete()).as("a truncated body must not end cleanly").isFalse();
      assertThat(response.body().length).isLessThan(100000);
    }
    lastGateway.awaitHandled(1);
    assertThat(timerCount("200", "reset")).isEqualTo(1);
    assertThat(BackendLoad.of(backend).inFlight()).isZero();
  }

  @Test
  void backendCloseMidChunkedBodyNeverEndsTheChunkedResponse() throws Exception {
    RawBackend raw = closer.add(new RawBackend(s -> {
      OutputStream out = s.getOutputStream();
      out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
          .getBytes(ISO_8859_1));
      out.flush();
    }));
    Gateway.Running gw = gateway(raw.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.complete()).isFalse();
    }
  }

  @Test
  void backendRedirectIsPassedThroughUnchanged() throws Exception {
    Loopback.Backend b = backend();
    b.responder = ex -> {
      ex.getResponseHeaders().add("Location", "http://elsewhere.example/login?next=%2Fa");
      Loopback.respond(ex, 302, "moved".getBytes(UTF_8));
    };
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.status()).isEqualTo(302);
      assertThat(response.header("Location")).isEqualTo("http://elsewhere.example/login?next=%2Fa");
      assertThat(response.bodyText()).isEqualTo("moved");
    }
    assertThat(b.received).hasSize(1);
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    }
    return out.toByteArray();
  }

  @Test
  void gzipBodyIsRelayedByteForByteWithItsEncoding() throws Exception {
    byte[] gzipped = gzip("hello hello hello hello".repeat(50).getBytes(UTF_8));
    Loopback.Backend b = backend();
    b.responder = ex -> {
      ex.getResponseHeaders().add("Content-Encoding", "gzip");
      Loopback.respond(ex, 200, gzipped);
    };
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response asked = client.send(get("/api/x", "Accept-Encoding: gzip, br")).read();
      assertThat(asked.header("Content-Encoding")).isEqualTo("gzip");
      assertThat(asked.header("Content-Length")).isEqualTo(Integer.toString(gzipped.length));
      assertThat(asked.body()).isEqualTo(gzipped);
      Response unasked = client.send(get("/api/x")).read();
      assertThat(unasked.header("Content-Encoding")).isEqualTo("gzip");
      assertThat(unasked.body()).isEqualTo(gzipped);
    }
    assertThat(b.take().header("Accept-Encoding")).isEqualTo("gzip, br");
    assertThat(b.take().header("Accept-Encoding")).as("OkHttp must not add gzip").isNull();
  }

  @Test
  void headRelaysTheLengthWithoutABody() throws Exception {
    Loopback.Backend b = backend();
    b.responder = ex -> {
      try {
        ex.getResponseHeaders().add("Content-Length", "1234");
        ex.sendResponseHeaders(200, -1);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response head = client.send("HEAD /api/x HTTP/1.1\r\nHost: gw\r\n\r\n").read(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("Content-Length")).isEqualTo("1234");
      // the connection is still in step: no stray body bytes precede the next response
      b.responder = ex -> Loopback.respond(ex, 200, "next".getBytes(UTF_8));
      assertThat(client.send(get("/api/y")).read().bodyText()).isEqualTo("next");
    }
    assertThat(b.take().method()).isEqualTo("HEAD");
  }

  @Test
  void noContentAndNotModifiedHaveNoBody() throws Exception {
    Loopback.Backend b = backend();
    b.responder = ex -> {
      int status = ex.getRequestURI().getPath().endsWith("204") ? 204 : 304;
      try {
        ex.getResponseHeaders().add("ETag", "\"v1\"");
        ex.sendResponseHeaders(status, -1);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response noContent = client.send(get("/api/204")).read();
      assertThat(noContent.status()).isEqualTo(204);
      assertThat(noContent.header("Transfer-Encoding")).isNull();
      Response notModified = client.send(get("/api/304", "If-None-Match: \"v1\"")).read();
      assertThat(notModified.status()).isEqualTo(304);
      assertThat(notModified.header("ETag")).isEqualTo("\"v1\"");
      assertThat(notModified.header("Transfer-Encoding")).isNull();
      b.responder = ex -> Loopback.respond(ex, 200, "next".getBytes(UTF_8));
      assertThat(client.send(get("/api/y")).read().bodyText()).isEqualTo("next");
    }
  }

  @Test
  void expectContinueGetsA100AndTheBodyReachesTheBackend() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      client.send("PUT /api/x HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\n"
          + "Content-Length: 4\r\n\r\n");
      Response interim = client.read();
      assertThat(interim.status()).isEqualTo(100);
      Response response = client.send("data").read();
      assertThat(response.status()).isEqualTo(200);
    }
    Received r = b.take();
    assertThat(new String(r.body(), UTF_8)).isEqualTo("data");
    assertThat(r.header("Expect")).as("answered by the gateway, not forwarded").isNull();
  }

  @Test
  void interimResponsesFromTheBackendAreConsumedAndTheFinalOneRelayed() throws Exception {
    RawBackend raw = closer.add(new RawBackend(s -> {
      s.getOutputStream().write(("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
          + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody").getBytes(ISO_8859_1));
      s.getOutputStream().flush();
    }));
    Gateway.Running gw = gateway(raw.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("body");
    }
  }

  @Test
  void trailersAreDroppedAndTheBodyEndsCleanly() throws Exception {
    RawBackend raw = closer.add(new RawBackend(s -> {
      s.getOutputStream().write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
          + "Trailer: X-Checksum\r\n\r\n4\r\nbody\r\n0\r\nX-Checksum: abc\r\n\r\n")
          .getBytes(ISO_8859_1));
      s.getOutputStream().flush();
    }));
    Gateway.Running gw = gateway(raw.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.complete()).isTrue();
      assertThat(response.bodyText()).isEqualTo("body");
      assertThat(response.header("Trailer")).isNull();
    }
  }

  @Test
  void oversizedContentLengthIs413BeforeTheBackendIsContacted() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(Backend.of("b", b.uri()), x -> x.forwarding(f -> f.maxRequestBodyBytes(1024)));
    try (RawClient client = new RawClient(gw.port())) {
      client.send("POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5000\r\n\r\n");
      client.send(new byte[5000]);
      Response response = client.read();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(client.closedByServer()).isTrue();
    }
    lastGateway.awaitHandled(1);
    assertThat(b.received).as("the backend was not contacted").isEmpty();
    assertThat(BackendLoad.of(backend).inFlight()).isZero();
    assertThat(timerCount("413", "body_too_large")).isEqualTo(1);
  }

  @Test
  void a413NeverWaitsForTheRefusedBodyAndClosesTheConnectionAtOnce() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(Backend.of("b", b.uri()), x -> x.forwarding(f -> f.maxRequestBodyBytes(1024)));
    try (RawClient client = new RawClient(gw.port())) {
      // 100 of the 5000 body bytes announced, and the client holds back the rest
      client.send("POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5000\r\n\r\n")
          .send(new byte[100]);
      Response response = client.read();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.header("Connection")).isEqualTo("close");
      // with the client still connected: the server's thread is free, the connection closed
      lastGateway.awaitHandled(1);
      assertThat(client.closedByServer()).isTrue();
    }
    assertThat(b.received).isEmpty();
  }

  @Test
  void oversizedContentLengthWithExpectContinueIs413AndTheBodyIsNeverForwarded()
      throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(Backend.of("b", b.uri()), x -> x.forwarding(f -> f.maxRequestBodyBytes(1024)));
    try (RawClient client = new RawClient(gw.port())) {
      client.send("POST /api/x HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\n"
          + "Content-Length: 5000\r\n\r\n");
      Response response = client.read();
      if (server == Gateway.JDK) {
        // The JDK server answers 100 itself before any handler runs, so the client sends its
        // body; the adapter closes the connection after the 413 without waiting for it.
        assertThat(response.status()).isEqualTo(100);
        response = client.read();
      }
      // Jetty sends 100 only when the body is first read: the client is spared sending it
      assertThat(response.status()).isEqualTo(413);
      assertThat(client.closedByServer()).isTrue();
    }
    lastGateway.awaitHandled(1);
    assertThat(b.received).as("the backend was not contacted").isEmpty();
  }

  @Test
  void aGetWithABodyIsRefusedAndWhatFollowsIsNeverReadAsARequest() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("GET /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\n"
          + "\r\nabcGET /api/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
      assertThat(client.closedByServer()).isTrue();
    }
    lastGateway.awaitHandled(1);
    assertThat(b.received).as("neither the GET nor the pipelined one was forwarded").isEmpty();
    assertThat(timerCount("400", "bad_request")).isEqualTo(1);
  }

  @Test
  void aMalformedChunkedBodyIs400AndWhatFollowsIsNeverReadAsARequest() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("POST /api/x HTTP/1.1\r\nHost: gw\r\n"
          + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
          + "GET /api/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
      assertThat(response.bodyText()).contains("request body").doesNotContain("Exception");
      assertThat(client.closedByServer()).isTrue();
    }
    lastGateway.awaitHandled(1);
    assertThat(b.received).as("neither the POST nor the pipelined GET was forwarded").isEmpty();
    assertThat(timerCount("400", "bad_request")).isEqualTo(1);
    assertThat(BackendLoad.of(backend).inFlight()).isZero();
  }

  @Test
  void oversizedChunkedBodyIs413AndTheConnectionCloses() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(Backend.of("b", b.uri()), x -> x.forwarding(f -> f.maxRequestBodyBytes(64 * 1024)));
    try (RawClient client = new RawClient(gw.port())) {
      client.send("POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n");
      byte[] chunk = new byte[16 * 1024];
      for (int i = 0; i < 8; i++) {
        client.send(Integer.toHexString(chunk.length) + "\r\n").send(chunk).send("\r\n");
      }
      client.send("0\r\n\r\n");
      Response response = client.read();
      assertThat(response.status()).isEqualTo(413);
      assertThat(client.closedByServer()).isTrue();
    }
    lastGateway.awaitHandled(1);
    assertThat(BackendLoad.of(backend).inFlight()).isZero();
  }

  @Test
  void streamsAChunkedUploadToTheBackendIntact() throws Exception {
    Loopback.Backend b = backend();
    Gateway.Running gw = gateway(b.uri());
    byte[] data = new byte[3 * 1024 * 1024 + 17];
    new Random(42).nextBytes(data);
    try (RawClient client = new RawClient(gw.port())) {
      client.send("POST /api/upload HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n"
          + "Content-Type: application/octet-stream\r\n\r\n");
      for (int off = 0; off < data.length; off += 100_000) {
        int n = Math.min(100_000, data.length - off);
        client.send(Integer.toHexString(n) + "\r\n");
        client.out.write(data, off, n);
        client.send("\r\n");
      }
      client.send("0\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(200);
    }
    Received r = b.take();
    assertThat(r.body()).isEqualTo(data);
    assertThat(r.header("Content-Type")).isEqualTo("application/octet-stream");
  }

  @Test
  void aServerErrorFromTheBackendIsRelayedAndCountedAsAFailure() throws Exception {
    Loopback.Backend b = backend();
    b.responder = ex -> Loopback.respond(ex, 503, "busy".getBytes(UTF_8));
    AtomicReference<dev.offload.core.Outcome> outcome = new AtomicReference<>();
    Backend target = Backend.of("b", b.uri());
    this.backend = target;
    OffloadRouter router = OffloadRouter.builder()
        .route(Route.prefix("/api/"), (FailoverStrategy) (request, context) -> new Decision.Forward(
            target, target.instances().get(0), dev.offload.core.DecisionHandle.create(
                context.ticker(), c -> outcome.set(c.outcome()))))
        .build();
    Gateway.Running gw = closer.add(server.start(OffloadExecutor.of(router), Gateway.Host.answering("host")));
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x")).read();
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.bodyText()).isEqualTo("busy");
    }
    gw.awaitHandled(1);
    assertThat(outcome.get()).isEqualTo(dev.offload.core.Outcome.FAILURE);
  }

  @Test
  void relaysALargeBinaryDownloadIntactAndCompletesWithItsByteCount() throws Exception {
    byte[] data = new byte[3 * 1024 * 1024 + 17]; // hundreds of OkHttp's 8 KiB segments
    new Random(7).nextBytes(data);
    Loopback.Backend b = backend();
    b.responder = ex -> Loopback.respond(ex, 200, data);
    AtomicReference<dev.offload.core.Completion> completion = new AtomicReference<>();
    Backend target = Backend.of("b", b.uri());
    this.backend = target;
    OffloadRouter router = OffloadRouter.builder()
        .route(Route.prefix("/api/"), (FailoverStrategy) (request, context) -> new Decision.Forward(
            target, target.instances().get(0), dev.offload.core.DecisionHandle.create(
                context.ticker(), completion::set)))
        .build();
    Gateway.Running gw = closer.add(server.start(OffloadExecutor.of(router), Gateway.Host.answering("host")));
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/file")).read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.complete()).isTrue();
      assertThat(response.body()).isEqualTo(data);
    }
    gw.awaitHandled(1);
    assertThat(completion.get().outcome()).isEqualTo(dev.offload.core.Outcome.SUCCESS);
    assertThat(completion.get().bytes()).isEqualTo(data.length);
  }
}
