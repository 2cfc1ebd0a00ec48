package dev.offload.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Headers;
import dev.offload.core.async.TaskResult;
import dev.offload.core.async.TaskSnapshot;
import dev.offload.core.async.TaskState;
import dev.offload.core.testing.FakeTicker;
import dev.offload.redis.tasks.RedisTaskQueue;
import dev.offload.redis.tasks.RedisTaskStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link RedisTaskStore} against a real Redis. */
class RedisTaskStoreTest {
  private static final String ID = "AAAAAAAAAAAAAAAAAAAAAA";
  private static final String OTHER = "BBBBBBBBBBBBBBBBBBBBBB";

  private final FakeTicker ticker = new FakeTicker();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private RedisServer server;
  private RedisClient client;
  private RedisTaskStore store;

  @BeforeEach
  void start() {
    server = RedisServer.start();
    client = RedisClient.create(server.uri());
    store = RedisTaskStore.builder(client).ticker(ticker).meterRegistry(registry).build();
  }

  @AfterEach
  void stop() {
    store.close();
    client.shutdown();
    server.close();
  }

  private static TaskSnapshot queued(String id) {
    return new TaskSnapshot(id, "thumbs", Optional.of("alice"), TaskState.QUEUED,
        OptionalDouble.empty(), false, Optional.empty(), Optional.empty(), 5, 0, Long.MAX_VALUE);
  }

  private static TaskSnapshot succeeded(String id, long finishedNanos, Duration ttl) {
    TaskResult result = TaskResult.of(201, Headers.of("Content-Type", "image/png", "X-Thumb",
        "small"), new byte[] {0, (byte) 0xff, 10, 13});
    return new TaskSnapshot(id, "thumbs", Optional.of("alice"), TaskState.SUCCEEDED,
        OptionalDouble.of(1), false, Optional.of(result), Optional.empty(), 5, finishedNanos,
        finishedNanos + ttl.toNanos());
  }

  private long pttl(String key) {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      return c.sync().pttl(key);
    }
  }

  @Test
  void keepsASnapshotWithItsBinaryResultAndHeadersAsItWasPut() {
    TaskSnapshot task = succeeded(ID, 10, Duration.ofMinutes(5));

    store.put(task);

    TaskSnapshot read = store.get(ID).orElseThrow();
    assertThat(read).usingRecursiveComparison().ignoringFields("result").isEqualTo(task);
    assertThat(read.result()).isEqualTo(task.result());
    assertThat(registry.get("offload.redis.commands").tag("operation", "task.get")
        .tag("outcome", "success").counter().count()).isEqualTo(1);
  }

  @Test
  void aTaskThatIsNotFinalNeverExpiresAndAFinalOneExpiresWithItsResultTtl() {
    store.put(queued(ID));
    assertThat(pttl("offload:tasks:task:" + ID)).isEqualTo(-1); // no expiry

    ticker.advance(Duration.ofSeconds(2));
    // finished 1 s ago (on the pool's ticker) with a 10 s TTL: 9 s are left in Redis
    store.put(succeeded(ID, ticker.read() - Duration.ofSeconds(1).toNanos(),
        Duration.ofSeconds(10)));

    assertThat(pttl("offload:tasks:task:" + ID)).isBetween(8_000L, 9_000L);
    assertThat(pttl("offload:tasks:gone:" + ID))
        .isBetween(8_000L + Duration.ofHours(1).toMillis() - 1_000, 9_000L
            + Duration.ofHours(1).toMillis());
  }

  @Test
  void anExpiredTaskIsRememberedWithoutItsResultForGoneAnswers() throws Exception {
    try (TaskKeyEvents events = new TaskKeyEvents(client, store)) {
      store.put(succeeded(ID, ticker.read(), Duration.ofMillis(500)));
      assertThat(store.expired(ID)).isEmpty(); // still live

      events.awaitGone(ID, Duration.ofSeconds(10));

      TaskSnapshot gone = store.expired(ID).orElseThrow();
      assertThat(gone.state()).isEqualTo(TaskState.SUCCEEDED);
      assertThat(gone.result()).isEmpty();
      assertThat(store.expired(OTHER)).isEmpty();
    }
  }

  @Test
  void theFirstClaimOfAnIdempotencyKeyWinsAcrossStores() {
    try (RedisTaskStore other = RedisTaskStore.builder(client).build()) {
      store.put(queued(ID));
      assertThat(store.claimKey("thumbs\nalice\nk1", ID)).isEmpty();
      assertThat(store.claimKey("thumbs\nalice\nk1", ID)).isEmpty(); // the holder again

      assertThat(other.claimKey("thumbs\nalice\nk1", OTHER)).contains(ID);
      other.releaseKey("thumbs\nalice\nk1", OTHER); // not the holder: no effect
      assertThat(other.claimKey("thumbs\nalice\nk1", OTHER)).contains(ID);

      store.releaseKey("thumbs\nalice\nk1", ID);
      assertThat(other.claimKey("thumbs\nalice\nk1", OTHER)).isEmpty();
    }
  }

  @Test
  void aKeyWhoseTaskIsNeitherKeptNorRememberedIsClaimedAnew() {
    assertThat(store.claimKey("thumbs\n\nk1", ID)).isEmpty(); // ID was never stored

    assertThat(store.claimKey("thumbs\n\nk1", OTHER)).isEmpty();
    store.put(queued(OTHER));
    assertThat(store.claimKey("thumbs\n\nk1", ID)).contains(OTHER);
  }

  @Test
  void clientKeysNeverBecomeRedisKeys() {
    store.claimKey("thumbs\nalice\n../../ \r\n*", ID);

    try (StatefulRedisConnection<String, String> c = client.connect()) {
      assertThat(c.sync().keys("offload:tasks:key:*")).singleElement().asString()
          .matches("offload:tasks:key:[0-9a-f]{64}");
    }
  }

  @Test
  void aMalformedSnapshotInRedisIsTreatedAsUnknown() {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().set("offload:tasks:task:" + ID, "\u0001garbage");
    }

    assertThat(store.get(ID)).isEmpty();
  }

  @Test
  void badSettingsAreRefusedWithTheirValue() {
    assertThatThrownBy(() -> RedisTaskStore.builder(client).keyPrefix("a b"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a b'");
    assertThatThrownBy(() -> RedisTaskStore.builder(client).commandTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("commandTimeout");
    assertThatThrownBy(() -> RedisTaskQueue.builder(client, "no/slash"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'no/slash'");
    assertThatThrownBy(() -> RedisTaskQueue.builder(client, "thumbs").reclaimAfter(
        Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reclaimAfter");
  }
}
