package dev.offload.http.forward;

import dev.offload.core.BodySink;
import dev.offload.core.Headers;

/**
 * Sees the responses the forwarder relays, as they are relayed: the place where an edge cache
 * fills from a backend's answer without a second request. The forwarder calls {@link #onResponse}
 * with the head of each response it is about to relay; the returned {@link BodySink} (the same
 * sink a decision's {@link dev.offload.core.ResponseFill} hands out) receives a
 * copy of each chunk of the body as it is written to the client, then exactly one of {@link
 * BodySink#complete()} (the body ended as its framing said, and the client got all of it) or
 * {@link BodySink#abort()} (it was cut short, by either side: discard what you kept). The
 * forwarder never buffers for an observer: a sink that wants the whole body keeps it itself, and
 * should stop keeping it past its own limit.
 *
 * <pre>{@code
 * ResponseObserver fill = (request, status, headers, contentLength) ->
 *     status == 200 && contentLength <= 1 << 20 ? cache.sinkFor(request, headers) : BodySink.NONE;
 * Forwarder.builder().responseObserver(fill)...
 * }</pre>
 *
 * <p>Called on the request's thread; must not block or throw (a throwing observer is logged and
 * ignored for the rest of that response). Thread-safe: shared by all requests.
 */
@FunctionalInterface
public interface ResponseObserver {
  /** Observes nothing. */
  ResponseObserver NONE = (request, status, headers, contentLength) -> BodySink.NONE;

  /**
   * Returns where the body of this response should be copied, or {@link BodySink#NONE}.
   *
   * @param request what was sent
   * @param status the status relayed
   * @param headers the response header fields relayed to the client (after the proxy rules)
   * @param contentLength the body length, or -1 when unknown (chunked)
   * @return where the body of this response should be copied, or {@link BodySink#NONE}
   */
  BodySink onResponse(OutgoingRequest request, int status, Headers headers, long contentLength);
}
