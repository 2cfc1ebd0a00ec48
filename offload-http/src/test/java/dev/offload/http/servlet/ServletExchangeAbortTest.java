package dev.offload.http.servlet;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Headers;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ServletExchange#abort()} through {@link OffloadFilter}, in Jetty 12, as a raw-socket
 * client sees it: an aborted response ends with the connection, short of its declared length or
 * without its last chunk, never as a clean end of a truncated body.
 */
class ServletExchangeAbortTest {
  private static final long TIMEOUT_SECONDS = 10;

  private final AtomicInteger hostCalls = new AtomicInteger();
  private TestJetty jetty;

  @AfterEach
  void stop() throws Exception {
    if (jetty != null) {
      jetty.close();
    }
  }

  /** Serves {@code handler} as the filter's executor, in front of a counting host servlet. */
  private void serve(OffloadFilter.ExchangeHandler handler) throws Exception {
    jetty = TestJetty.start(context -> {
      context.addFilter(new FilterHolder(new OffloadFilter(handler)), "/*",
          EnumSet.of(DispatcherType.REQUEST));
      context.addServlet(new ServletHolder(new HttpServlet() {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
          hostCalls.incrementAndGet();
        }
      }), "/*");
    });
  }

  @Test
  void abortAfterPartOfAFixedLengthBodyWasSentEndsTheConnectionShortOfTheLength()
      throws Exception {
    CountDownLatch clientHasTheFirstBytes = new CountDownLatch(1);
    serve((exchange, pass) -> {
      exchange.startResponse(200, Headers.of("Content-Type", "text/plain"), 100);
      OutputStream out = exchange.responseBody();
      out.write("0123456789".getBytes(UTF_8));
      out.flush();
      awaitOrFail(clientHasTheFirstBytes);
      exchange.abort();
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET /big HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response head = raw.readHead();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("Content-Length")).isEqualTo("100");
      assertThat(new String(raw.readExactly(10), UTF_8)).isEqualTo("0123456789");
      clientHasTheFirstBytes.countDown();

      assertThat(raw.socket().getInputStream().read()).isEqualTo(-1);
    }
    assertThat(hostCalls).hasValue(0);
  }

  @Test
  void abortDuringAChunkedBodyEndsTheConnectionWithoutTheLastChunk() throws Exception {
    CountDownLatch clientHasTheFirstChunk = new CountDownLatch(1);
    serve((exchange, pass) -> {
      exchange.startResponse(200, Headers.of("Content-Type", "text/plain"), -1);
      OutputStream out = exchange.responseBody();
      out.write("partial".getBytes(UTF_8));
      out.flush();
      awaitOrFail(clientHasTheFirstChunk);
      exchange.abort();
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      // keep-alive on purpose: with Connection: close the body would be close-delimited and an
      // abort could not be told from the end; a clean chunked end would leave the connection
      // open and the read below would time out
      raw.send("GET /stream HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response head = raw.readHead();
      assertThat(head.header("Transfer-Encoding")).isEqualTo("chunked");
      assertThat(new String(raw.readExactly("7\r\npartial".length()), UTF_8))
          .isEqualTo("7\r\npartial");
      clientHasTheFirstChunk.countDown();

      // whatever comes after the chunk data, the connection ends before a last chunk
      byte[] rest = raw.socket().getInputStream().readAllBytes();
      assertThat(new String(rest, UTF_8)).doesNotContain("0\r\n\r\n");
    }
  }

  @Test
  void abortWhileTheStartedResponseIsStillBufferedSendsTheHeadThenEndsTheConnection()
      throws Exception {
    serve((exchange, pass) -> {
      exchange.startResponse(200, Headers.of("X-Started", "yes"), 100);
      exchange.responseBody().write("buffered, never flushed".getBytes(UTF_8));
      exchange.abort();
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response response = raw.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("X-Started")).isEqualTo("yes");
      assertThat(response.header("Content-Length")).isEqualTo("100");
      assertThat(response.body()).isEmpty();
      assertThat(response.complete()).isFalse();
    }
  }

  @Test
  void abortBeforeAnyResponseLetsTheContainerAnswer500() throws Exception {
    serve((exchange, pass) -> {
      exchange.abort();
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response response = raw.read();
      assertThat(response.status()).isEqualTo(500);
      assertThat(response.complete()).isTrue();
    }
    assertThat(hostCalls).hasValue(0);
  }

  @Test
  void abortWinsOverAPassThroughAndTheHostIsNotCalled() throws Exception {
    serve((exchange, pass) -> {
      exchange.abort();
      pass.run(Headers.empty());
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(500);
    }
    assertThat(hostCalls).hasValue(0);
  }

  @Test
  void afterAbortWritesFailAndClosingDoesNotEndTheBody() throws Exception {
    CompletableFuture<Throwable> writeAfterAbort = new CompletableFuture<>();
    CountDownLatch clientHasTheFirstChunk = new CountDownLatch(1);
    serve((exchange, pass) -> {
      exchange.startResponse(200, Headers.empty(), -1);
      OutputStream out = exchange.responseBody();
      out.write("partial".getBytes(UTF_8));
      out.flush();
      awaitOrFail(clientHasTheFirstChunk);
      exchange.abort();
      try {
        out.write("more".getBytes(UTF_8));
        writeAfterAbort.complete(null);
      } catch (IOException e) {
        writeAfterAbort.complete(e);
      }
      out.close(); // as a try-with-resources in the executor would: must not end the body
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      raw.readHead();
      assertThat(new String(raw.readExactly("7\r\npartial".length()), UTF_8))
          .isEqualTo("7\r\npartial");
      clientHasTheFirstChunk.countDown();
      byte[] rest = raw.socket().getInputStream().readAllBytes();
      assertThat(new String(rest, UTF_8)).doesNotContain("more").doesNotContain("0\r\n\r\n");
    }
    assertThat(writeAfterAbort.get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOf(IOException.class).hasMessageContaining("aborted");
  }

  @Test
  void anExecutorFailureAfterTheBodyStartedAlsoEndsTheConnectionWithoutTheLastChunk()
      throws Exception {
    CountDownLatch clientHasTheFirstChunk = new CountDownLatch(1);
    serve((exchange, pass) -> {
      exchange.startResponse(200, Headers.empty(), -1);
      OutputStream out = exchange.responseBody();
      out.write("partial".getBytes(UTF_8));
      out.flush();
      awaitOrFail(clientHasTheFirstChunk);
      throw new IOException("backend reset the connection");
    });

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
      raw.readHead();
      assertThat(new String(raw.readExactly("7\r\npartial".length()), UTF_8))
          .isEqualTo("7\r\npartial");
      clientHasTheFirstChunk.countDown();
      byte[] rest = raw.socket().getInputStream().readAllBytes();
      assertThat(new String(rest, UTF_8)).doesNotContain("0\r\n\r\n");
    }
  }

  private static void awaitOrFail(CountDownLatch latch) throws IOException {
    try {
      if (!latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IOException("the client did not read the first bytes in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }
}
