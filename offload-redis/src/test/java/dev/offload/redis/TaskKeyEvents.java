package dev.offload.redis;

import static org.assertj.core.api.Assertions.fail;

import dev.offload.core.async.TaskSnapshot;
import dev.offload.core.async.TaskStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Waits for task keys to change without sleeping: Redis keyspace notifications on {@code
 * offload:tasks:task:*} wake the waiter, which then reads the task through the store. Every wait
 * is bounded.
 */
final class TaskKeyEvents implements AutoCloseable {
  private final RedisClient client;
  private final TaskStore store;
  private final StatefulRedisPubSubConnection<String, String> pubSub;
  private final AtomicLong events = new AtomicLong();
  private final Object monitor = new Object();

  TaskKeyEvents(RedisClient client, TaskStore store) {
    this.client = client;
    this.store = store;
    enable();
    this.pubSub = client.connectPubSub();
    pubSub.addListener(new RedisPubSubAdapter<>() {
      @Override
      public void message(String pattern, String channel, String message) {
        events.incrementAndGet();
        synchronized (monitor) {
          monitor.notifyAll();
        }
      }
    });
    pubSub.sync().psubscribe("__keyspace@0__:offload:tasks:task:*");
  }

  /** Turns keyspace events on (again, after a restart: the setting is not persisted). */
  void enable() {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().configSet("notify-keyspace-events", "KA");
    }
  }

  /** Waits until the task's snapshot matches {@code condition}; returns it. */
  TaskSnapshot await(String id, Predicate<TaskSnapshot> condition, Duration timeout)
      throws InterruptedException {
    Optional<TaskSnapshot> found = awaitOptional(id, t -> t.isPresent()
        && condition.test(t.get()), timeout);
    return found.orElseThrow();
  }

  /** Waits until the task is final; returns its snapshot. */
  TaskSnapshot awaitFinal(String id, Duration timeout) throws InterruptedException {
    return await(id, t -> t.state().isFinal(), timeout);
  }

  /** Waits until the store no longer has the task (its TTL ran out). */
  void awaitGone(String id, Duration timeout) throws InterruptedException {
    awaitOptional(id, Optional::isEmpty, timeout);
  }

  private Optional<TaskSnapshot> awaitOptional(String id,
      Predicate<Optional<TaskSnapshot>> condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long seen = events.get();
      Optional<TaskSnapshot> task = store.get(id);
      if (condition.test(task)) {
        return task;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return fail("task " + id + " did not reach the expected state in " + timeout
            + "; it is " + task);
      }
      synchronized (monitor) {
        if (events.get() == seen) {
          monitor.wait(Math.max(1, left / 1_000_000));
        }
      }
    }
  }

  @Override
  public void close() {
    pubSub.close();
  }
}
