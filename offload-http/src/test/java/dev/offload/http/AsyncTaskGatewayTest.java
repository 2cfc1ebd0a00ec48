package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.async.ShutdownReport;
import dev.offload.core.async.TaskPool;
import dev.offload.core.async.TaskResult;
import dev.offload.core.guard.ApiKeyAuthenticator;
import dev.offload.core.guard.AuthenticationGuard;
import dev.offload.core.guard.Identity;
import dev.offload.core.testing.FakeTicker;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import dev.offload.http.async.TaskEndpoint;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ArgumentsSource;

/** Offloaded tasks through both adapters on loopback: 202, status, 303, replay, cancel, 503. */
class AsyncTaskGatewayTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Identity ALICE = Identity.of("alice", Set.of());
  private static final Identity BOB = Identity.of("bob", Set.of());

  @RegisterExtension final Closer closer = new Closer();
  private final FakeTicker ticker = new FakeTicker();
  /** The pool's work, run by the test when it wants: tasks stay queued until then. */
  private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
  private final AtomicInteger runs = new AtomicInteger();

  private TaskPool.Builder echoPool() {
    return TaskPool.builder("echo").ticker(ticker).executor(pending::add)
        .resultTtl(Duration.ofMinutes(10))
        .validator(r -> r.bodyLength() > 0 ? Optional.empty() : Optional.of("the body is empty"))
        .task(request -> {
          runs.incrementAndGet();
          return TaskResult.of(201, Headers.of("Content-Type", "text/plain", "X-Done", "yes",
              "Content-Length", "999"), ("done: " + new String(request.body(), UTF_8))
              .getBytes(UTF_8));
        });
  }

  private Gateway.Running gateway(Gateway server, TaskPool pool) throws Exception {
    TaskEndpoint tasks = TaskEndpoint.builder().pool(pool).build();
    OffloadRouter router = OffloadRouter.builder()
        .ticker(ticker)
        .guard("api-key", AuthenticationGuard.of(ApiKeyAuthenticator.inHeader("X-Api-Key")
            .key("k-alice", ALICE).key("k-bob", BOB).build()))
        .route("echo", Route.post("/api/echo"), AsyncTaskStrategy.to(pool))
        .route("tasks", tasks.statusRoute(), AsyncTaskStrategy.statusEndpoint())
        .build();
    return closer.add(server.start(OffloadExecutor.builder(router).offloadHandler(tasks).build(),
        Gateway.Host.answering("host")));
  }

  private static Response call(Gateway.Running gw, String method, String target, String key,
      String extraHeaders, byte[] body) throws IOException {
    try (RawClient client = new RawClient(gw.port())) {
      String head = method + " " + target + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
          + "X-Api-Key: " + key + "\r\n" + extraHeaders
          + (body.length > 0 ? "Content-Length: " + body.length + "\r\n" : "") + "\r\n";
      client.send(head.getBytes(UTF_8));
      if (body.length > 0) {
        client.send(body);
      }
      return client.read("HEAD".equals(method));
    }
  }

  private static Response post(Gateway.Running gw, String key, String body) throws IOException {
    return call(gw, "POST", "/api/echo", key, "", body.getBytes(UTF_8));
  }

  private static Response get(Gateway.Running gw, String key, String target) throws IOException {
    return call(gw, "GET", target, key, "", new byte[0]);
  }

  private static JsonNode json(Response response) throws IOException {
    assertThat(response.header("Content-Type")).isEqualTo("application/json");
    return JSON.readTree(response.body());
  }

  private void runPending() {
    while (!pending.isEmpty()) {
      pending.poll().run();
    }
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void submitPollSeeOtherAndReplayTheResult(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, echoPool().build());

    Response accepted = post(gw, "k-alice", "cat.png");
    assertThat(accepted.status()).isEqualTo(202);
    String location = accepted.header("Location");
    assertThat(location).matches("/offload/tasks/[A-Za-z0-9_-]{22}");
    assertThat(accepted.header("Retry-After")).isEqualTo("1");
    assertThat(json(accepted).get("state").asText()).isEqualTo("queued");

    Response queued = get(gw, "k-alice", location);
    assertThat(queued.status()).isEqualTo(200);
    assertThat(json(queued).get("state").asText()).isEqualTo("queued");
    assertThat(runs).hasValue(0);

    runPending();
    Response done = get(gw, "k-alice", location);
    assertThat(done.status()).isEqualTo(303);
    assertThat(done.header("Location")).isEqualTo(location + "/result");
    assertThat(json(done).get("state").asText()).isEqualTo("succeeded");

    Response result = get(gw, "k-alice", location + "/result");
    assertThat(result.status()).isEqualTo(201);
    assertThat(result.header("X-Done")).isEqualTo("yes");
    assertThat(result.header("Content-Type")).isEqualTo("text/plain");
    assertThat(result.header("Content-Length")).isEqualTo("13");
    assertThat(result.bodyText()).isEqualTo("done: cat.png");
    assertThat(runs).hasValue(1);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void sameIdempotencyKeyGetsTheSameTask(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, echoPool().build());

    Response first = call(gw, "POST", "/api/echo", "k-alice", "Idempotency-Key: order-7\r\n",
        "a".getBytes(UTF_8));
    Response again = call(gw, "POST", "/api/echo", "k-alice", "Idempotency-Key: order-7\r\n",
        "a".getBytes(UTF_8));
    Response bob = call(gw, "POST", "/api/echo", "k-bob", "Idempotency-Key: order-7\r\n",
        "a".getBytes(UTF_8));

    assertThat(again.status()).isEqualTo(202);
    assertThat(again.header("Location")).isEqualTo(first.header("Location"));
    assertThat(bob.header("Location")).isNotEqualTo(first.header("Location"));
    runPending();
    assertThat(runs).hasValue(2);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void anotherIdentityGets404AndAnUnknownIdToo(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, echoPool().build());
    String location = post(gw, "k-alice", "a").header("Location");

    assertThat(get(gw, "k-bob", location).status()).isEqualTo(404);
    assertThat(call(gw, "DELETE", location, "k-bob", "", new byte[0]).status()).isEqualTo(404);
    assertThat(get(gw, "k-bob", location + "/result").status()).isEqualTo(404);
    assertThat(get(gw, "k-alice", "/offload/tasks/AAAAAAAAAAAAAAAAAAAAAA").status())
        .isEqualTo(404);
    assertThat(get(gw, "k-alice", "/offload/tasks/..%2f").status()).isIn(400, 404);
    assertThat(get(gw, "k-alice", location).status()).isEqualTo(200);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void deleteCancelsAQueuedTaskWhichThenNeverRuns(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, echoPool().build());
    String location = post(gw, "k-alice", "a").header("Location");

    Response cancelled = call(gw, "DELETE", location, "k-alice", "", new byte[0]);
    runPending();

    assertThat(cancelled.status()).isEqualTo(200);
    assertThat(json(cancelled).get("state").asText()).isEqualTo("cancelled");
    assertThat(json(get(gw, "k-alice", location)).get("state").asText()).isEqualTo("cancelled");
    assertThat(get(gw, "k-alice", location + "/result").status()).isEqualTo(409);
    assertThat(runs).hasValue(0);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void fullQueueIs503WithRetryAfterAndInvalidIs400(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, echoPool().queueCapacity(1).build());
    assertThat(post(gw, "k-alice", "a").status()).isEqualTo(202);

    Response full = post(gw, "k-alice", "b");
    Response invalid = call(gw, "POST", "/api/echo", "k-alice", "", new byte[0]);

    assertThat(full.status()).isEqualTo(503);
    assertThat(full.header("Retry-After")).isEqualTo("1");
    assertThat(full.header("Content-Type")).isEqualTo("application/problem+json");
    assertThat(invalid.status()).isIn(400, 503); // the queue is full, decided before the body
    runPending();
    Response invalidWithRoom = call(gw, "POST", "/api/echo", "k-alice", "", new byte[0]);
    assertThat(invalidWithRoom.status()).isEqualTo(400);
    assertThat(invalidWithRoom.bodyText()).contains("the body is empty");
    assertThat(runs).hasValue(1);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void expiredTaskIs410(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server, echoPool().build());
    String location = post(gw, "k-alice", "a").header("Location");
    runPending();

    ticker.advance(Duration.ofMinutes(11));

    assertThat(get(gw, "k-alice", location).status()).isEqualTo(410);
    assertThat(get(gw, "k-alice", location + "/result").status()).isEqualTo(410);
    assertThat(get(gw, "k-bob", location).status()).isEqualTo(404);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void shutdownRefusesNewTasksAndDrainsAcceptedOnes(Gateway server) throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    TaskPool pool = TaskPool.builder("echo").ticker(ticker).workers(1).task(request -> {
      started.countDown();
      if (!release.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("never released");
      }
      return TaskResult.of(200, "text/plain", request.body());
    }).build();
    Gateway.Running gw = gateway(server, pool);
    String running = post(gw, "k-alice", "one").header("Location");
    String queued = post(gw, "k-alice", "two").header("Location");
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    CompletableFuture<ShutdownReport> shutdown = CompletableFuture.supplyAsync(() -> {
      try {
        return pool.shutdown(Duration.ofSeconds(10));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    for (int i = 0; pool.accepting() && i < 1_000_000_000; i++) { // shutdown's first step
      Thread.onSpinWait();
    }
    assertThat(pool.accepting()).isFalse();
    assertThat(shutdown).isNotDone(); // still draining: the running task holds it
    Response refused = post(gw, "k-alice", "three");
    release.countDown();
    ShutdownReport report = shutdown.get(10, TimeUnit.SECONDS);

    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.bodyText()).contains("shutting down");
    assertThat(report.drained()).isTrue();
    assertThat(get(gw, "k-alice", running).status()).isEqualTo(303);
    assertThat(get(gw, "k-alice", queued + "/result").bodyText()).isEqualTo("two");
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void resizesARealImageOnTheWorker(Gateway server) throws Exception {
    Executor direct = Runnable::run;
    TaskPool pool = TaskPool.builder("thumbnails").ticker(ticker).executor(direct)
        .validator(request -> isImage(request.body()) ? Optional.empty()
            : Optional.of("the body is not an image"))
        .task(request -> TaskResult.of(200, "image/png", thumbnail(request.body(), 32, 24)))
        .build();
    TaskEndpoint tasks = TaskEndpoint.builder().pool(pool).prefix("/jobs/").build();
    OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .route(Route.post("/api/thumbnails"), AsyncTaskStrategy.to(pool))
        .route(tasks.statusRoute(), AsyncTaskStrategy.statusEndpoint())
        .build();
    Gateway.Running gw = closer.add(server.start(
        OffloadExecutor.builder(router).offloadHandler(tasks).build(),
        Gateway.Host.answering("host")));

    Response notImage = call(gw, "POST", "/api/thumbnails", "-", "", "hello".getBytes(UTF_8));
    Response accepted = call(gw, "POST", "/api/thumbnails", "-", "", png(640, 480));
    Response result = get(gw, "-", accepted.header("Location") + "/result");

    assertThat(notImage.status()).isEqualTo(400);
    assertThat(accepted.status()).isEqualTo(202);
    assertThat(accepted.header("Location")).startsWith("/jobs/");
    assertThat(result.status()).isEqualTo(200);
    assertThat(result.header("Content-Type")).isEqualTo("image/png");
    BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(result.body()));
    assertThat(thumb.getWidth()).isEqualTo(32);
    assertThat(thumb.getHeight()).isEqualTo(24);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void idlePoolAnswersInlineFromItsWorkerUnlessTheClientPrefersAsync(Gateway server)
      throws Exception {
    TaskPool pool = TaskPool.builder("echo").ticker(ticker).workers(1)
        .inlineWhenIdle(Duration.ofSeconds(10))
        .task(request -> TaskResult.of(200, "text/plain",
            Thread.currentThread().getName().getBytes(UTF_8)))
        .build();
    closer.add(() -> pool.shutdown(Duration.ofSeconds(10)));
    Gateway.Running gw = gateway(server, pool);

    Response inline = post(gw, "k-alice", "a");
    Response async = call(gw, "POST", "/api/echo", "k-alice",
        "Prefer: wait=5, Respond-Async\r\n", "b".getBytes(UTF_8));

    assertThat(inline.status()).isEqualTo(200);
    assertThat(inline.bodyText()).startsWith("offload-task-echo-"); // a worker ran it
    assertThat(inline.header("Content-Location")).matches("/offload/tasks/[A-Za-z0-9_-]{22}");
    assertThat(inline.header("Preference-Applied")).isNull();
    assertThat(async.status()).isEqualTo(202);
    assertThat(async.header("Preference-Applied")).isEqualTo("respond-async");
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void fireAndForgetIs202WithoutStatusUrlCountedBoundedAndNotKept(Gateway server)
      throws Exception {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    TaskPool pool = echoPool().fireAndForget(true).queueCapacity(1).meterRegistry(registry)
        .build();
    Gateway.Running gw = gateway(server, pool);

    Response accepted = post(gw, "k-alice", "audit");
    Response full = post(gw, "k-alice", "audit");
    runPending();

    assertThat(accepted.status()).isEqualTo(202);
    assertThat(accepted.header("Location")).isNull();
    assertThat(accepted.body()).isEmpty();
    assertThat(full.status()).isEqualTo(503);
    assertThat(runs).hasValue(1);
    assertThat(registry.get("offload.tasks.completed").tag("outcome", "succeeded").counter()
        .count()).isEqualTo(1);
    assertThat(registry.get("offload.tasks.rejected").tag("reason", "full").counter().count())
        .isEqualTo(1); // refused at decide, before the body was read
  }

  private static boolean isImage(byte[] body) {
    try {
      return ImageIO.read(new ByteArrayInputStream(body)) != null;
    } catch (IOException e) {
      return false;
    }
  }

  static byte[] png(int width, int height) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, (x * 7) ^ (y * 13));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  static byte[] thumbnail(byte[] image, int width, int height) throws IOException {
    BufferedImage source = ImageIO.read(new ByteArrayInputStream(image));
    BufferedImage thumb = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    var g = thumb.createGraphics();
    try {
      g.drawImage(source.getScaledInstance(width, height, java.awt.Image.SCALE_SMOOTH), 0, 0,
          null);
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(thumb, "png", out);
    return out.toByteArray();
  }
}
