package dev.offload.http.servlet;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Headers;
import dev.offload.core.OffloadRouter;
import dev.offload.http.OffloadExecutor;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link OffloadFilter} in Jetty 12 with a scripted executor: what reaches the host's chain,
 * what does not, and what happens to exceptions. (With the real executor: {@link
 * OffloadFilterEndToEndTest}.)
 */
class OffloadFilterTest {
  private static final long TIMEOUT_SECONDS = 10;

  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(TIMEOUT_SECONDS))
      .build();
  private final AtomicInteger handlerCalls = new AtomicInteger();
  /** What a filter mapped outside ours saw thrown through it. */
  private final CompletableFuture<Throwable> thrownOutside = new CompletableFuture<>();
  private TestJetty jetty;

  @AfterEach
  void stop() throws Exception {
    if (jetty != null) {
      jetty.close();
    }
  }

  private void serve(OffloadFilter.ExchangeHandler handler, HttpServlet host) throws Exception {
    OffloadFilter.ExchangeHandler counting = (exchange, pass) -> {
      handlerCalls.incrementAndGet();
      handler.execute(exchange, pass);
    };
    jetty = TestJetty.start(context -> {
      context.addFilter(new FilterHolder(recordingThrown()), "/*",
          EnumSet.of(DispatcherType.REQUEST));
      context.addFilter(new FilterHolder(new OffloadFilter(counting)), "/*",
          EnumSet.of(DispatcherType.REQUEST, DispatcherType.FORWARD, DispatcherType.ERROR));
      context.addServlet(new ServletHolder(host), "/*");
    });
  }

  private Filter recordingThrown() {
    return (request, response, chain) -> {
      try {
        chain.doFilter(request, response);
      } catch (IOException | ServletException | RuntimeException e) {
        thrownOutside.complete(e);
        throw e;
      }
    };
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.timeout(Duration.ofSeconds(TIMEOUT_SECONDS)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A host servlet that echoes what it got: method, URI, query, a header and the body. */
  private static final class EchoServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    final List<String> seen = new CopyOnWriteArrayList<>();

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      String body = new String(req.getInputStream().readAllBytes(), UTF_8);
      seen.add(req.getMethod() + " " + req.getRequestURI() + "?" + req.getQueryString()
          + " x-multi=" + Collections.list(req.getHeaders("X-Multi")) + " body=" + body);
      resp.setStatus(200);
      resp.setHeader("X-Host", "yes");
      resp.getOutputStream().write(("host saw " + body).getBytes(UTF_8));
    }
  }

  @Test
  void passThroughReachesTheHostServletWithRequestAndBodyUntouched() throws Exception {
    EchoServlet host = new EchoServlet();
    serve((exchange, pass) -> pass.run(Headers.empty()), host);

    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/app/a%20b?q=%2F"))
        .header("X-Multi", "1").header("X-Multi", "2")
        .POST(HttpRequest.BodyPublishers.ofString("payload")));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("X-Host")).hasValue("yes");
    assertThat(response.body()).isEqualTo("host saw payload");
    assertThat(host.seen).containsExactly("POST /app/a%20b?q=%2F x-multi=[1, 2] body=payload");
    assertThat(handlerCalls).hasValue(1);
  }

  @Test
  void anAnsweredExchangeNeverReachesTheHost() throws Exception {
    EchoServlet host = new EchoServlet();
    serve((exchange, pass) -> {
      exchange.startResponse(202, Headers.of("Location", "/status/1"), 8);
      try (OutputStream out = exchange.responseBody()) {
        out.write("accepted".getBytes(UTF_8));
      }
    }, host);

    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/jobs"))
        .POST(HttpRequest.BodyPublishers.ofString("work")));

    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(response.headers().firstValue("Location")).hasValue("/status/1");
    assertThat(response.body()).isEqualTo("accepted");
    assertThat(host.seen).isEmpty();
  }

  @Test
  void anExceptionFromTheHostPropagatesUnchanged() throws Exception {
    IllegalStateException boom = new IllegalStateException("host failed");
    serve((exchange, pass) -> pass.run(Headers.empty()), new HttpServlet() {
      private static final long serialVersionUID = 1L;

      @Override
      protected void service(HttpServletRequest req, HttpServletResponse resp) {
        throw boom;
      }
    });

    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/")));

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(thrownOutside.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isSameAs(boom);
  }

  @Test
  void aCheckedExceptionFromTheHostPropagatesUnchanged() throws Exception {
    ServletException boom = new ServletException("host failed");
    serve((exchange, pass) -> pass.run(Headers.empty()), new HttpServlet() {
      private static final long serialVersionUID = 1L;

      @Override
      protected void service(HttpServletRequest req, HttpServletResponse resp)
          throws ServletException {
        throw boom;
      }
    });

    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/")));

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(thrownOutside.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isSameAs(boom);
  }

  @Test
  void anExceptionFromTheExecutorPropagatesUnchangedAndTheHostIsNotCalled() throws Exception {
    IOException boom = new IOException("executor failed");
    EchoServlet host = new EchoServlet();
    serve((exchange, pass) -> {
      throw boom;
    }, host);

    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/")));

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(thrownOutside.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isSameAs(boom);
    assertThat(host.seen).isEmpty();
  }

  @Test
  void routesOnlyTheInitialRequestDispatchNotAForwardOfIt() throws Exception {
    CompletableFuture<String> forwardedTo = new CompletableFuture<>();
    serve((exchange, pass) -> pass.run(Headers.empty()), new HttpServlet() {
      private static final long serialVersionUID = 1L;

      @Override
      protected void service(HttpServletRequest req, HttpServletResponse resp)
          throws ServletException, IOException {
        if (req.getDispatcherType() == DispatcherType.REQUEST) {
          req.getRequestDispatcher("/inner").forward(req, resp);
        } else {
          forwardedTo.complete(req.getRequestURI());
          resp.sendError(404);
        }
      }
    });

    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/outer")));

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(forwardedTo.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("/inner");
    // mapped for REQUEST, FORWARD and ERROR, yet decided once: the forward goes straight down
    // the chain
    assertThat(handlerCalls).hasValue(1);
  }

  @Test
  void anExecutorThatStartsAResponseAndStillPassesThroughIsRefused() throws Exception {
    EchoServlet host = new EchoServlet();
    serve((exchange, pass) -> {
      exchange.startResponse(200, Headers.empty(), -1);
      pass.run(Headers.empty());
    }, host);

    send(HttpRequest.newBuilder(jetty.uri("/")));

    assertThat(thrownOutside.get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("passed the request through");
    assertThat(host.seen).isEmpty();
  }

  @Test
  void constructorsRejectNull() {
    assertThatThrownBy(() -> new OffloadFilter((OffloadRouter) null))
        .isInstanceOf(NullPointerException.class).hasMessage("router");
    assertThatThrownBy(() -> new OffloadFilter((OffloadExecutor) null))
        .isInstanceOf(NullPointerException.class).hasMessage("executor");
  }
}
