package dev.offload.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.async.TaskQueue;
import dev.offload.core.async.TaskRequest;
import dev.offload.redis.tasks.RedisTaskQueue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link RedisTaskQueue} on its own, against a real Redis. */
class RedisTaskQueueTest {
  private static final Duration POLL = Duration.ofMillis(200);
  private static final String STREAM = "offload:tasks:queue:thumbs";

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private RedisServer server;
  private RedisClient client;
  private RedisTaskQueue a;
  private RedisTaskQueue b;

  @BeforeEach
  void start() {
    server = RedisServer.start();
    client = RedisClient.create(server.uri());
    a = RedisTaskQueue.builder(client, "thumbs").consumer("a").meterRegistry(registry).build();
    b = RedisTaskQueue.builder(client, "thumbs").consumer("b").build();
  }

  @AfterEach
  void stop() {
    a.close();
    b.close();
    client.shutdown();
    server.close();
  }

  private static TaskQueue.QueuedTask task(String id, String body) {
    return new TaskQueue.QueuedTask(id, "thumbs", TaskRequest.builder("POST", "/api/thumbs")
        .query("size=small").header("Content-Type", "image/png").header("Cookie", "s=1")
        .owner("alice").body(body.getBytes(UTF_8)).build(), Optional.of("key-1"));
  }

  private long length() {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      return c.sync().xlen(STREAM);
    }
  }

  @Test
  void aTaskIsDeliveredOnceWithItsRequestAndGoneFromTheStreamOnceAcknowledged()
      throws Exception {
    assertThat(a.offer(task("t1", "png bytes"), 10)).isEmpty();

    TaskQueue.Delivery delivery = a.poll(POLL).orElseThrow();
    assertThat(b.poll(POLL)).isEmpty(); // one consumer group: delivered once

    TaskRequest request = delivery.task().request();
    assertThat(delivery.task().id()).isEqualTo("t1");
    assertThat(delivery.reclaimed()).isFalse();
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.path()).isEqualTo("/api/thumbs");
    assertThat(request.query()).contains("size=small");
    assertThat(request.header("Content-Type")).contains("image/png");
    assertThat(request.header("Cookie")).isEmpty(); // a credential: not written to Redis
    assertThat(request.owner()).contains("alice");
    assertThat(new String(request.body(), UTF_8)).isEqualTo("png bytes");
    assertThat(delivery.task().idempotencyKey()).contains("key-1");
    assertThat(length()).isEqualTo(1);
    a.ack(delivery);
    assertThat(length()).isZero();
    assertThat(registry.get("offload.redis.commands").tag("operation", "queue.offer")
        .tag("outcome", "success").counter().count()).isEqualTo(1);
  }

  @Test
  void aReleasedDeliveryIsTakenAgainByTheNextPollWhileThisInstanceHoldsIt() throws Exception {
    a.offer(task("t1", "x"), 10);
    TaskQueue.Delivery first = a.poll(POLL).orElseThrow();

    a.release(first);
    TaskQueue.Delivery again = a.poll(POLL).orElseThrow();

    assertThat(again.receipt()).isEqualTo(first.receipt());
    assertThat(again.reclaimed()).isTrue();
    a.ack(again);
    a.release(again); // released after its ack: nothing left to take
    assertThat(a.poll(POLL)).isEmpty();
  }

  @Test
  void aDeliveryAnotherInstanceReclaimedIsNotTakenAgainAfterItsRelease() throws Exception {
    RedisTaskQueue fast = RedisTaskQueue.builder(client, "thumbs").consumer("fast")
        .reclaimAfter(Duration.ofMillis(1)).build();
    try {
      a.offer(task("t1", "x"), 10);
      TaskQueue.Delivery first = a.poll(POLL).orElseThrow();
      // "fast" reclaims what has been idle for 1 ms: the task "a" holds
      TaskQueue.Delivery reclaimed = pollUntilPresent(fast);

      a.release(first);

      assertThat(reclaimed.receipt()).isEqualTo(first.receipt());
      assertThat(reclaimed.reclaimed()).isTrue();
      assertThat(a.poll(POLL)).isEmpty();
    } finally {
      fast.close();
    }
  }

  /**
   * Polls until the queue reclaims something, at most 50 times: each poll that reclaims nothing
   * blocks for {@link #POLL} in its read, so the entry is idle long enough by the next one.
   */
  private static TaskQueue.Delivery pollUntilPresent(RedisTaskQueue queue) throws Exception {
    for (int i = 0; i < 50; i++) {
      queue.reclaimNow();
      Optional<TaskQueue.Delivery> delivery = queue.poll(POLL);
      if (delivery.isPresent()) {
        return delivery.get();
      }
    }
    throw new AssertionError("nothing reclaimed in 50 polls");
  }

  @Test
  void refusesATaskOnceTheTasksWaitingReachTheCapacity() {
    assertThat(a.offer(task("t1", "x"), 2)).isEmpty();
    assertThat(a.offer(task("t2", "x"), 2)).isEmpty();

    Optional<TaskQueue.Refusal> refusal = b.offer(task("t3", "x"), 2);

    assertThat(refusal).hasValueSatisfying(r -> {
      assertThat(r.full()).isTrue();
      assertThat(r.reason()).isEqualTo("task queue 'thumbs' is full");
    });
    assertThat(b.depth()).isEqualTo(2);
    assertThat(length()).isEqualTo(2);
  }

  @Test
  void anEntryThatIsNotATaskIsDroppedNotDeliveredForever() throws Exception {
    a.offer(task("t0", "x"), 10); // creates the group
    a.ack(a.poll(POLL).orElseThrow());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().xadd(STREAM, "id", "t1", "task", "not a task");
    }

    assertThat(a.poll(POLL)).isEmpty();

    assertThat(length()).isZero();
  }
}
