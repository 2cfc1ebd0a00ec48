package dev.offload.core.async;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.testing.FakeTicker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link TaskPool} on a fake ticker, with a direct or a hand-run executor. */
class TaskPoolTest {
  private final FakeTicker ticker = new FakeTicker();
  /** An executor whose work the test runs by hand: tasks stay queued until then. */
  private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<String> ids = new ArrayList<>();

  private TaskPool.Builder pool(Task task) {
    return TaskPool.builder("thumbs").task(task).ticker(ticker).meterRegistry(registry);
  }

  private static TaskRequest request(String body) {
    return TaskRequest.builder("POST", "/api/thumbs").body(body.getBytes(UTF_8)).build();
  }

  private static TaskRequest requestOf(String owner, String body) {
    return TaskRequest.builder("POST", "/api/thumbs").owner(owner).body(body.getBytes(UTF_8))
        .build();
  }

  private static TaskResult echo(TaskRequest request) {
    return TaskResult.of(200, "text/plain", request.body());
  }

  private static TaskSnapshot accepted(TaskSubmission submission) {
    assertThat(submission).isInstanceOf(TaskSubmission.Accepted.class);
    return ((TaskSubmission.Accepted) submission).task();
  }

  private void runPending() {
    while (!pending.isEmpty()) {
      pending.poll().run();
    }
  }

  @Test
  void taskGoesFromQueuedThroughRunningToSucceededWithProgress() {
    List<TaskSnapshot> seenWhileRunning = new ArrayList<>();
    TaskPool[] self = new TaskPool[1];
    TaskPool pool = pool(request -> {
      request.progress(0.5);
      seenWhileRunning.add(self[0].find(ids.get(0)).orElseThrow());
      return echo(request);
    }).executor(pending::add).build();
    self[0] = pool;

    TaskSnapshot task = accepted(pool.submit(request("png"), Optional.empty()));
    ids.add(task.id());
    assertThat(task.state()).isEqualTo(TaskState.QUEUED);
    assertThat(pool.find(task.id()).orElseThrow().state()).isEqualTo(TaskState.QUEUED);
    assertThat(pool.depth()).isEqualTo(1);

    runPending();

    assertThat(seenWhileRunning).singleElement().satisfies(s -> {
      assertThat(s.state()).isEqualTo(TaskState.RUNNING);
      assertThat(s.progress()).hasValue(0.5);
    });
    TaskSnapshot done = pool.find(task.id()).orElseThrow();
    assertThat(done.state()).isEqualTo(TaskState.SUCCEEDED);
    assertThat(done.result().orElseThrow().body()).isEqualTo("png".getBytes(UTF_8));
    assertThat(pool.depth()).isZero();
    assertThat(registry.get("offload.tasks.completed").tag("outcome", "succeeded").counter()
        .count()).isEqualTo(1);
    assertThat(registry.get("offload.tasks.submitted").counter().count()).isEqualTo(1);
  }

