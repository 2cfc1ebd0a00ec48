package dev.offload.http.internal;

import dev.offload.core.Headers;
import dev.offload.http.ServerExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * Delegates to an exchange, remembers whether the response was started, and sets the decision's
 * response headers over the handler's. Not thread-safe.
 */
public final class TrackingExchange implements ServerExchange {
  private final ServerExchange delegate;
  private final Headers overrides;
  private boolean started;

  /** Tracks {@code delegate}; {@code overrides} replace same-named fields of the response. */
  public TrackingExchange(ServerExchange delegate, Headers overrides) {
    this.delegate = delegate;
    this.overrides = overrides;
  }

  /** Returns whether {@link #startResponse} was called. */
  public boolean started() {
    return started;
  }

  @Override
  public String method() {
    return delegate.method();
  }

  @Override
  public String requestTarget() {
    return delegate.requestTarget();
  }

  @Override
  public String protocol() {
    return delegate.protocol();
  }

  @Override
  public Headers requestHeaders() {
    return delegate.requestHeaders();
  }

  @Override
  public void setAttribute(String name, Object value) {
    delegate.setAttribute(name, value);
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return delegate.remoteAddress();
  }

  @Override
  public boolean isSecure() {
    return delegate.isSecure();
  }

  @Override
  public InputStream requestBody() throws IOException {
    return delegate.requestBody();
  }

  @Override
  public void startResponse(int status, Headers headers, long contentLength) throws IOException {
    started = true;
    delegate.startResponse(status, headers.overriddenBy(overrides), contentLength);
  }

  @Override
  public OutputStream responseBody() throws IOException {
    return delegate.responseBody();
  }

  @Override
  public void abort() {
    delegate.abort();
  }
}
