package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DecisionHandleTest {

  @ParameterizedTest
  @EnumSource(Outcome.class)
  void completesOnceAndTellsTheListener(Outcome outcome) {
    List<Outcome> seen = new ArrayList<>();
    DecisionHandle handle = DecisionHandle.create(seen::add);
    assertThat(handle.isCompleted()).isFalse();
    assertThat(handle.outcome()).isEmpty();
    handle.complete(outcome);
    assertThat(seen).containsExactly(outcome);
    assertThat(handle.isCompleted()).isTrue();
    assertThat(handle.outcome()).hasValue(outcome);
  }

  @Test
  void completingTwiceIsAnErrorThatNamesBothOutcomes() {
    AtomicInteger calls = new AtomicInteger();
    DecisionHandle handle = DecisionHandle.create(o -> calls.incrementAndGet());
    handle.onSuccess();
    assertThatThrownBy(handle::onDropped)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already completed with SUCCESS")
        .hasMessageContaining("DROPPED")
        .hasMessageContaining("exactly once");
    assertThat(calls).hasValue(1);
    assertThat(handle.outcome()).hasValue(Outcome.SUCCESS);
  }

  @Test
  void racingCompletionsLetExactlyOneWin() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    DecisionHandle handle = DecisionHandle.create(o -> calls.incrementAndGet());
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        results.add(pool.submit(() -> {
          start.await();
          try {
            handle.onFailure();
            return true;
          } catch (IllegalStateException e) {
            return false;
          }
        }));
      }
      start.countDown();
      int winners = 0;
      for (Future<Boolean> f : results) {
        winners += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
      }
      assertThat(winners).isEqualTo(1);
      assertThat(calls).hasValue(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void backendInFlightFollowsHandles() {
    Backend backend = Backend.of("api", URI.create("http://127.0.0.1:9"));
    DecisionHandle a = backend.acquire();
    DecisionHandle b = backend.acquire();
    assertThat(backend.inFlight()).isEqualTo(2);
    a.onSuccess();
    b.onDropped();
    assertThat(backend.inFlight()).isZero();
  }

  @Test
  void passThroughRedirectAndRejectHoldNothing() {
    assertThat(Decision.passThrough()).isNotInstanceOf(Decision.Holding.class);
    assertThat(Decision.reject(429, "slow down")).isNotInstanceOf(Decision.Holding.class);
    assertThat(new Decision.Redirect(302, URI.create("https://cdn.example.com/a"), Headers.empty()))
        .isNotInstanceOf(Decision.Holding.class);
    Backend backend = Backend.of("api", URI.create("http://127.0.0.1:9"));
    assertThat(new Decision.Forward(backend, backend.acquire())).isInstanceOf(Decision.Holding.class);
  }

  @Test
  void rejectHeadersAreCheckedWhenTheDecisionIsMade() {
    assertThatThrownBy(() -> new Decision.Reject(429, "slow", java.util.Map.of("Retry-After", "1\r\nSet-Cookie: x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Retry-After");
    assertThatThrownBy(() -> new Decision.Reject(429, "slow", java.util.Map.of("Bad Name", "1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Bad Name");
  }

  @Test
  void decisionRecordsRejectBadValues() {
    assertThatThrownBy(() -> Decision.reject(200, "ok"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("200");
    assertThatThrownBy(() -> new Decision.Redirect(200, URI.create("https://x/"), Headers.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("200");
    assertThatThrownBy(() -> new Decision.Redirect(302, URI.create("/relative"), Headers.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("absolute");
    assertThatThrownBy(() -> new Decision.Redirect(302, "https://x/a\r\nSet-Cookie: y", Headers.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("printable ASCII");
    assertThatThrownBy(() -> new Decision.Redirect(302, "//evil.example/x", Headers.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("absolute");
  }
}
