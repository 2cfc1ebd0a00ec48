package dev.offload.core.async;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Decision;
import dev.offload.core.Explanation;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.testing.FakeTicker;
import java.util.ArrayDeque;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link AsyncTaskStrategy#to(TaskPool)} and the status route, decided by a router. */
class AsyncTaskStrategyTest {
  private final FakeTicker ticker = new FakeTicker();
  private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
  private final TaskPool pool = TaskPool.builder("thumbs")
      .task(request -> TaskResult.of(200, "text/plain", request.body()))
      .executor(pending::add).queueCapacity(1).ticker(ticker).build();
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
  }

  @Test
  void statusPathsAreOffloadedToTheStatusQueue() {
    Decision decision = router.decide(OffloadRequest.get("/offload/tasks/abc").build());

    assertThat(decision).isInstanceOf(Decision.Offload.class);
    assertThat(((Decision.Offload) decision).queue()).isEqualTo(AsyncTaskStrategy.STATUS_QUEUE);
  }
}
