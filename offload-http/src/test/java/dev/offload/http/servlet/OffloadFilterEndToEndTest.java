package dev.offload.http.servlet;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link OffloadFilter} with a real {@link OffloadRouter} and the real executor, in Jetty 12,
 * with a {@link MockWebServer} as the backend: every kind of decision, end to end on loopback.
 */
class OffloadFilterEndToEndTest {
  private static final long TIMEOUT_SECONDS = 10;
  private static final URI CDN = URI.create("https://cdn.example.com");

  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .followRedirects(HttpClient.Redirect.NEVER)
      .connectTimeout(Duration.ofSeconds(TIMEOUT_SECONDS))
      .build();
  private final MockWebServer backend = new MockWebServer();
  /** Every handle the router handed out, to check that each one was completed. */
  private final List<DecisionHandle> handles = new CopyOnWriteArrayList<>();
  /** What the host servlet saw, one line per request. */
  private final List<String> hostSaw = new CopyOnWriteArrayList<>();
  /** What a filter mapped outside ours saw thrown through it. */
  private final CompletableFuture<Throwable> thrownOutside = new CompletableFuture<>();
  /** Released each time the chain through our filter returned or threw. */
  private final Semaphore finished = new Semaphore(0);
  private final RuntimeException hostFailure = new IllegalStateException("host servlet failed");
  private Backend api;
  private TestJetty jetty;

  @BeforeEach
  void start() throws Exception {
    backend.start(InetAddress.getByName("127.0.0.1"), 0);
    api = Backend.of("api", URI.create("http://127.0.0.1:" + backend.getPort()));
    FailoverStrategy forward = FailoverStrategy.to(api);
    OffloadRouter router = OffloadRouter.builder()
        .route("static", Route.get("/static/**"), CdnStrategy.redirectTo(CDN))
        .route("blocked", Route.prefix("/blocked/"), OffloadStrategy.reject(429, "slow down"))
        .route("api", Route.prefix("/api/"), (request, context) -> {
          Decision decision = forward.decide(request, context);
          if (decision instanceof Decision.Holding holding) {
            handles.add(holding.handle());
          }
          return decision;
        })
        .build(); // everything else passes through to the host servlet

    // the same lines as the README's example
    jetty = TestJetty.start(context -> {
      context.addFilter(new FilterHolder(recordingThrown()), "/*",
          EnumSet.of(DispatcherType.REQUEST));
      context.addFilter(new FilterHolder(new OffloadFilter(router)), "/*",
          EnumSet.of(DispatcherType.REQUEST));
      context.addServlet(new ServletHolder(new HostServlet()), "/*");
    });
  }

  @AfterEach
  void stop() throws Exception {
    if (jetty != null) {
      jetty.close();
    }
    backend.close();
  }

  private Filter recordingThrown() {
    return (request, response, chain) -> {
      try {
        chain.doFilter(request, response);
      } catch (IOException | ServletException | RuntimeException e) {
        thrownOutside.complete(e);
        throw e;
      } finally {
        finished.release();
      }
    };
  }

  /**
   * Waits until {@code n} exchanges left the filter chain: the client can see the whole response
   * before the gateway's thread has completed the handle.
   */
  private void awaitFinished(int n) throws InterruptedException {
    assertThat(finished.tryAcquire(n, TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .as("the gateway finished %d exchange(s)", n).isTrue();
  }

  /** The host's own servlet: echoes what it got, and throws under {@code /boom}. */
  private final class HostServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      if (req.getRequestURI().startsWith("/boom")) {
        throw hostFailure;
      }
      String body = new String(req.getInputStream().readAllBytes(), UTF_8);
      hostSaw.add(req.getMethod() + " " + req.getRequestURI() + "?" + req.getQueryString()
          + " x-multi=" + Collections.list(req.getHeaders("X-Multi")) + " body=" + body);
      resp.setHeader("X-Host", "yes");
      resp.getOutputStream().write(("host saw " + body).getBytes(UTF_8));
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.timeout(Duration.ofSeconds(TIMEOUT_SECONDS)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void passThroughReachesTheHostServletWithBodyAndHeadersUntouched() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/app/a%20b?q=%2F"))
        .header("X-Multi", "1").header("X-Multi", "2")
        .POST(HttpRequest.BodyPublishers.ofString("payload")));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("X-Host")).hasValue("yes");
    assertThat(response.body()).isEqualTo("host saw payload");
    assertThat(hostSaw).containsExactly("POST /app/a%20b?q=%2F x-multi=[1, 2] body=payload");
    assertThat(backend.getRequestCount()).isZero();
  }

