package dev.offload.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.async.TaskPool;
import dev.offload.core.async.TaskResult;
import dev.offload.core.async.TaskState;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.async.TaskEndpoint;
import dev.offload.http.jdk.OffloadHttpHandler;
import dev.offload.redis.tasks.RedisTaskQueue;
import dev.offload.redis.tasks.RedisTaskStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two gateways (a real JDK {@code HttpServer} each, with its own router, pool and {@link
 * TaskEndpoint}) sharing one Redis: a task posted to one is polled, redirected and fetched on the
 * other; while Redis is down a submission is answered 503 with a reason, never 202.
 */
class RedisTaskEndpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(20);

  private RedisServer redis;
  private ClientResources resources;
  private RedisClient client;
  private RedisTaskStore observer;
  private TaskKeyEvents events;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final List<HttpServer> servers = new ArrayList<>();
  private final List<TaskPool> pools = new ArrayList<>();
  private final List<RedisTaskStore> stores = new ArrayList<>();
  private final CountDownLatch gate = new CountDownLatch(1);

  @BeforeEach
  void start() {
    redis = RedisServer.start(true);
    resources = ClientResources.builder()
        .reconnectDelay(Delay.constant(Duration.ofMillis(50))).build();
    client = RedisClient.create(resources, redis.uri());
    observer = RedisTaskStore.builder(client).build();
    events = new TaskKeyEvents(client, observer);
  }

  @AfterEach
  void stop() throws InterruptedException {
    gate.countDown();
    servers.forEach(s -> s.stop(0));
    for (TaskPool pool : pools) {
      pool.shutdown(Duration.ZERO);
    }
    stores.forEach(RedisTaskStore::close);
    events.close();
    observer.close();
    client.shutdown();
    resources.shutdown();
    redis.close();
  }

  /** A gateway instance on a free loopback port; returns its base URI. */
  private URI gateway(String name) throws Exception {
    RedisTaskStore store = RedisTaskStore.builder(client)
        .commandTimeout(Duration.ofMillis(500)).build();
    stores.add(store);
    TaskPool pool = TaskPool.builder("thumbs")
        .task(request -> {
          gate.await(30, TimeUnit.SECONDS);
          return TaskResult.of(201, "text/plain",
              ("thumb of " + new String(request.body(), UTF_8) + " by " + name).getBytes(UTF_8));
        })
        .store(store)
        .queue(RedisTaskQueue.builder(client, "thumbs").consumer(name)
            .commandTimeout(Duration.ofMillis(500)).build())
        .build();
    pools.add(pool);
    TaskEndpoint tasks = TaskEndpoint.builder().pool(pool).build();
    OffloadRouter router = OffloadRouter.builder()
        .route("thumbs", Route.post("/api/thumbs"), AsyncTaskStrategy.to(pool))
        .route("tasks", tasks.statusRoute(), AsyncTaskStrategy.statusEndpoint())
        .build();
    HttpServer server = HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", OffloadHttpHandler.wrap(
        OffloadExecutor.builder(router).offloadHandler(tasks).build(),
        exchange -> {
          exchange.sendResponseHeaders(404, -1);
          exchange.close();
        }));
    server.start();
    servers.add(server);
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private HttpResponse<String> post(URI gateway, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(gateway.resolve("/api/thumbs"))
        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(URI gateway, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(gateway.resolve(path))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aTaskPostedToOneGatewayIsPolledAndFetchedOnAnother() throws Exception {
    URI one = gateway("one");
    URI two = gateway("two");

    HttpResponse<String> accepted = post(one, "cat.png");
    assertThat(accepted.statusCode()).isEqualTo(202);
    String location = accepted.headers().firstValue("Location").orElseThrow();
    String id = location.substring(location.lastIndexOf('/') + 1);
    HttpResponse<String> polled = get(two, location);
    assertThat(polled.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(polled.body()).get("state").asText()).isIn("queued", "running");

    gate.countDown();
    events.awaitFinal(id, WAIT);

    HttpResponse<String> done = get(two, location);
    assertThat(done.statusCode()).isEqualTo(303);
    assertThat(done.headers().firstValue("Location")).contains(location + "/result");
    HttpResponse<String> result = get(two, location + "/result");
    assertThat(result.statusCode()).isEqualTo(201);
    assertThat(result.body()).matches("thumb of cat\\.png by (one|two)");
    assertThat(get(one, location + "/result").body()).isEqualTo(result.body());
    assertThat(observer.get(id).orElseThrow().state()).isEqualTo(TaskState.SUCCEEDED);
  }

  @Test
  void whileRedisIsDownASubmissionIsAnswered503WithAReasonAndNothingAcceptedIsLost()
      throws Exception {
    URI one = gateway("one");
    URI two = gateway("two");
    String before = post(one, "before.png").headers().firstValue("Location").orElseThrow();

    redis.kill();
    HttpResponse<String> refused = post(two, "during.png");
    HttpResponse<String> statusDuring = get(one, before);
    redis.restart();
    events.enable();
    gate.countDown();

    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Content-Type")).contains("application/problem+json");
    JsonNode problem = JSON.readTree(refused.body());
    assertThat(problem.get("detail").asText()).isIn("the task store is unavailable",
        "the task queue is unavailable");
    assertThat(statusDuring.statusCode()).isEqualTo(503);
    assertThat(JSON.readTree(statusDuring.body()).get("detail").asText())
        .isEqualTo("the task store is unavailable");
    assertThat(statusDuring.headers().firstValue("Retry-After")).contains("1");
    String id = before.substring(before.lastIndexOf('/') + 1);
    events.awaitFinal(id, WAIT);
    assertThat(get(two, before + "/result").body()).startsWith("thumb of before.png by ");
    HttpResponse<String> after = post(two, "after.png");
    assertThat(after.statusCode()).isEqualTo(202);
  }
}
