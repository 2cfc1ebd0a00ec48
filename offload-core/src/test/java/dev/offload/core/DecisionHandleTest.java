package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.testing.FakeTicker;
import java.net.URI;
import java.time.Duration;
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
  private final FakeTicker ticker = new FakeTicker();

  @ParameterizedTest
  @EnumSource(Outcome.class)
  void completesOnceAndTellsTheListener(Outcome outcome) {
    List<Completion> seen = new ArrayList<>();
    DecisionHandle handle = DecisionHandle.create(ticker, seen::add);
    assertThat(handle.isCompleted()).isFalse();
    assertThat(handle.outcome()).isEmpty();
    handle.complete(outcome);
    assertThat(seen).extracting(Completion::outcome).containsExactly(outcome);
    assertThat(handle.isCompleted()).isTrue();
    assertThat(handle.outcome()).hasValue(outcome);
    assertThat(handle.completion()).hasValue(seen.get(0));
  }

  @Test
  void completionRecordCarriesFailureStatusBytesAndLatencyOnTheInjectedTicker() {
    ticker.advance(Duration.ofSeconds(5)); // the handle measures from its creation, not from 0
    List<Completion> seen = new ArrayList<>();
    DecisionHandle handle = DecisionHandle.create(ticker, seen::add);
    ticker.advance(Duration.ofMillis(250));
    handle.complete(Outcome.FAILURE, FailureKind.SERVER_ERROR, 503, 1234);
    assertThat(seen).containsExactly(
        new Completion(Outcome.FAILURE, FailureKind.SERVER_ERROR, 503, 250_000_000L, 1234));
    assertThat(seen.get(0).hasStatus()).isTrue();
    assertThat(seen.get(0).failure().blamesBackend()).isTrue();
  }

  @Test
  void convenienceCompletionsNameTheirFailureKind() {
    List<Completion> seen = new ArrayList<>();
    DecisionHandle.create(ticker, seen::add).onSuccess();
    DecisionHandle.create(ticker, seen::add).onFailure();
    DecisionHandle.create(ticker, seen::add).onDropped();
    assertThat(seen).extracting(Completion::failure)
        .containsExactly(FailureKind.NONE, FailureKind.OTHER, FailureKind.NONE);
    assertThat(seen).allSatisfy(c -> assertThat(c.hasStatus()).isFalse());
  }

  @Test
  void completionRejectsInconsistentValues() {
    assertThatThrownBy(() -> new Completion(Outcome.SUCCESS, FailureKind.RESET, 200, 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RESET");
    assertThatThrownBy(() -> new Completion(Outcome.FAILURE, FailureKind.RESET, 99, 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("99");
    assertThatThrownBy(() -> new Completion(Outcome.FAILURE, FailureKind.RESET, 0, -1, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("latencyNanos");
    assertThatThrownBy(() -> new Completion(Outcome.FAILURE, FailureKind.RESET, 0, 0, -1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bytes");
  }

  @Test
  void completingTwiceIsAnErrorThatNamesBothOutcomes() {
    AtomicInteger calls = new AtomicInteger();
    DecisionHandle handle = DecisionHandle.create(ticker, c -> calls.incrementAndGet());
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
  void tryCompleteReturnsFalseOnceCompletedAndKeepsTheFirstRecord() {
    List<Completion> seen = new ArrayList<>();
    DecisionHandle handle = DecisionHandle.create(ticker, seen::add);
    assertThat(handle.tryComplete(Outcome.SUCCESS, FailureKind.NONE, 200, 10)).isTrue();
    assertThat(handle.tryComplete(Outcome.DROPPED, FailureKind.CLIENT_GONE, 0, 0)).isFalse();
    assertThat(seen).hasSize(1);
    assertThat(handle.completion().orElseThrow().status()).isEqualTo(200);
  }

  @Test
  void tryCompleteRacingFromTwoThreadsLetsExactlyOneWin() throws Exception {
    for (int round = 0; round < 200; round++) {
      AtomicInteger calls = new AtomicInteger();
      DecisionHandle handle = DecisionHandle.create(ticker, c -> calls.incrementAndGet());
      CountDownLatch start = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<Boolean> a = pool.submit(() -> {
          start.await();
          return handle.tryComplete(Outcome.SUCCESS, FailureKind.NONE, 200, 0);
        });
        Future<Boolean> b = pool.submit(() -> {
          start.await();
          return handle.tryComplete(Outcome.FAILURE, FailureKind.READ_TIMEOUT, 504, 0);
        });
        start.countDown();
        boolean first = a.get(10, TimeUnit.SECONDS);
        boolean second = b.get(10, TimeUnit.SECONDS);
        assertThat(first ^ second).as("exactly one of two racing tryComplete calls wins").isTrue();
        assertThat(calls).hasValue(1);
        assertThat(handle.outcome()).hasValue(first ? Outcome.SUCCESS : Outcome.FAILURE);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void racingCompletionsLetExactlyOneWin() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    DecisionHandle handle = DecisionHandle.create(ticker, c -> calls.incrementAndGet());
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
  void aThrowingListenerIsContainedAndTheHandleStillCompletes() {
    DecisionHandle handle = DecisionHandle.create(ticker, c -> {
      throw new IllegalStateException("listener bug");
    });
    assertThat(handle.tryComplete(Outcome.SUCCESS, FailureKind.NONE, 200, 0)).isTrue();
    assertThat(handle.outcome()).hasValue(Outcome.SUCCESS);
  }

  @Test
  void redirectAndRejectHoldNothingWhilePassThroughHoldsAMeasuredHandle() {
    assertThat(Decision.reject(429, "slow down")).isNotInstanceOf(Decision.Holding.class);
    assertThat(new Decision.Redirect(302, URI.create("https://cdn.example.com/a"), Headers.empty()))
        .isNotInstanceOf(Decision.Holding.class);
    Backend backend = Backend.of("api", URI.create("http://127.0.0.1:9"));
    assertThat(new Decision.Forward(backend, URI.create("http://127.0.0.1:9"),
        DecisionHandle.create(ticker))).isInstanceOf(Decision.Holding.class);
  }

  @Test
  void forwardNamesOneOfTheBackendsInstances() {
    Backend backend = Backend.builder("api").instance(URI.create("http://127.0.0.1:9"))
        .instance(URI.create("http://127.0.0.1:10")).build();
    assertThat(new Decision.Forward(backend, URI.create("http://127.0.0.1:10"),
        DecisionHandle.create(ticker)).instance()).isEqualTo(URI.create("http://127.0.0.1:10"));
    assertThatThrownBy(() -> new Decision.Forward(backend, URI.create("http://evil.example"),
        DecisionHandle.create(ticker)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http://evil.example").hasMessageContaining("api");
  }

  @Test
  void rejectCarriesRepeatedHeaderFields() {
    Decision.Reject reject = Decision.reject(401, "who are you",
        Headers.of("WWW-Authenticate", "Bearer realm=\"api\"", "WWW-Authenticate", "Basic"));
    assertThat(reject.headers().all("WWW-Authenticate"))
        .containsExactly("Bearer realm=\"api\"", "Basic");
  }

  @Test
  void rejectHeadersAreCheckedWhenTheDecisionIsMade() {
    assertThatThrownBy(() -> Decision.reject(429, "slow",
        Headers.of("Retry-After", "1\r\nSet-Cookie: x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Retry-After");
    assertThatThrownBy(() -> Decision.reject(429, "slow", Headers.of("Bad Name", "1")))
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