  @Test
  void aRedirectRouteAnswers302WithTheCdnLocation() throws Exception {
    HttpResponse<String> response =
        send(HttpRequest.newBuilder(jetty.uri("/static/css/app.css?v=3")));

    assertThat(response.statusCode()).isEqualTo(302);
    assertThat(response.headers().firstValue("Location"))
        .hasValue("https://cdn.example.com/static/css/app.css?v=3");
    assertThat(hostSaw).isEmpty();
  }

  @Test
  void aRejectAnswersItsStatusWithAProblemJsonBody() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/blocked/x")));

    assertThat(response.statusCode()).isEqualTo(429);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
    assertThat(response.body()).containsPattern("\"status\"\\s*:\\s*429").contains("slow down");
    assertThat(hostSaw).isEmpty();
  }

  @Test
  void aForwardRouteReachesTheBackendAndRelaysItsStatusHeadersAndBody() throws Exception {
    backend.enqueue(new MockResponse.Builder()
        .code(201)
        .addHeader("X-Backend", "orders-1")
        .body("created by backend")
        .build());

    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/api/items?x=%2F"))
        .header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("new item")));

    assertThat(response.statusCode()).isEqualTo(201);
    assertThat(response.headers().firstValue("X-Backend")).hasValue("orders-1");
    assertThat(response.body()).isEqualTo("created by backend");
    RecordedRequest received = backend.takeRequest(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(received).isNotNull();
    assertThat(received.getMethod()).isEqualTo("POST");
    assertThat(received.getTarget()).isEqualTo("/api/items?x=%2F");
    assertThat(received.getBody().utf8()).isEqualTo("new item");
    assertThat(hostSaw).isEmpty();
    awaitFinished(1);
    assertThat(handles).hasSize(1).allMatch(DecisionHandle::isCompleted);
    assertThat(BackendLoad.of(api).inFlight()).isZero();
  }

  @Test
  void aBackendFailingMidBodyNeverLooksLikeACompleteResponse() throws Exception {
    backend.enqueue(new MockResponse.Builder()
        .body("x".repeat(64 * 1024))
        .onResponseBody(new SocketEffect.CloseSocket())
        .build());

    try (RawClient raw = new RawClient(jetty.port())) {
      raw.send("GET /api/big HTTP/1.1\r\nHost: example.test\r\n\r\n");
      Loopback.Response response = raw.read();
      // either the failure came before anything was relayed (an error answer), or the client's
      // connection ends short of the body's framing: never a clean end of a truncated body
      if (response.status() == 200) {
        assertThat(response.complete()).isFalse();
        assertThat(response.body().length).isLessThan(64 * 1024);
      } else {
        assertThat(response.status()).isEqualTo(502);
      }
    }
    awaitFinished(1);
    assertThat(handles).hasSize(1).allMatch(DecisionHandle::isCompleted);
    assertThat(BackendLoad.of(api).inFlight()).isZero();
  }

  @Test
  void aThrowingHostServletPropagatesAs500AndLeavesNoHandleOpen() throws Exception {
    backend.enqueue(new MockResponse.Builder().code(200).body("ok").build());
    assertThat(send(HttpRequest.newBuilder(jetty.uri("/api/warmup"))).statusCode())
        .isEqualTo(200);

    HttpResponse<String> response = send(HttpRequest.newBuilder(jetty.uri("/boom")));

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(thrownOutside.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isSameAs(hostFailure);
    awaitFinished(2);
    assertThat(handles).hasSize(1).allMatch(DecisionHandle::isCompleted);
    assertThat(BackendLoad.of(api).inFlight()).isZero();
  }
}
