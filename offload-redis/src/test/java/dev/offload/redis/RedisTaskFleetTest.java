package dev.offload.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.async.ShutdownReport;
import dev.offload.core.async.Task;
import dev.offload.core.async.TaskPool;
import dev.offload.core.async.TaskRequest;
import dev.offload.core.async.TaskResult;
import dev.offload.core.async.TaskSnapshot;
import dev.offload.core.async.TaskState;
import dev.offload.core.async.TaskSubmission;
import dev.offload.redis.tasks.RedisTaskQueue;
import dev.offload.redis.tasks.RedisTaskStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three gateway instances in one JVM (three {@link TaskPool}s, each with its own store and queue
 * connections and its own consumer name) sharing one real Redis with the append-only file on.
 */
class RedisTaskFleetTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration RECLAIM_AFTER = Duration.ofMillis(300);

  private RedisServer server;
  private ClientResources resources;
  private RedisClient client;
  private TaskKeyEvents events;
  private RedisTaskStore observer;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<TaskPool> pools = new ArrayList<>();
  private final List<RedisTaskStore> stores = new ArrayList<>();
  /** The heartbeat scheduler of instance "a", when a test counts its beats. */
  private ScheduledThreadPoolExecutor heartbeats;

  @BeforeEach
  void start() {
    server = RedisServer.start(true);
    resources = ClientResources.builder()
        .reconnectDelay(Delay.constant(Duration.ofMillis(50))).build();
    client = RedisClient.create(resources, server.uri());
    observer = RedisTaskStore.builder(client).build();
    events = new TaskKeyEvents(client, observer);
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (TaskPool pool : pools) {
      if (pool.accepting()) {
        pool.shutdown(Duration.ZERO);
      }
    }
    stores.forEach(RedisTaskStore::close);
    if (heartbeats != null) {
      heartbeats.shutdownNow();
    }
    events.close();
    observer.close();
    client.shutdown();
    resources.shutdown();
    server.close();
  }

  /** One instance: its own store connection, queue connections and consumer name. */
  private TaskPool instance(String name, Task task) {
    return instance(name, task, 100, RedisTaskStore.DEFAULT_COMMAND_TIMEOUT);
  }

  private TaskPool instance(String name, Task task, int capacity, Duration commandTimeout) {
    RedisTaskStore store = RedisTaskStore.builder(client).commandTimeout(commandTimeout)
        .meterRegistry(registry).build();
    stores.add(store);
    TaskPool pool = TaskPool.builder("thumbs").task(task).queueCapacity(capacity)
        .store(store)
        .queue(queue(name, commandTimeout))
        .build();
    pools.add(pool);
    return pool;
  }

  private RedisTaskQueue queue(String name, Duration commandTimeout) {
    RedisTaskQueue.Builder queue = RedisTaskQueue.builder(client, "thumbs").consumer(name)
        .reclaimAfter(RECLAIM_AFTER).commandTimeout(commandTimeout).meterRegistry(registry);
    if (heartbeats != null && name.equals("a")) {
      queue.heartbeatScheduler(heartbeats);
    }
    return queue.build();
  }

  private static Task ranOn(String instance) {
    return request -> TaskResult.of(200, "text/plain", (instance + ":"
        + new String(request.body(), UTF_8)
        + (request.header("Authorization").isPresent() ? "+credentials" : "")).getBytes(UTF_8));
  }

  private static TaskRequest request(String body) {
    return TaskRequest.builder("POST", "/api/thumbs").header("Content-Type", "text/plain")
        .header("Authorization", "Bearer secret").body(body.getBytes(UTF_8)).build();
  }

  private static TaskSubmission.Accepted accepted(TaskSubmission submission) {
    assertThat(submission).isInstanceOf(TaskSubmission.Accepted.class);
    return (TaskSubmission.Accepted) submission;
  }

  private static String body(TaskSnapshot task) {
    return new String(task.result().orElseThrow().body(), UTF_8);
  }

  private long[] lengthAndPending() {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      long length = c.sync().xlen("offload:tasks:queue:thumbs");
      long pending = c.sync().xpending("offload:tasks:queue:thumbs",
          RedisTaskQueue.DEFAULT_GROUP).getCount();
      return new long[] {length, pending};
    }
  }

  @Test
  void anyInstanceAnswersTheStatusAndResultOfATaskAnotherAccepted() throws Exception {
    TaskPool a = instance("a", ranOn("a"));
    TaskPool b = instance("b", ranOn("b"));
    TaskPool c = instance("c", ranOn("c"));

    String id = accepted(a.submit(request("cat.png"), Optional.empty())).task().id();
    TaskSnapshot done = events.awaitFinal(id, WAIT);

    assertThat(done.state()).isEqualTo(TaskState.SUCCEEDED);
    for (TaskPool pool : List.of(a, b, c)) {
      TaskSnapshot seen = pool.find(id).orElseThrow();
      assertThat(seen.state()).isEqualTo(TaskState.SUCCEEDED);
      // the credentials were not written to Redis, so the task did not see them
      assertThat(body(seen)).endsWith(":cat.png").isEqualTo(body(done));
    }
    assertThat(lengthAndPending()).containsExactly(0, 0); // acknowledged and deleted
  }

  @Test
  void aTaskWhoseInstanceDiedMidTaskIsReclaimedAndCompletesOnAnother() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    TaskPool a = instance("a", request -> {
      started.countDown();
      never.await(30, TimeUnit.SECONDS); // stuck until the instance dies
      return TaskResult.of(200, "text/plain", "a".getBytes(UTF_8));
    });
    String id = accepted(a.submit(request("cat.png"), Optional.empty())).task().id();
    assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(events.await(id, t -> t.state() == TaskState.RUNNING, WAIT).state())
        .isEqualTo(TaskState.RUNNING);
    TaskPool b = instance("b", ranOn("b"));
    TaskPool c = instance("c", ranOn("c"));

    ShutdownReport died = a.shutdown(Duration.ZERO); // its consumer goes, without an XACK
    TaskSnapshot done = events.awaitFinal(id, WAIT);

    assertThat(died.abandoned()).containsExactly(id);
    assertThat(done.state()).isEqualTo(TaskState.SUCCEEDED);
    assertThat(body(done)).isIn("b:cat.png", "c:cat.png");
    assertThat(b.find(id)).isPresent();
    assertThat(c.find(id).orElseThrow().state()).isEqualTo(TaskState.SUCCEEDED);
    never.countDown();
  }

  @Test
  void aLongTaskOfALiveInstanceIsNotReclaimedWhileItsHeartbeatRuns() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch gate = new CountDownLatch(1);
    List<String> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch beats = new CountDownLatch(6);
    heartbeats = new ScheduledThreadPoolExecutor(1) {
      @Override
      protected void afterExecute(Runnable r, Throwable t) {
        beats.countDown();
      }
    };
    TaskPool a = instance("a", request -> {
      ran.add("a");
      started.countDown();
      gate.await(30, TimeUnit.SECONDS);
      return TaskResult.of(200, "text/plain", "a".getBytes(UTF_8));
    });
    String id = accepted(a.submit(request("long"), Optional.empty())).task().id();
    assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    instance("b", request -> {
      ran.add("b");
      return TaskResult.of(200, "text/plain", "b".getBytes(UTF_8));
    }); // checks for idle tasks every 150 ms

    // a beats every 100 ms (a third of reclaimAfter, 300 ms): six beats take twice reclaimAfter
    assertThat(beats.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    gate.countDown();

    assertThat(body(events.awaitFinal(id, WAIT))).isEqualTo("a");
    assertThat(ran).containsExactly("a");
    assertThat(lengthAndPending()).containsExactly(0, 0);
  }

  @Test
  void aResultExpiresWithItsTtlOnEveryInstanceAndIsThenAnsweredGone() throws Exception {
    List<TaskPool> fleet = new ArrayList<>();
    for (String name : List.of("a", "b")) { // the same configuration on every instance
      RedisTaskStore store = RedisTaskStore.builder(client).build();
      stores.add(store);
      fleet.add(TaskPool.builder("thumbs").task(ranOn(name)).resultTtl(Duration.ofSeconds(1))
          .store(store).queue(queue(name, RedisTaskStore.DEFAULT_COMMAND_TIMEOUT)).build());
    }
    pools.addAll(fleet);
    TaskPool a = fleet.get(0);
    TaskPool b = fleet.get(1);
    String id = accepted(a.submit(request("cat.png"), Optional.empty())).task().id();
    assertThat(events.awaitFinal(id, WAIT).state()).isEqualTo(TaskState.SUCCEEDED);

    events.awaitGone(id, WAIT);

    assertThat(b.find(id)).isEmpty();
    TaskSnapshot gone = b.findExpired(id).orElseThrow(); // 410, not 404
    assertThat(gone.state()).isEqualTo(TaskState.SUCCEEDED);
    assertThat(gone.result()).isEmpty();
  }

  @Test
  void anIdempotencyKeyIsSharedByTheInstancesPerOwner() throws Exception {
    TaskPool a = instance("a", ranOn("a"));
    TaskPool b = instance("b", ranOn("b"));
    TaskRequest alice = TaskRequest.builder("POST", "/api/thumbs").owner("alice")
        .body("x".getBytes(UTF_8)).build();
    TaskRequest bob = TaskRequest.builder("POST", "/api/thumbs").owner("bob")
        .body("x".getBytes(UTF_8)).build();

    TaskSubmission.Accepted first = accepted(a.submit(alice, Optional.of("k-1")));
    TaskSubmission.Accepted again = accepted(b.submit(alice, Optional.of("k-1")));
    TaskSubmission.Accepted other = accepted(b.submit(bob, Optional.of("k-1")));

    assertThat(first.repeated()).isFalse();
    assertThat(again.repeated()).isTrue();
    assertThat(again.task().id()).isEqualTo(first.task().id());
    assertThat(other.repeated()).isFalse();
    assertThat(other.task().id()).isNotEqualTo(first.task().id());
    events.awaitFinal(first.task().id(), WAIT);
    events.awaitFinal(other.task().id(), WAIT);
    assertThat(lengthAndPending()).containsExactly(0, 0); // the repeat added nothing to run
  }

  @Test
  void refusesWhenTheTasksWaitingFleetWideReachTheCapacity() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch gate = new CountDownLatch(1);
    TaskPool a = instance("a", request -> {
      started.countDown();
      gate.await(30, TimeUnit.SECONDS);
      return TaskResult.of(200, "text/plain", request.body());
    }, 1, RedisTaskStore.DEFAULT_COMMAND_TIMEOUT);
    String running = accepted(a.submit(request("1"), Optional.empty())).task().id();
    assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

    // the only worker is busy with the first task (pending): the second one waits
    String waiting = accepted(a.submit(request("2"), Optional.empty())).task().id();
    TaskSubmission third = a.submit(request("3"), Optional.empty());

    assertThat(third).isInstanceOfSatisfying(TaskSubmission.Refused.class,
        r -> assertThat(r.reason()).isEqualTo("task queue 'thumbs' is full"));
    assertThat(lengthAndPending()).containsExactly(2, 1);
    assertThat(a.depth()).isEqualTo(1);
    gate.countDown();
    assertThat(events.awaitFinal(running, WAIT).state()).isEqualTo(TaskState.SUCCEEDED);
    assertThat(events.awaitFinal(waiting, WAIT).state()).isEqualTo(TaskState.SUCCEEDED);
  }

  @Test
  void aQueuedTaskCancelledOnAnotherInstanceNeverRuns() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch gate = new CountDownLatch(1);
    List<String> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
    TaskPool a = instance("a", request -> {
      ran.add(new String(request.body(), UTF_8));
      started.countDown();
      gate.await(30, TimeUnit.SECONDS);
      return TaskResult.of(200, "text/plain", request.body());
    });
    String first = accepted(a.submit(request("1"), Optional.empty())).task().id();
    assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String second = accepted(a.submit(request("2"), Optional.empty())).task().id();
    TaskPool b = TaskPool.builder("thumbs").task(ranOn("b")).store(stores.get(0))
        .queue(RedisTaskQueue.builder(client, "thumbs").consumer("b").build()).build();
    b.shutdown(Duration.ZERO); // b only answers requests here: its workers must not take "2"

    TaskSnapshot cancelled = b.cancel(second).orElseThrow();
    gate.countDown();

    assertThat(cancelled.state()).isEqualTo(TaskState.CANCELLED);
    assertThat(events.awaitFinal(first, WAIT).state()).isEqualTo(TaskState.SUCCEEDED);
    // a's worker takes "2" next, finds it cancelled, and only acknowledges it
    assertThat(events.awaitFinal(second, WAIT).state()).isEqualTo(TaskState.CANCELLED);
    String last = accepted(a.submit(request("3"), Optional.empty())).task().id();
    assertThat(events.awaitFinal(last, WAIT).state()).isEqualTo(TaskState.SUCCEEDED);
    assertThat(ran).containsExactly("1", "3");
    assertThat(lengthAndPending()).containsExactly(0, 0);
  }

  @Test
  void redisKilledAndRestartedLosesNoAcceptedTaskAndRefusesSubmissionsWhileDown()
      throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    Task gated = request -> {
      gate.await(30, TimeUnit.SECONDS);
      return TaskResult.of(200, "text/plain", request.body());
    };
    TaskPool a = instance("a", gated, 100, Duration.ofMillis(500));
    TaskPool b = instance("b", gated, 100, Duration.ofMillis(500));
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      accepted.add(accepted((i % 2 == 0 ? a : b).submit(request("t" + i), Optional.empty()))
          .task().id());
    }

    server.kill();
    TaskSubmission duringOutage = a.submit(request("lost?"), Optional.empty());
    server.restart();
    events.enable();
    gate.countDown();

    assertThat(duringOutage).isInstanceOfSatisfying(TaskSubmission.Refused.class,
        r -> assertThat(r.reason()).isIn("the task store is unavailable",
            "the task queue is unavailable"));
    for (String id : accepted) {
      TaskSnapshot done = events.awaitFinal(id, WAIT);
      assertThat(done.state()).isEqualTo(TaskState.SUCCEEDED);
    }
    assertThat(accepted).extracting(id -> body(observer.get(id).orElseThrow()))
        .containsExactly("t0", "t1", "t2", "t3");
    assertThat(registry.find("offload.redis.commands").tag("outcome", "timeout").counters()
        .stream().mapToDouble(m -> m.count()).sum()
        + registry.find("offload.redis.commands").tag("outcome", "error").counters()
        .stream().mapToDouble(m -> m.count()).sum()).isPositive();
    // new submissions are accepted again and run
    String after = accepted(b.submit(request("after"), Optional.empty())).task().id();
    assertThat(body(events.awaitFinal(after, WAIT))).isEqualTo("after");
  }
}
