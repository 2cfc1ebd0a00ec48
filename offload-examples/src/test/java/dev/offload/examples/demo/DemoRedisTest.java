package dev.offload.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.redis.RedisServer;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two demo instances started with {@code --redis}, sharing one real Redis. */
class DemoRedisTest {
  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private RedisServer redis;
  private DemoGateway a;
  private DemoGateway b;

  @BeforeEach
  void start() throws Exception {
    redis = RedisServer.start();
    DemoGateway.Options options = DemoGateway.Options.defaults()
        .withPorts(DemoGateway.Ports.ephemeral())
        .withOrders(4, Duration.ZERO)
        .withRedis(URI.create(redis.uri()));
    a = DemoGateway.start(options);
    b = DemoGateway.start(options);
  }

  @AfterEach
  void stop() {
    a.close();
    b.close();
    redis.close();
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder request(DemoGateway demo, String path) {
    return HttpRequest.newBuilder(URI.create(demo.gatewayUri() + path))
        .timeout(Duration.ofSeconds(10));
  }

  @Test
  void theApiRateLimitCountsAcrossBothInstances() throws Exception {
    int admitted = 0;
    int limited = 0;
    long started = System.nanoTime();
    for (int i = 0; i < 40; i++) {
      HttpResponse<String> r = send(request(i % 2 == 0 ? a : b, "/api/echo")
          .header(DemoGateway.API_KEY_HEADER, DemoGateway.API_KEY));
      if (r.statusCode() == 200) {
        admitted++;
      } else if (r.statusCode() == 429) {
        limited++;
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    // one limit of 20 a second for both, not 20 each (exact mode): beyond it, only what refilled
    // while the requests ran, on the wall clock
    long bound = 20 + (long) Math.ceil(20 * seconds);
    assertThat(admitted).isBetween(20, (int) Math.min(bound, 40));
    assertThat(admitted + limited).isEqualTo(40);
    if (seconds < 0.5) {
      assertThat(admitted).as("in %.2f s", seconds).isLessThan(40);
    }
  }

  @Test
  void aPurgeOnOneInstanceEmptiesTheOthersEdgeCache() throws Exception {
    assertThat(cacheStatus(b)).isEqualTo("MISS");
    assertThat(cacheStatus(b)).isEqualTo("HIT");
    HttpResponse<String> purged = send(request(a, "/admin/purge-static")
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(purged.statusCode()).isEqualTo(200);
    awaitReceived(b);
    assertThat(cacheStatus(b)).isEqualTo("MISS");
  }

  private String cacheStatus(DemoGateway demo) throws Exception {
    return send(request(demo, "/static/app.js")).headers()
        .firstValue("X-Cache-Status").orElse("none");
  }

  /** Reads b's /metrics until it counts the purge as applied (bounded by a deadline). */
  private void awaitReceived(DemoGateway demo) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      String metrics = send(request(demo, "/metrics")).body();
      if (metrics.lines().anyMatch(line ->
          line.startsWith("offload_redis_invalidations_total{event=\"received\"")
              && !line.endsWith(" 0.0"))) {
        return;
      }
    }
    throw new AssertionError("the purge did not reach the other instance in 10 s");
  }

  @Test
  void aThumbnailAcceptedByOneInstanceIsAnsweredByTheOther() throws Exception {
    byte[] png = DemoRedisTest.class
        .getResourceAsStream("/dev/offload/examples/demo/static/logo.png").readAllBytes();
    HttpResponse<String> accepted = send(request(a, "/api/thumbnails")
        .header(DemoGateway.API_KEY_HEADER, DemoGateway.API_KEY)
        .header("Content-Type", "image/png")
        .POST(HttpRequest.BodyPublishers.ofByteArray(png)));
    assertThat(accepted.statusCode()).isEqualTo(202);
    String location = accepted.headers().firstValue("Location").orElseThrow();
    // the task is in Redis: b answers its status (and a worker of either instance runs it)
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    HttpResponse<String> status;
    do {
      status = send(request(b, location)
          .header(DemoGateway.API_KEY_HEADER, DemoGateway.API_KEY));
      assertThat(status.statusCode()).isIn(200, 303);
    } while (status.statusCode() == 200 && System.nanoTime() < deadline);
    assertThat(status.statusCode()).as("finished within 30 s").isEqualTo(303);
    HttpResponse<byte[]> result = client.send(
        request(b, status.headers().firstValue("Location").orElseThrow())
            .header(DemoGateway.API_KEY_HEADER, DemoGateway.API_KEY).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(result.statusCode()).isEqualTo(200);
    assertThat(ImageIO.read(new ByteArrayInputStream(result.body())).getWidth()).isEqualTo(320);
  }

  @Test
  void aBadRedisUriIsRefusedByName() {
    assertThatThrownBy(() -> DemoGateway.Options.defaults().withRedis(URI.create("http://x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http://x");
  }
}