  @Test
  void taskIdsAre128RandomBitsInUrlSafeBase64() {
    TaskPool pool = pool(TaskPoolTest::echo).executor(Runnable::run).queueCapacity(1000).build();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      seen.add(accepted(pool.submit(request("x"), Optional.empty())).id());
    }
    assertThat(seen).hasSize(200).allMatch(id -> id.matches("[A-Za-z0-9_-]{22}"));
  }

  @Test
  void failingTaskEndsFailedWithoutShowingItsException() {
    TaskPool pool = pool(request -> {
      throw new IllegalStateException("secret database password in here");
    }).executor(Runnable::run).build();

    TaskSnapshot task = accepted(pool.submit(request("x"), Optional.empty()));

    TaskSnapshot done = pool.find(task.id()).orElseThrow();
    assertThat(done.state()).isEqualTo(TaskState.FAILED);
    assertThat(done.error()).hasValue("the task failed");
    assertThat(done.result()).isEmpty();
    assertThat(registry.get("offload.tasks.completed").tag("outcome", "failed").counter().count())
        .isEqualTo(1);
  }

  @Test
  void resultIsKeptForItsTtlThenRememberedAsExpiredWithoutTheResult() {
    TaskPool pool = pool(TaskPoolTest::echo).executor(Runnable::run)
        .resultTtl(Duration.ofMinutes(10)).build();
    String id = accepted(pool.submit(request("png"), Optional.empty())).id();

    ticker.advance(Duration.ofMinutes(10).minusSeconds(1));
    assertThat(pool.find(id)).isPresent();
    assertThat(pool.findExpired(id)).isEmpty();

    ticker.advance(Duration.ofSeconds(2));
    assertThat(pool.find(id)).isEmpty();
    TaskSnapshot gone = pool.findExpired(id).orElseThrow();
    assertThat(gone.state()).isEqualTo(TaskState.SUCCEEDED);
    assertThat(gone.result()).isEmpty();
    assertThat(pool.findExpired("AAAAAAAAAAAAAAAAAAAAAA")).isEmpty();
  }

  @Test
  void queuedAndRunningTasksNeverExpire() {
    TaskPool pool = pool(TaskPoolTest::echo).executor(pending::add)
        .resultTtl(Duration.ofSeconds(1)).build();
    String id = accepted(pool.submit(request("png"), Optional.empty())).id();

    ticker.advance(Duration.ofDays(2));

    assertThat(pool.find(id).orElseThrow().state()).isEqualTo(TaskState.QUEUED);
  }

  @Test
  void resultsBeyondTheStoresByteBoundAreEvictedAndAnsweredAsExpired() {
    TaskStore store = InMemoryTaskStore.builder().ticker(ticker).maxResultBytes(3000).build();
    TaskPool pool = pool(request -> TaskResult.of(200, "application/octet-stream",
        new byte[1000])).executor(Runnable::run).store(store).build();
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      made.add(accepted(pool.submit(request("x"), Optional.empty())).id());
    }

    long kept = made.stream().filter(id -> pool.find(id).isPresent()).count();
    long expired = made.stream().filter(id -> pool.findExpired(id).isPresent()).count();
    assertThat(kept).isBetween(1L, 2L);
    assertThat(kept + expired).isEqualTo(5);
  }

  @Test
  void sameIdempotencyKeyAndOwnerGetTheSameTask() {
    AtomicInteger runs = new AtomicInteger();
    TaskPool pool = pool(request -> {
      runs.incrementAndGet();
      return echo(request);
    }).executor(Runnable::run).build();

    TaskSubmission first = pool.submit(requestOf("alice", "a"), Optional.of("k-1"));
    TaskSubmission again = pool.submit(requestOf("alice", "a"), Optional.of("k-1"));
    TaskSubmission bob = pool.submit(requestOf("bob", "a"), Optional.of("k-1"));

    assertThat(((TaskSubmission.Accepted) first).repeated()).isFalse();
    assertThat(((TaskSubmission.Accepted) again).repeated()).isTrue();
    assertThat(accepted(again).id()).isEqualTo(accepted(first).id());
    assertThat(accepted(bob).id()).isNotEqualTo(accepted(first).id());
    assertThat(runs).hasValue(2);
  }

  @Test
  void keyOfARefusedSubmissionIsReleased() {
    TaskPool pool = pool(TaskPoolTest::echo).executor(pending::add).queueCapacity(1).build();
    accepted(pool.submit(request("a"), Optional.empty()));
    assertThat(pool.submit(request("b"), Optional.of("k"))).isInstanceOf(TaskSubmission.Refused.class);
    runPending();

    TaskSubmission retry = pool.submit(request("b"), Optional.of("k"));

    assertThat(((TaskSubmission.Accepted) retry).repeated()).isFalse();
  }

  @Test
  void onlyTheOwnerSeesAnOwnedTask() {
    TaskPool pool = pool(TaskPoolTest::echo).executor(Runnable::run).build();
    TaskSnapshot owned = accepted(pool.submit(requestOf("alice", "a"), Optional.empty()));
    TaskSnapshot open = accepted(pool.submit(request("a"), Optional.empty()));

    assertThat(owned.visibleTo(Optional.of("alice"))).isTrue();
    assertThat(owned.visibleTo(Optional.of("bob"))).isFalse();
    assertThat(owned.visibleTo(Optional.empty())).isFalse();
    assertThat(open.visibleTo(Optional.of("bob"))).isTrue();
  }

  @Test
  void validatorRefusalIsInvalidAndNothingIsQueued() {
    TaskPool pool = pool(TaskPoolTest::echo).executor(pending::add)
        .validator(r -> r.header("Content-Type").filter(t -> t.startsWith("image/")).isPresent()
            ? Optional.empty() : Optional.of("the body must be an image"))
        .build();

    TaskSubmission submission = pool.submit(request("text"), Optional.empty());

    assertThat(submission).isEqualTo(new TaskSubmission.Invalid("the body must be an image"));
    assertThat(pool.depth()).isZero();
    assertThat(pending).isEmpty();
    assertThat(registry.get("offload.tasks.rejected").tag("reason", "invalid").counter().count())
        .isEqualTo(1);
  }

  @Test
  void fullQueueIsRefusedWithRetryAfterFromDepthAndMeasuredRunTime() {
    TaskPool pool = pool(request -> {
      ticker.advance(Duration.ofSeconds(4));
      return echo(request);
    }).executor(pending::add).workers(1).queueCapacity(2).build();
    accepted(pool.submit(request("a"), Optional.empty()));
    accepted(pool.submit(request("b"), Optional.empty()));

    TaskSubmission beforeAnyRan = pool.submit(request("c"), Optional.empty());
    assertThat(beforeAnyRan).isEqualTo(new TaskSubmission.Refused(
        "task queue 'thumbs' is full", TaskPool.DEFAULT_RETRY_AFTER));
    assertThat(pool.hasRoom()).isFalse();

    runPending(); // two tasks of 4 s each: mean 4 s
    accepted(pool.submit(request("d"), Optional.empty()));
    accepted(pool.submit(request("e"), Optional.empty()));
    TaskSubmission refused = pool.submit(request("f"), Optional.empty());

    // two queued ahead plus this one, 4 s each, one worker
    assertThat(((TaskSubmission.Refused) refused).retryAfter()).isEqualTo(Duration.ofSeconds(12));
    assertThat(registry.get("offload.tasks.rejected").tag("reason", "full").counter().count())
        .isEqualTo(2);
    assertThat(registry.get("offload.tasks.queue.depth").gauge().value()).isEqualTo(2);
  }

  @Test
  void cancellingAQueuedTaskMeansItNeverRuns() {
    AtomicInteger runs = new AtomicInteger();
    TaskPool pool = pool(request -> {
      runs.incrementAndGet();
      return echo(request);
    }).executor(pending::add).build();
    String id = accepted(pool.submit(request("a"), Optional.empty())).id();

    TaskSnapshot cancelled = pool.cancel(id).orElseThrow();
    runPending();

    assertThat(cancelled.state()).isEqualTo(TaskState.CANCELLED);
    assertThat(pool.find(id).orElseThrow().state()).isEqualTo(TaskState.CANCELLED);
    assertThat(runs).hasValue(0);
    assertThat(pool.depth()).isZero();
  }

  @Test
  void cancellingARunningTaskAsksItToStopAndDiscardsItsResult() {
    List<Boolean> sawCancel = new ArrayList<>();
    String[] id = new String[1];
    TaskPool[] self = new TaskPool[1];
    TaskPool pool = pool(request -> {
      TaskSnapshot during = self[0].cancel(id[0]).orElseThrow();
      assertThat(during.state()).isEqualTo(TaskState.RUNNING);
      assertThat(during.cancelRequested()).isTrue();
      sawCancel.add(request.cancelRequested());
      return echo(request);
    }).executor(pending::add).build();
    self[0] = pool;
    id[0] = accepted(pool.submit(request("a"), Optional.empty())).id();

    runPending();

    assertThat(sawCancel).containsExactly(true);
    TaskSnapshot done = pool.find(id[0]).orElseThrow();
    assertThat(done.state()).isEqualTo(TaskState.CANCELLED);
    assertThat(done.result()).isEmpty();
  }

  @Test
  void shutdownCancelsWhatNeverRanAndRefusesNewTasks() throws Exception {
    TaskPool pool = pool(TaskPoolTest::echo).executor(pending::add).build();
    String a = accepted(pool.submit(request("a"), Optional.empty())).id();
    String b = accepted(pool.submit(request("b"), Optional.empty())).id();

    ShutdownReport report = pool.shutdown(Duration.ZERO);

    assertThat(report.drained()).isFalse();
    assertThat(report.cancelled()).containsExactly(a, b);
    assertThat(pool.find(a).orElseThrow().state()).isEqualTo(TaskState.CANCELLED);
    assertThat(pool.submit(request("c"), Optional.empty())).isInstanceOf(
        TaskSubmission.Refused.class);
    assertThat(pool.hasRoom()).isFalse();
  }

  @Test
  void shutdownDrainsWithinTheTimeoutAndFailsWhatIsStillRunning() throws Exception {
    CountDownLatch started = new CountDownLatch(2);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      TaskPool pool = pool(request -> {
        started.countDown();
        if (request.bodyLength() == 4) { // "slow"
          release.await(10, TimeUnit.SECONDS);
        }
        return echo(request);
      }).executor(threads).workers(2).build();
      String slow = accepted(pool.submit(request("slow"), Optional.empty())).id();
      String quick = accepted(pool.submit(request("ok"), Optional.empty())).id();
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

      ShutdownReport report = pool.shutdown(Duration.ofMillis(50));
      release.countDown();

      assertThat(report.abandoned()).containsExactly(slow);
      TaskSnapshot failed = pool.find(slow).orElseThrow();
      assertThat(failed.state()).isEqualTo(TaskState.FAILED);
      assertThat(failed.error()).hasValue("did not finish before the pool shut down");
      assertThat(pool.find(quick).orElseThrow().state()).isEqualTo(TaskState.SUCCEEDED);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void builderRefusesBadSettingsNamingThem() {
    assertThatThrownBy(() -> TaskPool.builder("a b")).hasMessageContaining("'a b'");
    assertThatThrownBy(() -> TaskPool.builder("x").workers(0)).hasMessageContaining("workers");
    assertThatThrownBy(() -> TaskPool.builder("x").queueCapacity(0))
        .hasMessageContaining("queueCapacity must be in 1..1000000, got 0");
    assertThatThrownBy(() -> TaskPool.builder("x").resultTtl(Duration.ZERO))
        .hasMessageContaining("resultTtl");
    assertThatThrownBy(() -> TaskPool.builder("x").build()).hasMessageContaining("task");
  }
}
