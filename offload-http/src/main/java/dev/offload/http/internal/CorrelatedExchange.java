package dev.offload.http.internal;

import dev.offload.core.CorrelationId;
import dev.offload.core.Headers;
import dev.offload.http.CorrelationIds;
import dev.offload.http.ServerExchange;
import java.io.IOException;

/**
 * An exchange whose request carries resolved correlation ids (its headers rewritten by {@link
 * CorrelationIds#rewrite}) and whose every answer carries {@code X-Request-Id}. Resolved on first
 * use; when the request's headers cannot be read, a generated id still answers. Used by one
 * request's threads in turn, not concurrently.
 */
public final class CorrelatedExchange extends ForwardingExchange {
  private final CorrelationIds ids;
  private final boolean trustedPeer;
  private Headers headers;
  private CorrelationId id;

  /**
   * Wraps {@code delegate}.
   *
   * @param delegate the server's exchange
   * @param ids the rules
   * @param trustedPeer whether the peer is a trusted proxy
   */
  public CorrelatedExchange(ServerExchange delegate, CorrelationIds ids, boolean trustedPeer) {
    super(delegate);
    this.ids = ids;
    this.trustedPeer = trustedPeer;
  }

  /**
   * Returns this request's ids.
   *
   * @return the ids, resolved on first call
   */
  public CorrelationId id() {
    if (id == null) {
      try {
        requestHeaders();
      } catch (IllegalArgumentException e) { // unreadable headers: answered 400, with an id
        id = ids.resolve(false, Headers.empty());
      }
    }
    return id;
  }

  @Override
  public Headers requestHeaders() {
    if (headers == null) {
      Headers received = delegate.requestHeaders();
      id = ids.resolve(trustedPeer, received);
      headers = ids.rewrite(received, id);
    }
    return headers;
  }

  @Override
  public void startResponse(int status, Headers responseHeaders, long contentLength)
      throws IOException {
    delegate.startResponse(status,
        responseHeaders.toBuilder().set(CorrelationIds.REQUEST_ID, id().requestId()).build(),
        contentLength);
  }
}
