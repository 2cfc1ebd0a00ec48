package dev.offload.http.servlet;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Headers;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The translation of a servlet request and response into a {@link ServletExchange}, checked
 * inside a real Jetty 12 with real clients: what the exchange reports is what was on the wire,
 * and what is written through it is what reaches the wire.
 */
class ServletExchangeTest {
  private static final long TIMEOUT_SECONDS = 10;

  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private TestJetty jetty;

  @AfterEach
  void stop() throws Exception {
    if (jetty != null) {
      jetty.close();
    }
  }

  private void serve(ExchangeServlet.Script script) throws Exception {
    serve(script, false);
  }

  private void serve(ExchangeServlet.Script script, boolean forwarded) throws Exception {
    jetty = TestJetty.start(
        context -> context.addServlet(new ServletHolder(new ExchangeServlet(script)), "/*"),
        forwarded);
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  @Test
  void reportsTheMethodAndTheRawPercentEncodedTargetWithItsQuery() throws Exception {
    CompletableFuture<String> method = new CompletableFuture<>();
    CompletableFuture<String> target = new CompletableFuture<>();
    serve(exchange -> {
      method.complete(exchange.method());
      target.complete(exchange.requestTarget());
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("PURGE /a%20b/caf%C3%A9/x%3Fy?q=%2F%20x&r=1+2&e=%26 HTTP/1.1\r\n"
          + "Host: example.test\r\nContent-Length: 0\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(200);
    }

    assertThat(await(method)).isEqualTo("PURGE");
    assertThat(await(target)).isEqualTo("/a%20b/caf%C3%A9/x%3Fy?q=%2F%20x&r=1+2&e=%26");
  }

  @Test
  void reportsATargetWithoutQueryWithoutAQuestionMark() throws Exception {
    CompletableFuture<String> target = new CompletableFuture<>();
    serve(exchange -> target.complete(exchange.requestTarget()));

    HttpResponse<Void> response = client.send(
        HttpRequest.newBuilder(jetty.uri("/plain/path%2Ex")).build(),
        HttpResponse.BodyHandlers.discarding());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(await(target)).isEqualTo("/plain/path%2Ex");
  }

  @Test
  void reportsEveryHeaderFieldWithRepeatedNamesKeptInOrder() throws Exception {
    CompletableFuture<Headers> headers = new CompletableFuture<>();
    serve(exchange -> headers.complete(exchange.requestHeaders()));

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\n"
          + "Host: example.test\r\n"
          + "X-Multi: first\r\n"
          + "Accept: text/css\r\n"
          + "x-multi: second, still second\r\n"
          + "X-Multi: third\r\n"
          + "X-Empty:\r\n"
          + "Cookie: a=1\r\n"
          + "Cookie: b=2\r\n"
          + "\r\n");
      assertThat(raw.read().status()).isEqualTo(200);
    }

    Headers h = await(headers);
    assertThat(h.all("X-Multi")).containsExactly("first", "second, still second", "third");
    assertThat(h.all("Cookie")).containsExactly("a=1", "b=2");
    assertThat(h.all("Accept")).containsExactly("text/css");
    assertThat(h.all("X-Empty")).containsExactly("");
    assertThat(h.all("Host")).containsExactly("example.test");
    assertThat(h.size()).isEqualTo(8);
  }

  @Test
  void reportsTheSocketPeerAsTheRemoteAddressWithoutAnyDnsLookup() throws Exception {
    CompletableFuture<InetSocketAddress> remote = new CompletableFuture<>();
    serve(exchange -> remote.complete(exchange.remoteAddress()));

    InetSocketAddress local;
    try (RawClient raw = new RawClient(jetty.port())) {
      local = (InetSocketAddress) raw.socket().getLocalSocketAddress();
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(200);
    }

    InetSocketAddress address = await(remote);
    assertThat(address.isUnresolved()).isFalse();
    assertThat(address.getAddress()).isEqualTo(InetAddress.getByName("127.0.0.1"));
    assertThat(address.getPort()).isEqualTo(local.getPort());
    // built from the literal: the host string is the literal itself, no reverse lookup made
    assertThat(address.getHostString()).isEqualTo("127.0.0.1");
  }

  @Test
  void buildsPeerAddressesFromLiteralsOnly() throws Exception {
    InetSocketAddress v6 = ServletExchange.socketAddress("[::1]", 443);
    assertThat(v6.getAddress()).isEqualTo(InetAddress.getByName("::1"));
    assertThat(v6.getPort()).isEqualTo(443);

    InetSocketAddress v6Plain = ServletExchange.socketAddress("0:0:0:0:0:0:0:1", 8080);
    assertThat(v6Plain.getAddress()).isEqualTo(InetAddress.getByName("::1"));

    InetSocketAddress unknownPort = ServletExchange.socketAddress("10.1.2.3", -1);
    assertThat(unknownPort.getAddress()).isEqualTo(InetAddress.getByName("10.1.2.3"));
    assertThat(unknownPort.getPort()).isZero();

    InetSocketAddress notAnIp = ServletExchange.socketAddress("localhost", 80);
    assertThat(notAnIp.isUnresolved()).isTrue();
    assertThat(notAnIp.getHostString()).isEqualTo("localhost");
  }

  @Test
  void reportsWhetherTheContainerConsidersTheRequestSecure() throws Exception {
    CompletableFuture<Boolean> plain = new CompletableFuture<>();
    serve(exchange -> plain.complete(exchange.isSecure()));
    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(200);
    }
    assertThat(await(plain)).isFalse();
    jetty.close();

    // behind a TLS-terminating proxy that the host trusts, the container says https
    CompletableFuture<Boolean> proxied = new CompletableFuture<>();
    serve(exchange -> proxied.complete(exchange.isSecure()), true);
    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\nX-Forwarded-Proto: https\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(200);
    }
    assertThat(await(proxied)).isTrue();
  }

  @Test
  void streamsTheRequestBodyAsItArrivesWithoutWaitingForTheEnd() throws Exception {
    CountDownLatch firstPartRead = new CountDownLatch(1);
    CompletableFuture<String> firstPart = new CompletableFuture<>();
    CompletableFuture<String> rest = new CompletableFuture<>();
    serve(exchange -> {
      InputStream body = exchange.requestBody();
      firstPart.complete(new String(body.readNBytes(5), UTF_8));
      firstPartRead.countDown();
      rest.complete(new String(body.readAllBytes(), UTF_8));
      exchange.startResponse(204, Headers.empty(), 0);
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("POST /upload HTTP/1.1\r\nHost: example.test\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      // the servlet has the first chunk while the client still holds back the rest
      assertThat(firstPartRead.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      assertThat(rest).isNotDone();
      raw.send("6\r\n world\r\n0\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(204);
    }

    assertThat(await(firstPart)).isEqualTo("hello");
    assertThat(await(rest)).isEqualTo(" world");
  }

  @Test
  void startResponseWithAnExactLengthSendsThatLengthAndEveryRepeatedHeader() throws Exception {
    serve(exchange -> {
      exchange.startResponse(201,
          Headers.of(
              "Set-Cookie", "a=1; Path=/",
              "X-Trace", "t1",
              "Set-Cookie", "b=2; Path=/",
              "Content-Type", "text/plain",
              "Cache-Control", "max-age=60"),
          5);
      try (OutputStream out = exchange.responseBody()) {
        out.write("hello".getBytes(UTF_8));
      }
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response response = raw.read();
      assertThat(response.status()).isEqualTo(201);
      assertThat(response.headers("Content-Length")).containsExactly("5");
      assertThat(response.headers("Transfer-Encoding")).isEmpty();
      assertThat(response.headers("Set-Cookie")).containsExactly("a=1; Path=/", "b=2; Path=/");
      assertThat(response.headers("X-Trace")).containsExactly("t1");
      assertThat(response.headers("Content-Type")).containsExactly("text/plain");
      assertThat(response.headers("Cache-Control")).containsExactly("max-age=60");
      assertThat(response.bodyText()).isEqualTo("hello");
      assertThat(response.complete()).isTrue();
    }
  }

  @Test
  void startResponseReplacesTheContainersOwnDateAndServerHeadersInsteadOfDuplicating()
      throws Exception {
    serve(exchange -> {
      exchange.startResponse(200,
          Headers.of("Date", "Sun, 06 Nov 1994 08:49:37 GMT", "Server", "backend/1.0"), 0);
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response response = raw.read();
      assertThat(response.headers("Date")).containsExactly("Sun, 06 Nov 1994 08:49:37 GMT");
      assertThat(response.headers("Server")).containsExactly("backend/1.0");
    }
  }

  @Test
  void startResponseWithUnknownLengthStreamsTheBodyChunkedAsItIsWritten() throws Exception {
    CountDownLatch clientReadFirstChunk = new CountDownLatch(1);
    serve(exchange -> {
      exchange.startResponse(200, Headers.of("Content-Type", "text/plain"), -1);
      OutputStream out = exchange.responseBody();
      out.write("first;".getBytes(UTF_8));
      out.flush();
      if (!clientReadFirstChunk.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new AssertionError("the client never saw the first chunk");
      }
      out.write("second".getBytes(UTF_8));
      out.close();
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response head = raw.readHead();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers("Transfer-Encoding")).containsExactly("chunked");
      assertThat(head.headers("Content-Length")).isEmpty();
      // the first chunk is on the wire before the servlet writes the second one (Jetty sends
      // the CRLF that ends a chunk together with the next chunk's size line)
      assertThat(new String(raw.readExactly("6\r\nfirst;".length()), UTF_8))
          .isEqualTo("6\r\nfirst;");
      clientReadFirstChunk.countDown();
      assertThat(new String(raw.readExactly("\r\n6\r\nsecond\r\n0\r\n\r\n".length()), UTF_8))
          .isEqualTo("\r\n6\r\nsecond\r\n0\r\n\r\n");
    }
  }

  @Test
  void startResponseTakesFramingFromContentLengthNotFromTheHeaders() throws Exception {
    serve(exchange -> {
      exchange.startResponse(200,
          Headers.of("Content-Length", "999", "Transfer-Encoding", "gzip, chunked"), 3);
      try (OutputStream out = exchange.responseBody()) {
        out.write("abc".getBytes(UTF_8));
      }
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response response = raw.read();
      assertThat(response.headers("Content-Length")).containsExactly("3");
      assertThat(response.headers("Transfer-Encoding")).isEmpty();
      assertThat(response.bodyText()).isEqualTo("abc");
      assertThat(response.complete()).isTrue();
    }
  }

  @Test
  void headRequestGetsTheDeclaredLengthAndNoBodyBytes() throws Exception {
    serve(exchange -> {
      exchange.startResponse(200, Headers.of("Content-Type", "text/plain"), 5);
      try (OutputStream out = exchange.responseBody()) {
        out.write("hello".getBytes(UTF_8));
      }
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("HEAD / HTTP/1.1\r\nHost: example.test\r\n\r\n"
          + "GET /next HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response head = raw.readHead();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers("Content-Length")).containsExactly("5");
      // no body bytes: the next thing on the connection is the second response
      Loopback.Response next = raw.read();
      assertThat(next.statusLine()).startsWith("HTTP/1.1 200");
      assertThat(next.bodyText()).isEqualTo("hello");
    }
  }

  @Test
  void refusesASecondStartResponseAndABodyBeforeTheStart() throws Exception {
    CompletableFuture<Throwable> bodyFirst = new CompletableFuture<>();
    CompletableFuture<Throwable> secondStart = new CompletableFuture<>();
    serve(exchange -> {
      try {
        exchange.responseBody();
        bodyFirst.complete(null);
      } catch (IllegalStateException e) {
        bodyFirst.complete(e);
      }
      exchange.startResponse(204, Headers.empty(), 0);
      try {
        exchange.startResponse(200, Headers.empty(), 0);
        secondStart.complete(null);
      } catch (IllegalStateException e) {
        secondStart.complete(e);
      }
    });

    HttpResponse<Void> response = client.send(
        HttpRequest.newBuilder(jetty.uri("/")).timeout(Duration.ofSeconds(TIMEOUT_SECONDS)).build(),
        HttpResponse.BodyHandlers.discarding());

    assertThat(response.statusCode()).isEqualTo(204);
    assertThat(await(bodyFirst)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("before startResponse");
    assertThat(await(secondStart)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already called");
  }

  @Test
  void startResponseRejectsBadArguments() throws Exception {
    CompletableFuture<Throwable> badStatus = new CompletableFuture<>();
    CompletableFuture<Throwable> badLength = new CompletableFuture<>();
    serve(exchange -> {
      badStatus.complete(catching(() -> exchange.startResponse(42, Headers.empty(), 0)));
      badLength.complete(catching(() -> exchange.startResponse(200, Headers.empty(), -2)));
    });

    client.send(HttpRequest.newBuilder(jetty.uri("/")).build(),
        HttpResponse.BodyHandlers.discarding());

    assertThat(await(badStatus)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("42");
    assertThat(await(badLength)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-2");
  }

  @Test
  void rejectsNullRequestOrResponse() {
    assertThatThrownBy(() -> new ServletExchange(null, null))
        .isInstanceOf(NullPointerException.class).hasMessage("request");
  }

  private interface Action {
    void run() throws Exception;
  }

  private static Throwable catching(Action action) {
    try {
      action.run();
      return null;
    } catch (Exception e) {
      return e;
    }
  }
}
