package dev.offload.http.internal;

import dev.offload.core.Headers;
import dev.offload.http.ServerExchange;
import java.io.IOException;

/**
 * Delegates to an exchange, remembers whether the response was started, and sets the decision's
 * response headers over the handler's. Not thread-safe.
 */
public final class TrackingExchange extends ForwardingExchange {
  private final Headers overrides;
  private boolean started;

  /** Tracks {@code delegate}; {@code overrides} replace same-named fields of the response. */
  public TrackingExchange(ServerExchange delegate, Headers overrides) {
    super(delegate);
    this.overrides = overrides;
  }

  /** Returns whether {@link #startResponse} was called. */
  public boolean started() {
    return started;
  }

  @Override
  public void startResponse(int status, Headers headers, long contentLength) throws IOException {
    started = true;
    delegate.startResponse(status, headers.overriddenBy(overrides), contentLength);
  }
}
