package dev.offload.http;

import static java.util.Objects.requireNonNull;

import dev.offload.core.OffloadRouter;
import java.io.IOException;

/**
 * Decides each exchange with an {@link OffloadRouter} and executes the decision: the one
 * server-agnostic executor that every adapter shares. (Stub: being implemented.)
 */
public final class OffloadExecutor {
  private final OffloadRouter router;

  private OffloadExecutor(OffloadRouter router) {
    this.router = router;
  }

  /** Returns an executor with default settings. */
  public static OffloadExecutor of(OffloadRouter router) {
    return new OffloadExecutor(requireNonNull(router, "router"));
  }

  /**
   * Decides {@code exchange} and, unless the decision is to pass through, answers it.
   *
   * @return true when the decision is {@code PassThrough}: nothing was written and the adapter
   *     must now call the host's own handler; false when the exchange was answered
   */
  public boolean execute(ServerExchange exchange) throws IOException {
    throw new UnsupportedOperationException("not implemented yet: " + router);
  }
}
