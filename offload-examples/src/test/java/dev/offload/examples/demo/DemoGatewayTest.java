package dev.offload.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Outcome;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.InstanceLoad;
import dev.offload.core.testing.FakeTicker;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every row of the demo's route table, over real HTTP on loopback, on free ports. */
class DemoGatewayTest {
  private static final String KEY = DemoGateway.API_KEY;

  private final FakeTicker ticker = new FakeTicker();
  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .followRedirects(HttpClient.Redirect.NEVER)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private DemoGateway demo;

  @BeforeEach
  void start() throws IOException {
    demo = DemoGateway.start(DemoGateway.Options.defaults()
        .withPorts(DemoGateway.Ports.ephemeral())
        .withOrders(2, Duration.ZERO)
        .withTicker(ticker));
  }

  @AfterEach
  void stop() {
    demo.close();
  }

  @Test
  void assetsRedirectToTheFingerprintedCopyOnTheDemoCdnWhichServesItImmutable() throws Exception {
    HttpResponse<String> redirect = get("/assets/app.css?v=2", null);

    String fingerprinted = demo.assetManifest().get("/assets/app.css");
    assertThat(fingerprinted).matches("/assets/app\\.[0-9a-f]{8}\\.css");
    assertThat(redirect.statusCode()).isEqualTo(302);
    assertThat(redirect.headers().firstValue("Location"))
        .hasValue(demo.cdnUri() + fingerprinted + "?v=2");

    HttpResponse<String> css = client.send(HttpRequest.newBuilder(
        URI.create(redirect.headers().firstValue("Location").orElseThrow())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(css.statusCode()).isEqualTo(200);
    assertThat(css.headers().firstValue("Cache-Control"))
        .hasValue("public, max-age=31536000, immutable");
    assertThat(css.body()).contains("font-family");
    assertThat(demo.orders().received()).isZero();
  }

  @Test
  void staticFilesAreFilledOnceFromTheHostThenAnsweredFromTheEdgeCacheWith304OnValidators()
      throws Exception {
    HttpResponse<String> first = get("/static/app.js", null);
    HttpResponse<String> second = get("/static/app.js", null);
    String etag = first.headers().firstValue("ETag").orElseThrow();
    HttpResponse<String> conditional = send(HttpRequest.newBuilder(uri("/static/app.js"))
        .header("If-None-Match", etag));

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("X-Cache-Status")).hasValue("MISS");
    assertThat(second.headers().firstValue("X-Cache-Status")).hasValue("HIT");
    assertThat(second.body()).isEqualTo(first.body()).contains("DOMContentLoaded");
    assertThat(conditional.statusCode()).isEqualTo(304);
    assertThat(conditional.headers().firstValue("ETag")).hasValue(etag);
  }

  @Test
  void theLogoIsARealPngFromTheEdgeCache() throws Exception {
    get("/static/logo.png", null);
    HttpResponse<byte[]> logo = client.send(HttpRequest.newBuilder(uri("/static/logo.png"))
        .build(), HttpResponse.BodyHandlers.ofByteArray());

    assertThat(logo.headers().firstValue("X-Cache-Status")).hasValue("HIT");
    assertThat(logo.headers().firstValue("Content-Type")).hasValue("image/png");
    assertThat(ImageIO.read(new ByteArrayInputStream(logo.body())).getWidth()).isEqualTo(48);
  }

  @Test
  void apiWithoutAKeyIs401WithAChallengeAndWithAWrongKey403() throws Exception {
    HttpResponse<String> none = get("/api/orders/1", null);
    HttpResponse<String> wrong = get("/api/orders/1", "not-the-key");

    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).get().asString()
        .contains("X-Api-Key");
    assertThat(wrong.statusCode()).isEqualTo(403);
    assertThat(wrong.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(demo.orders().received()).isZero();
  }

  @Test
  void apiAdmitsTwentyRequestsPerSecondPerKeyThen429WithRetryAfterAndRateLimit()
      throws Exception {
    for (int i = 0; i < DemoGateway.API_REQUESTS_PER_SECOND; i++) {
      HttpResponse<String> admitted = get("/api/echo", KEY);
      assertThat(admitted.statusCode()).as("request %d", i + 1).isEqualTo(200);
      assertThat(admitted.headers().firstValue("RateLimit")).isPresent();
    }
    HttpResponse<String> limited = get("/api/echo", KEY);

    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(limited.headers().firstValue("RateLimit")).get().asString()
        .contains("\"per-key\";r=0");
    assertThat(limited.headers().firstValue("RateLimit-Policy"))
        .hasValue("\"per-key\";q=20;w=1");

    ticker.advance(Duration.ofSeconds(1)); // the router's clock: a second later, tokens again
    assertThat(get("/api/echo", KEY).statusCode()).isEqualTo(200);
  }

  @Test
  void orderReadsAreForwardedToOrders() throws Exception {
    HttpResponse<String> order = get("/api/orders/42", KEY);

    assertThat(order.statusCode()).isEqualTo(200);
    assertThat(json(order).get("servedBy").asText()).isEqualTo("orders");
    assertThat(json(order).get("order").asText()).isEqualTo("/42");
    assertThat(demo.orders().received()).isEqualTo(1);
  }

  @Test
  void orderReadsGoToTheReplicaWhileOrdersIsSaturatedWritesNeverAndReadsComeBack()
      throws Exception {
    // orders is saturated: more requests in flight on it than its workers
    InstanceLoad orders = BackendLoad.of(demo.ordersBackend()).instance(0);
    List<DecisionHandle> busy = new ArrayList<>();
    for (int i = 0; i <= DemoGateway.ORDERS_SATURATED_IN_FLIGHT; i++) {
      busy.add(orders.acquire(ticker));
    }
    HttpResponse<String> read = get("/api/orders/7", KEY);
    HttpResponse<String> write = send(HttpRequest.newBuilder(uri("/api/orders"))
        .header("X-Api-Key", KEY).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"item\":\"pen\"}")));

    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(json(read).get("servedBy").asText()).isEqualTo("orders-replica");
    assertThat(json(write).get("servedBy").asText()).isEqualTo("orders");

