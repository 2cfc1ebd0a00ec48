package dev.offload.http;

import dev.offload.core.Completion;
import dev.offload.core.Headers;
import dev.offload.core.ResponseFill;
import java.io.IOException;

/**
 * How an adapter runs the host's own handler when the decision is to pass through: with the
 * response headers the decision carries (set by admitting guards, such as {@code RateLimit} or a
 * request id) added to the host's response, and reporting what the host answered, so that the
 * executor can complete the pass-through's handle with the status, the bytes and the latency.
 *
 * @param <E> the checked exception the host's handler may throw besides {@link IOException}
 *     (a servlet chain's {@code ServletException}); it propagates unchanged
 */
@FunctionalInterface
public interface HostHandler<E extends Exception> {
  /**
   * Runs the host's handler on the exchange, and copies what it answers to {@code fill}: the
   * head (status, the host's own header fields without {@code responseHeaders}, the body
   * length) at its first body write or when it returns, then the body, then {@code complete()}
   * only when the handler returned normally and the body ended as framed, else {@code abort()}.
   * An adapter that cannot copy the body (a servlet writing through {@code getWriter()}) calls
   * {@code onNoResponse()} or aborts. With {@link ResponseFill#NONE} it copies nothing and stays
   * out of the host's way.
   *
   * @param responseHeaders fields to set on the host's response before it is committed
   * @param fill where to copy the host's answer (an edge cache's fill), or {@link
   * ResponseFill#NONE}
   * @return what the host answered
   * @throws IOException if an I/O error occurs
   * @throws E what the wrapped code throws, unchanged
   */
  HostResponse run(Headers responseHeaders, ResponseFill fill) throws IOException, E;

  /**
   * Runs the host's handler without copying its answer anywhere.
   *
   * @param responseHeaders the response headers
   * @throws IOException if an I/O error occurs
   * @throws E what the wrapped code throws, unchanged
   * @return what the host's handler answered
   */
  default HostResponse run(Headers responseHeaders) throws IOException, E {
    return run(responseHeaders, ResponseFill.NONE);
  }

  /**
   * What the host's handler answered.
   *
   * @param status the status it sent, {@link Completion#NO_STATUS} when the adapter cannot tell
   * @param bytes the body bytes it wrote, 0 when the adapter cannot tell
   */
  record HostResponse(int status, long bytes) {}
}
