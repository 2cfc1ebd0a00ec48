package dev.offload.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * The deferred checks of the admitting guards, then the pending response a strategy attached (a
 * cache's coalescing), as one {@link PendingResponse} for the executor. Fails closed: a check
 * that throws or is interrupted answers 500 or 503, since the executor would otherwise execute
 * the decision.
 */
final class DeferredChecks implements PendingResponse {
  private static final System.Logger LOG = System.getLogger(DeferredChecks.class.getName());
  private static final Headers PROBLEM = Headers.of("Content-Type", "text/plain; charset=utf-8");

  private final List<DeferredCheck> checks;
  private final DecisionHandle handle;
  private final PendingResponse then;
  private volatile boolean answeredByThen;

  DeferredChecks(List<DeferredCheck> checks, DecisionHandle handle, PendingResponse then) {
    this.checks = List.copyOf(checks);
    this.handle = requireNonNull(handle, "handle");
    this.then = then;
  }

  @Override
  public Optional<CachedResponse> await() {
    for (DeferredCheck check : checks) {
      Optional<CachedResponse> answer;
      try {
        answer = requireNonNull(check.check(handle), "a deferred check returned null");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.of(refusal(503, "authorization was interrupted"));
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "a guard's deferred check threw; answering 500", e);
        return Optional.of(refusal(500, "internal error while authorizing the request"));
      }
      if (answer.isPresent()) {
        return answer;
      }
    }
    if (then == null) {
      return Optional.empty();
    }
    try {
      Optional<CachedResponse> answer = then.await();
      answeredByThen = answer.isPresent();
      return answer;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty(); // as the executor treats the strategy's own pending response
    }
  }

  @Override
  public boolean refreshInBackground() {
    return answeredByThen && then.refreshInBackground();
  }

  static CachedResponse refusal(int status, String reason) {
    return CachedResponse.of(status, PROBLEM, (reason + "\n").getBytes(UTF_8));
  }
}
