package dev.offload.core.async;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Decision;
import dev.offload.core.Explanation;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.testing.FakeTicker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link AsyncTaskStrategy#to(TaskPool)} and the status route, decided by a router. */
class AsyncTaskStrategyTest {
  private final FakeTicker ticker = new FakeTicker();
  private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final TaskPool pool = TaskPool.builder("thumbs")
      .task(request -> TaskResult.of(200, "text/plain", request.body()))
      .executor(pending::add).queueCapacity(1).ticker(ticker).meterRegistry(registry).build();
  private final OffloadRouter router = OffloadRouter.builder()
      .ticker(ticker)
      .route("thumbs", Route.post("/api/thumbs"), AsyncTaskStrategy.to(pool))
      .route("tasks", Route.prefix("/offload/tasks"), AsyncTaskStrategy.statusEndpoint())
      .build();
  private final OffloadRequest post = OffloadRequest.post("/api/thumbs").build();

  @Test
  void decisionHoldsAQueuePlaceUntilItsHandleCompletes() {
    Decision first = router.decide(post);
    assertThat(first).isInstanceOf(Decision.Offload.class);
    assertThat(((Decision.Offload) first).queue()).isEqualTo("thumbs");

    Decision second = router.decide(post);
    assertThat(second).isInstanceOf(Decision.Reject.class);
    Decision.Reject full = (Decision.Reject) second;
    assertThat(full.status()).isEqualTo(503);
    assertThat(full.headers().first("Retry-After")).hasValue("1");
    assertThat(registry.get("offload.tasks.rejected").tag("reason", "full").counter().count())
        .isEqualTo(1);

    ((Decision.Offload) first).handle().onDropped(); // the executor gave the place back
    assertThat(router.decide(post)).isInstanceOf(Decision.Offload.class);
  }

  @Test
  void aSubmittedTaskKeepsItsPlaceAfterTheHandleCompletes() {
    Decision.Offload offload = (Decision.Offload) router.decide(post);
    pool.submit(TaskRequest.builder("POST", "/api/thumbs").build(), Optional.empty());
    offload.handle().onSuccess();

    assertThat(router.decide(post)).isInstanceOf(Decision.Reject.class);
  }

  @Test
  void explainShowsDepthAndWhyWithoutHoldingAPlace() {
    Explanation explained = router.explain(post);

    assertThat(explained.decision()).isInstanceOf(Decision.Offload.class);
    assertThat(explained.inputs()).containsEntry("queue.depth", "0")
        .containsEntry("queue.capacity", "1")
        .containsEntry("why", "accepted: the queue has room");
    assertThat(router.decide(post)).isInstanceOf(Decision.Offload.class); // explain held nothing
    assertThat(router.explain(post).inputs())
        .containsEntry("why", "refused: the queue is full");
    assertThat(registry.find("offload.tasks.rejected").counter()).isNull(); // explain counts none
  }

  @Test
  void statusPathsAreOffloadedToTheStatusQueue() {
    Decision decision = router.decide(OffloadRequest.get("/offload/tasks/abc").build());

    assertThat(decision).isInstanceOf(Decision.Offload.class);
    assertThat(((Decision.Offload) decision).queue()).isEqualTo(AsyncTaskStrategy.STATUS_QUEUE);
  }

  @Test
  void idlePoolWithInlineOnDecidesInlineUnlessTheClientPrefersAsync() {
    TaskPool inlinePool = TaskPool.builder("inline")
        .task(request -> TaskResult.of(200, "text/plain", request.body()))
        .executor(pending::add).inlineWhenIdle(Duration.ofSeconds(5)).ticker(ticker).build();
    OffloadRouter inlineRouter = OffloadRouter.builder().ticker(ticker)
        .route(Route.post("/api/thumbs"), AsyncTaskStrategy.to(inlinePool)).build();
    OffloadRequest preferAsync = OffloadRequest.post("/api/thumbs")
        .header("Prefer", "respond-async; x=y").build();

    assertThat(inlineRouter.explain(post).inputs()).containsEntry("why",
        "inline: the pool is idle and the client did not ask for respond-async");
    Decision.Offload inline = (Decision.Offload) inlineRouter.decide(post);
    Decision.Offload async = (Decision.Offload) inlineRouter.decide(preferAsync);

    assertThat(inline.handle().attributes()).containsEntry(TaskPool.INLINE, true);
    assertThat(async.handle().attributes()).doesNotContainKey(TaskPool.INLINE);
    assertThat(((Decision.Offload) router.decide(post)).handle().attributes())
        .doesNotContainKey(TaskPool.INLINE); // off by default
  }
}
