package dev.offload.core.async;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.testing.FakeTicker;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link TaskPool} with a durable {@link TaskQueue} (an in-memory stand-in for Redis here). */
class TaskPoolDurableQueueTest {
  private final FakeTicker ticker = new FakeTicker();
  private final TaskStore store = InMemoryTaskStore.builder().ticker(ticker).build();
  private final FakeQueue queue = new FakeQueue();
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stop() throws InterruptedException {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private TaskPool pool(Task task) {
    return TaskPool.builder("thumbs").task(task).ticker(ticker).store(store).queue(queue)
        .executor(threads).build();
  }

  private static TaskRequest request(String body) {
    return TaskRequest.builder("POST", "/api/thumbs").body(body.getBytes(UTF_8)).build();
  }

  @Test
  void persistsTheTaskBeforeAcceptingItAndAcknowledgesItOnlyOnceItsResultIsStored()
      throws Exception {
    TaskPool pool = pool(r -> TaskResult.of(200, "text/plain", r.body()));

    TaskSubmission submission = pool.submit(request("hello"), Optional.empty());

    assertThat(submission).isInstanceOf(TaskSubmission.Accepted.class);
    String id = ((TaskSubmission.Accepted) submission).task().id();
    assertThat(queue.offered).extracting(TaskQueue.QueuedTask::id).containsExactly(id);
    TaskSnapshot atAck = queue.firstAck.get(10, TimeUnit.SECONDS);
    assertThat(atAck.id()).isEqualTo(id);
    assertThat(atAck.state()).isEqualTo(TaskState.SUCCEEDED);
    assertThat(new String(atAck.result().orElseThrow().body(), UTF_8)).isEqualTo("hello");
    pool.shutdown(Duration.ZERO);
  }

  @Test
  void refusesWhileTheQueueIsUnreachableAndKeepsNeitherTheTaskNorItsIdempotencyKey()
      throws Exception {
    TaskPool pool = pool(r -> TaskResult.of(200, "text/plain", r.body()));
    queue.reachable = false;

    TaskSubmission refused = pool.submit(request("a"), Optional.of("k1"));

    assertThat(refused).isInstanceOfSatisfying(TaskSubmission.Refused.class,
        r -> assertThat(r.reason()).isEqualTo("the task queue is unavailable"));
    assertThat(pool.find(queue.offered.get(0).id())).isEmpty();
    queue.reachable = true;
    TaskSubmission again = pool.submit(request("a"), Optional.of("k1"));
    assertThat(again).isInstanceOfSatisfying(TaskSubmission.Accepted.class,
        a -> assertThat(a.repeated()).isFalse());
    pool.shutdown(Duration.ZERO);
  }

  @Test
  void refusesWhenTheQueueIsFullAndForgetsTheTask() throws Exception {
    TaskPool pool = pool(r -> TaskResult.of(200, "text/plain", r.body()));
    queue.full = true;

    TaskSubmission refused = pool.submit(request("a"), Optional.empty());

    assertThat(refused).isInstanceOfSatisfying(TaskSubmission.Refused.class,
        r -> assertThat(r.reason()).isEqualTo("full"));
    assertThat(queue.offered).hasSize(1);
    assertThat(pool.find(queue.offered.get(0).id())).isEmpty();
    pool.shutdown(Duration.ZERO);
  }

  @Test
  void shutdownLeavesARunningTaskUnacknowledgedForAnotherInstance() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    TaskPool pool = pool(r -> {
      started.countDown();
      release.await(10, TimeUnit.SECONDS);
      return TaskResult.of(200, "text/plain", r.body());
    });
    String id = ((TaskSubmission.Accepted) pool.submit(request("a"), Optional.empty())).task().id();
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    ShutdownReport report = pool.shutdown(Duration.ZERO);
    release.countDown();
    threads.shutdown();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();

    assertThat(report.abandoned()).containsExactly(id);
    assertThat(queue.acked).isEmpty();
    assertThat(queue.closed).isTrue();
    assertThat(store.get(id).orElseThrow().state()).isEqualTo(TaskState.RUNNING);
  }

  /** Delivers what is offered to the pool's own workers; records acknowledgements. */
  private final class FakeQueue implements TaskQueue {
    final List<QueuedTask> offered = new CopyOnWriteArrayList<>();
    final List<String> acked = new CopyOnWriteArrayList<>();
    final CompletableFuture<TaskSnapshot> firstAck = new CompletableFuture<>();
    final LinkedBlockingQueue<Delivery> ready = new LinkedBlockingQueue<>();
    volatile boolean reachable = true;
    volatile boolean full;
    volatile boolean closed;

    @Override
    public Optional<Refusal> offer(QueuedTask task, int capacity) {
      offered.add(task);
      if (!reachable) {
        throw new IllegalStateException("connection refused");
      }
      if (full) {
        return Optional.of(new Refusal("full", true));
      }
      ready.add(new Delivery(task, "1-" + offered.size(), false));
      return Optional.empty();
    }

    @Override
    public Optional<Delivery> poll(Duration maxWait) throws InterruptedException {
      return Optional.ofNullable(ready.poll(maxWait.toNanos(), TimeUnit.NANOSECONDS));
    }

    @Override
    public void ack(Delivery delivery) {
      acked.add(delivery.receipt());
      firstAck.complete(store.get(delivery.task().id()).orElseThrow());
    }

    @Override
    public int depth() {
      return ready.size();
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
