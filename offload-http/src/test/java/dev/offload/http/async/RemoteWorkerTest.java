package dev.offload.http.async;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.async.TaskPool;
import dev.offload.core.async.TaskRequest;
import dev.offload.core.async.TaskSnapshot;
import dev.offload.core.async.TaskState;
import dev.offload.core.async.TaskSubmission;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link RemoteWorker}: the work done by a worker service on loopback, same task contract. */
class RemoteWorkerTest {
  private final MockWebServer service = new MockWebServer();

  @BeforeEach
  void start() throws Exception {
    service.start();
  }

  @AfterEach
  void stop() {
    service.close();
  }

  private TaskPool pool(RemoteWorker worker) {
    return TaskPool.builder("remote").executor(Runnable::run).task(worker).build();
  }

  private static TaskSnapshot accepted(TaskSubmission submission) {
    return ((TaskSubmission.Accepted) submission).task();
  }

  @Test
  void theServicesAnswerIsTheTasksResult() throws Exception {
    service.enqueue(new MockResponse.Builder().code(201).setHeader("Content-Type", "image/png")
        .setHeader("X-Worker", "w1").body("thumb").build());
    TaskPool pool = pool(RemoteWorker.builder(URI.create(service.url("/jobs").toString()))
        .forwardPath(true).build());

    String id = accepted(pool.submit(TaskRequest.builder("POST", "/api/thumbs").query("w=320")
        .header("Content-Type", "image/png").body("png".getBytes(UTF_8)).build(),
        Optional.empty())).id();

    RecordedRequest sent = service.takeRequest(10, TimeUnit.SECONDS);
    assertThat(sent.getTarget()).isEqualTo("/jobs/api/thumbs?w=320");
    assertThat(sent.getBody().utf8()).isEqualTo("png");
    assertThat(sent.getHeaders().get("Content-Type")).startsWith("image/png");
    TaskSnapshot done = pool.find(id).orElseThrow();
    assertThat(done.state()).isEqualTo(TaskState.SUCCEEDED);
    assertThat(done.result().orElseThrow().status()).isEqualTo(201);
    assertThat(done.result().orElseThrow().headers().first("X-Worker")).hasValue("w1");
    assertThat(done.result().orElseThrow().body()).isEqualTo("thumb".getBytes(UTF_8));
  }

  @Test
  void a5xxOrAnOversizedAnswerFailsTheTask() throws Exception {
    service.enqueue(new MockResponse.Builder().code(503).build());
    service.enqueue(new MockResponse.Builder().code(200).body("x".repeat(100)).build());
    TaskPool pool = pool(RemoteWorker.builder(URI.create(service.url("/jobs").toString()))
        .maxResultBytes(10).build());

    String unavailable = accepted(pool.submit(TaskRequest.builder("POST", "/a").build(),
        Optional.empty())).id();
    String oversized = accepted(pool.submit(TaskRequest.builder("POST", "/a").build(),
        Optional.empty())).id();

    assertThat(pool.find(unavailable).orElseThrow().state()).isEqualTo(TaskState.FAILED);
    assertThat(pool.find(oversized).orElseThrow().state()).isEqualTo(TaskState.FAILED);
  }
}