    // no longer saturated: reads stay on the replica for the hysteresis, then come back
    busy.forEach(h -> h.tryComplete(Outcome.SUCCESS, FailureKind.NONE, 200, 0));
    assertThat(json(get("/api/orders/8", KEY)).get("servedBy").asText())
        .isEqualTo("orders-replica");
    ticker.advance(Duration.ofSeconds(6));
    assertThat(json(get("/api/orders/9", KEY)).get("servedBy").asText()).isEqualTo("orders");
  }

  @Test
  void orderWritesGoToOrdersOnlyNeverTheReplica() throws Exception {
    HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/api/orders"))
        .header("X-Api-Key", KEY).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"item\":\"book\"}")));

    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(json(created).get("servedBy").asText()).isEqualTo("orders");
    assertThat(demo.replica().received()).isZero();
  }

  @Test
  void thumbnailsAreOffloadedToTheirQueue() {
    OffloadRequest post = OffloadRequest.post("/api/thumbnails")
        .header("Host", "127.0.0.1").header("X-Api-Key", KEY).build();

    assertThat(demo.router().explain(post).decision())
        .isInstanceOfSatisfying(Decision.Offload.class,
            offload -> assertThat(offload.queue()).isEqualTo("thumbnails"));
  }

  @Test
  void thumbnailsAnswer202WithATaskLocationAndANonImage400() throws Exception {
    byte[] png = DemoGatewayTest.class
        .getResourceAsStream("/dev/offload/examples/demo/static/logo.png").readAllBytes();
    HttpResponse<String> accepted = send(HttpRequest.newBuilder(uri("/api/thumbnails"))
        .header("X-Api-Key", KEY).header("Content-Type", "image/png")
        .POST(HttpRequest.BodyPublishers.ofByteArray(png)));
    HttpResponse<String> notAnImage = send(HttpRequest.newBuilder(uri("/api/thumbnails"))
        .header("X-Api-Key", KEY).header("Content-Type", "image/png")
        .POST(HttpRequest.BodyPublishers.ofString("not an image")));

    assertThat(accepted.statusCode()).isEqualTo(202);
    String location = accepted.headers().firstValue("Location").orElseThrow();
    assertThat(location).startsWith("/offload/tasks/");
    assertThat(notAnImage.statusCode()).isEqualTo(400);

    // the worker resizes it; then the status answers 303 to the replayed result
    String id = location.substring("/offload/tasks/".length());
    demo.thumbnailPool().whenFinal(id)
        .ifPresent(done -> done.toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join());
    HttpResponse<String> status = send(HttpRequest.newBuilder(uri(location))
        .header("X-Api-Key", KEY));
    assertThat(status.statusCode()).isEqualTo(303);
    String resultLocation = status.headers().firstValue("Location").orElseThrow();
    HttpResponse<byte[]> result = client.send(HttpRequest.newBuilder(uri(resultLocation))
        .header("X-Api-Key", KEY).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(result.statusCode()).isEqualTo(200);
    assertThat(result.headers().firstValue("Content-Type")).hasValue("image/png");
    assertThat(ImageIO.read(new ByteArrayInputStream(result.body())).getWidth()).isEqualTo(320);
    // another caller without the key is refused before it can see the task
    assertThat(get(location, null).statusCode()).isEqualTo(401);
  }

  @Test
  void echoShowsWhatOrdersReceivedFromTheGateway() throws Exception {
    HttpResponse<String> echo = send(HttpRequest.newBuilder(uri("/api/echo?color=blue&n=2"))
        .header("X-Api-Key", KEY).header("X-Demo", "hello")
        .header("X-Forwarded-For", "6.6.6.6")); // spoofed: dropped, the peer is not trusted

    JsonNode seen = json(echo);
    assertThat(seen.get("method").asText()).isEqualTo("GET");
    assertThat(seen.get("path").asText()).isEqualTo("/api/echo");
    assertThat(seen.get("query").asText()).isEqualTo("color=blue&n=2");
    JsonNode headers = seen.get("headers");
    assertThat(headers.get("x-demo").get(0).asText()).isEqualTo("hello");
    assertThat(headers.get("x-forwarded-for").get(0).asText()).isEqualTo("127.0.0.1");
    assertThat(headers.get("x-auth-subject").get(0).asText()).isEqualTo("demo");
    assertThat(headers.get("via").get(0).asText()).isEqualTo("1.1 offload");
  }

  @Test
  void metricsArePrometheusTextFromTheRoutersRegistry() throws Exception {
    get("/hello", null);
    HttpResponse<String> metrics = get("/metrics", null);

    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type")).get().asString()
        .startsWith("text/plain");
    assertThat(metrics.body())
        .contains("# TYPE offload_decisions_total counter")
        .contains("offload_decisions_total{decision=\"pass_through\",route=\"none\"} 1.0")
        // no orders traffic yet: the capacity signal asks for the minimum, one instance
        .contains("offload_backend_capacity_desired_instances{backend=\"orders\"} 1.0");
  }

  @Test
  void anythingElseIsTheHostsOwnHandler() throws Exception {
    HttpResponse<String> hello = get("/hello", null);
    HttpResponse<String> missing = get("/nothing/here", null);

    assertThat(hello.statusCode()).isEqualTo(200);
    assertThat(hello.body()).isEqualTo("hello from the host application\n");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(demo.orders().received()).isZero();
  }

  @Test
  void withOffloadingOffEveryRequestGoesToOrders() throws Exception {
    try (DemoGateway off = DemoGateway.start(demo.options().withOffloading(false))) {
      HttpResponse<String> asset = client.send(HttpRequest.newBuilder(
          off.gatewayUri().resolve("/assets/app.css")).build(),
          HttpResponse.BodyHandlers.ofString());

      assertThat(asset.statusCode()).isEqualTo(200);
      assertThat(json(asset).get("servedBy").asText()).isEqualTo("orders");
      assertThat(off.orders().received()).isEqualTo(1);
    }
  }

  @Test
  void closeLetsARequestInFlightFinishBeforeStopping() throws Exception {
    try (DemoGateway slow = DemoGateway.start(DemoGateway.Options.defaults()
        .withPorts(DemoGateway.Ports.ephemeral()).withOrders(1, Duration.ofMillis(300)))) {
      var inFlight = client.sendAsync(HttpRequest.newBuilder(
          slow.gatewayUri().resolve("/api/orders/1")).header("X-Api-Key", KEY).build(),
          HttpResponse.BodyHandlers.ofString());
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (slow.orders().inFlight() == 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait(); // bounded: until orders holds the request
      }
      assertThat(slow.orders().inFlight()).isEqualTo(1);

      slow.close();

      assertThat(inFlight.get(10, java.util.concurrent.TimeUnit.SECONDS).statusCode())
          .isEqualTo(200);
      assertThatThrownBy(() -> client.send(HttpRequest.newBuilder(
          slow.gatewayUri().resolve("/hello")).build(), HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class); // closed: no new connections
    }
  }

  @Test
  void aPortInUseIsRefusedNamingTheListenerAndThePort() throws Exception {
    int taken = demo.cdnUri().getPort();

    assertThatThrownBy(() -> DemoGateway.start(demo.options()
        .withPorts(new DemoGateway.Ports(0, taken, 0, 0))))
        .isInstanceOf(java.net.BindException.class)
        .hasMessageContaining("cdn cannot listen on 127.0.0.1:" + taken);
    assertThat(get("/hello", null).statusCode()).isEqualTo(200); // the running demo is intact
  }

  @Test
  void portsFollowTheIssuesOffsetsAndBadPortsAreRefusedNamingTheValue() {
    assertThat(DemoGateway.Ports.from(9000))
        .isEqualTo(new DemoGateway.Ports(9000, 9010, 9011, 9012));
    assertThatThrownBy(() -> DemoGateway.Ports.from(65_530))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("65530");
  }

  private URI uri(String target) {
    return demo.gatewayUri().resolve(target);
  }

  private HttpResponse<String> get(String target, String apiKey) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(target));
    if (apiKey != null) {
      b.header("X-Api-Key", apiKey);
    }
    return send(b);
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return client.send(b.timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private static JsonNode json(HttpResponse<String> response) throws IOException {
    return new ObjectMapper().readTree(response.body());
  }
}
