package dev.offload.core;

import java.util.Optional;

/**
 * Where the response that executing a decision produces is copied to, attached to the decision's
 * {@link DecisionHandle} ({@link DecisionHandle#fillResponse}): how an edge cache fills from a
 * backend's answer, or from the host's own handler on a pass-through, without a second request.
 *
 * <p>The executor calls exactly one of {@link #onResponse} (with the head: status, the header
 * fields the origin sent, before any the decision adds, and the body length; then the body goes
 * to the returned {@link BodySink}, which ends with exactly one of {@code complete()} or {@code
 * abort()}) or {@link #onNoResponse()} (no response head came from the origin: a connect failure,
 * a handler that threw, a response the gateway answered itself). A truncated body ends in {@code
 * abort()} and must never be kept.
 *
 * <pre>{@code
 * handle.fillResponse((status, headers, contentLength) ->
 *     status == 200 ? new KeepingSink(maxBytes) : BodySink.NONE);
 * }</pre>
 *
 * <p>Called on the request's thread; must not block or throw.
 */
@FunctionalInterface
public interface ResponseFill {
  /** Fills nothing. */
  ResponseFill NONE = (status, headers, contentLength) -> BodySink.NONE;

  /**
   * Returns where the body of the response should be copied, or {@link BodySink#NONE}.
   *
   * @param status the status the origin answered
   * @param headers the origin's header fields (after the proxy's hop-by-hop rules)
   * @param contentLength the body length, or -1 when unknown (chunked)
   * @return where the body of the response should be copied, or {@link BodySink#NONE}
   */
  BodySink onResponse(int status, Headers headers, long contentLength);

  /** No response head reached this fill; releases what it holds. Does nothing by default. */
  default void onNoResponse() {}

  /**
   * The origin failed before anything was sent to the client: it answered {@code status} (a
   * 5xx), or nothing ({@link Completion#NO_STATUS}: it could not be reached, timed out, or sent
   * no valid response). Returns a response to answer with instead, such as a stale stored
   * response that {@code stale-if-error} allows, or empty to let the failure through (the
   * default). A fill answered here is then ended with {@link #onNoResponse()}. Only the
   * forwarder asks; a pass-through has written its answer already.
   *
   * @param status the HTTP status code
   * @return the stored response to answer with instead, or empty to relay the failure
   */
  default Optional<CachedResponse> onOriginFailure(int status) {
    return Optional.empty();
  }

  /**
   * The origin answered 304 to the conditional fields the decision set on the forwarded request
   * ({@link DecisionHandle#setRequestHeaders}), with {@code headers}. Returns the response to
   * answer the client with instead (the stored response, freshened by these fields), or empty to
   * relay the 304 (the default). A fill answered here is then ended with {@link
   * #onNoResponse()}. Only the forwarder asks, before anything was sent to the client.
   *
   * @param headers the header fields
   * @return the refreshed stored response to answer with, or empty to relay the 304
   */
  default Optional<CachedResponse> onNotModified(Headers headers) {
    return Optional.empty();
  }
}
