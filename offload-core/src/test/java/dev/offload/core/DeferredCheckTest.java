package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.cdn.CdnStrategy;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DeferredCheckTest {
  private final AtomicInteger calls = new AtomicInteger();

  private OffloadRouter router(DeferredCheck check) {
    return OffloadRouter.builder()
        .guard("authz", (request, context) -> GuardVerdict.admit().withDeferredCheck(check))
        .route("cdn", Route.prefix("/img/"), CdnStrategy.redirectTo(URI.create("https://cdn.x")))
        .otherwise(OffloadStrategy.passThrough())
        .build();
  }

  private static PendingResponse pending(Decision decision) {
    return ((Decision.Holding) decision).handle().pendingResponse().orElseThrow();
  }

  @Test
  void theCheckRunsOnlyWhenTheExecutorAwaitsAndNeverWhileDeciding() throws Exception {
    OffloadRouter router = router(handle -> {
      calls.incrementAndGet();
      handle.setRequestHeaders(Headers.of("X-Auth-Subject", "alice"));
      return Optional.empty();
    });
    Decision decision = router.decide(OffloadRequest.get("/a").build());
    router.explain(OffloadRequest.get("/a").build());
    assertThat(calls).hasValue(0);
    assertThat(pending(decision).await()).isEmpty();
    assertThat(calls).hasValue(1);
    assertThat(((Decision.Holding) decision).handle().requestHeaders().first("X-Auth-Subject"))
        .hasValue("alice");
  }

  @Test
  void aDenialIsTheAnswer() throws Exception {
    CachedResponse denied = CachedResponse.of(403, Headers.empty(), new byte[0]);
    Decision decision = router(handle -> Optional.of(denied))
        .decide(OffloadRequest.get("/a").build());
    assertThat(pending(decision).await()).containsSame(denied);
  }

  @Test
  void aThrowingOrInterruptedCheckFailsClosed() throws Exception {
    Decision threw = router(handle -> {
      throw new IllegalStateException("boom");
    }).decide(OffloadRequest.get("/a").build());
    assertThat(pending(threw).await()).hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(500));
    Decision interrupted = router(handle -> {
      throw new InterruptedException();
    }).decide(OffloadRequest.get("/a").build());
    assertThat(pending(interrupted).await())
        .hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(503));
    assertThat(Thread.interrupted()).isTrue(); // restored, and cleared for the next test
  }

  @Test
  void aRedirectCannotWaitAndIsRefused() {
    Decision decision = router(handle -> Optional.empty())
        .decide(OffloadRequest.get("/img/a.png").build());
    assertThat(decision).isInstanceOfSatisfying(Decision.Reject.class,
        r -> assertThat(r.status()).isEqualTo(500));
  }
}
