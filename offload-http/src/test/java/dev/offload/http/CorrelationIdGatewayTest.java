package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Received;
import dev.offload.http.Loopback.Response;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ArgumentsSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Correlation ids through a real gateway on both servers: raw requests from 127.0.0.1 (trusted
 * or not, as each test configures), a backend that records what it received.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class CorrelationIdGatewayTest {
  private static final String GENERATED = "[0-9a-f]{32}";
  private static final String PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();

  private Gateway.Running gateway(URI backend, UnaryOperator<OffloadExecutor.Builder> config)
      throws Exception {
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("b", backend)))
        .route("assets", Route.prefix("/assets/"),
            CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
        .route("deny", Route.prefix("/deny/"), (request, context) -> Decision.reject(403, "no"))
        .build();
    return closer.add(server.start(
        config.apply(OffloadExecutor.builder(router).correlationIds(CorrelationIds.standard()))
            .build(),
        Gateway.Host.answering("host")));
  }

  private static String get(String target, List<String> headerLines) {
    StringBuilder sb = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: gw.example\r\n");
    for (String line : headerLines) {
      sb.append(line).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }

  private Received forwarded(UnaryOperator<OffloadExecutor.Builder> config,
      List<String> headerLines, String[] answeredId) throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), config);
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/orders", headerLines)).read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.headers("X-Request-Id")).hasSize(1);
      answeredId[0] = response.header("X-Request-Id");
    }
    return b.take();
  }

  @Test
  void untrustedClientsIdsAreReplacedByOneTheBackendAndTheClientBothSee() throws Exception {
    String[] answered = new String[1];
    Received r = forwarded(x -> x, List.of("X-Request-Id: chosen-by-client",
        "traceparent: " + PARENT, "tracestate: vendor=forged"), answered);
    String id = r.header("X-Request-Id");
    assertThat(id).matches(GENERATED).isEqualTo(answered[0]);
    assertThat(r.headers().get("traceparent")).singleElement().asString()
        .startsWith("00-" + id + "-").endsWith("-00").isNotEqualTo(PARENT);
    assertThat(r.headers()).doesNotContainKey("tracestate");
  }

  @Test
  void trustedProxysIdsAndTraceContextReachTheBackendUnchanged() throws Exception {
    String[] answered = new String[1];
    Received r = forwarded(x -> x.trustedProxies("127.0.0.1"), List.of(
        "X-Request-Id: lb-7f3a:42", "traceparent: " + PARENT, "tracestate: vendor=abc"), answered);
    assertThat(r.headers().get("x-request-id")).containsExactly("lb-7f3a:42");
    assertThat(r.headers().get("traceparent")).containsExactly(PARENT);
    assertThat(r.headers().get("tracestate")).containsExactly("vendor=abc");
    assertThat(answered[0]).isEqualTo("lb-7f3a:42");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "X-Request-Id: has space",
      "X-Request-Id: quote\"d",
      "X-Request-Id: semi;colon",
      "X-Request-Id: <script>",
      "X-Request-Id: caf\u00c3\u00a9",
      "X-Request-Id: a,b",
      "X-Request-Id: 129"})
  void hostileRequestIdsFromATrustedProxyAreReplaced(String line) throws Exception {
    String sent = line.equals("X-Request-Id: 129") ? "X-Request-Id: " + "a".repeat(129) : line;
    String[] answered = new String[1];
    Received r = forwarded(x -> x.trustedProxies("127.0.0.1"), List.of(sent), answered);
    assertThat(r.headers().get("x-request-id")).singleElement().asString().matches(GENERATED);
    assertThat(answered[0]).isEqualTo(r.header("X-Request-Id"));
  }

  @Test
  void aRepeatedRequestIdFromATrustedProxyIsReplaced() throws Exception {
    String[] answered = new String[1];
    Received r = forwarded(x -> x.trustedProxies("127.0.0.1"),
        List.of("X-Request-Id: one", "X-Request-Id: two"), answered);
    assertThat(r.headers().get("x-request-id")).singleElement().asString().matches(GENERATED);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01", // upper case
      "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // version ff
      "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", // another version
      "00-00000000000000000000000000000000-b7ad6b7169203331-01", // zero trace-id
      "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // zero parent-id
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"}) // no flags
  void invalidTraceparentsFromATrustedProxyAreReplacedWithTheirTracestate(String value)
      throws Exception {
    String[] answered = new String[1];
    Received r = forwarded(x -> x.trustedProxies("127.0.0.1"),
        List.of("X-Request-Id: kept", "traceparent: " + value, "tracestate: v=1"), answered);
    assertThat(r.headers().get("x-request-id")).containsExactly("kept");
    assertThat(r.headers().get("traceparent")).singleElement().asString()
        .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00");
    assertThat(r.headers()).doesNotContainKey("tracestate");
  }

  @Test
  void everyAnswerCarriesItsOwnRequestIdWhateverTheDecision() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), x -> x);
    Set<String> ids = new HashSet<>();
    List<Integer> statuses = new ArrayList<>();
    try (RawClient client = new RawClient(gw.port())) {
      for (String target : List.of("/api/x", "/assets/app.css", "/deny/x", "/home")) {
        Response response = client.send(get(target, List.of("X-Request-Id: forged"))).read();
        statuses.add(response.status());
        assertThat(response.headers("X-Request-Id")).singleElement().asString()
            .matches(GENERATED);
        ids.add(response.header("X-Request-Id"));
        if (target.equals("/home")) {
          assertThat(response.bodyText()).isEqualTo("host");
        }
      }
    }
    try (RawClient client = new RawClient(gw.port())) { // refused before routing
      Response response = client.send("TRACE /api/x HTTP/1.1\r\nHost: gw.example\r\n\r\n"
          .getBytes(UTF_8)).read();
      statuses.add(response.status());
      assertThat(response.header("X-Request-Id")).matches(GENERATED);
      ids.add(response.header("X-Request-Id"));
    }
    assertThat(statuses).containsExactly(200, 302, 403, 200, 405);
    assertThat(ids).hasSize(5);
  }

  @Test
  void switchedOffByDefaultTheHeadersPassAsAnyOther() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("b", b.uri())))
        .build();
    Gateway.Running gw = closer.add(server.start(OffloadExecutor.of(router),
        Gateway.Host.answering("host")));
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(get("/api/x", List.of("X-Request-Id: as-sent"))).read();
      assertThat(response.header("X-Request-Id")).isNull();
    }
    assertThat(b.take().headers().get("x-request-id")).containsExactly("as-sent");
  }
}
