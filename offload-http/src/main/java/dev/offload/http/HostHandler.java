package dev.offload.http;

import dev.offload.core.Completion;
import dev.offload.core.Headers;
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
   * Runs the host's handler on the exchange.
   *
   * @param responseHeaders fields to set on the host's response before it is committed
   * @return what the host answered
   */
  HostResponse run(Headers responseHeaders) throws IOException, E;

  /**
   * What the host's handler answered.
   *
   * @param status the status it sent, {@link Completion#NO_STATUS} when the adapter cannot tell
   * @param bytes the body bytes it wrote, 0 when the adapter cannot tell
   */
  record HostResponse(int status, long bytes) {}
}
