package dev.offload.http;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Decision;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.http.internal.Problem;
import java.io.IOException;

/**
 * Executes {@link Decision.Offload} decisions: accepts the request for later work (typically
 * {@code 202 Accepted} with a status {@code Location}) and answers the exchange. The async
 * capability provides implementations; until then {@link #unavailable()} is the default.
 *
 * <pre>{@code
 * OffloadExecutor executor = OffloadExecutor.builder(router)
 *     .offloadHandler((offload, request, exchange) -> {
 *       String id = queue.submit(offload.queue(), request); // reads the body if it needs it
 *       offload.handle().onSuccess();
 *       exchange.startResponse(202, Headers.of("Location", "/tasks/" + id), 0);
 *       exchange.responseBody().close();
 *     })
 *     .build();
 * }</pre>
 *
 * <p>Contract: answer {@code exchange} and complete {@code offload.handle()} exactly once. If
 * the handler returns without completing the handle, the executor completes it as dropped; if it
 * throws, the executor completes it as failed, logs, and answers 500 (or aborts the exchange when
 * the response had started). Implementations are shared across threads and must be thread-safe.
 */
@FunctionalInterface
public interface OffloadHandler {
  /**
   * Accepts {@code request} for the queue or pool {@code offload.queue()} and answers.
   *
   * @param offload the offload
   * @param request the request
   * @param exchange the exchange
   * @throws IOException if an I/O error occurs
   */
  void handle(Decision.Offload offload, OffloadRequest request, ServerExchange exchange)
      throws IOException;

  /**
   * Returns the default handler: answers {@code 503} with a problem body "no offload handler
   * configured" and completes the handle as dropped.
   *
   * @return the default handler: answers {@code 503} with a problem body "no offload handler
   *     configured" and completes the handle as dropped
   */
  static OffloadHandler unavailable() {
    return (offload, request, exchange) -> {
      requireNonNull(offload, "offload").handle().onDropped();
      Problem.send(exchange, 503, "no offload handler configured", Headers.empty());
    };
  }
}
