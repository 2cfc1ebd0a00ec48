package dev.offload.http.internal;

import dev.offload.core.Headers;
import dev.offload.http.ServerExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/** Delegates to an exchange and remembers whether the response was started. Not thread-safe. */
public final class TrackingExchange implements ServerExchange {
  private final ServerExchange delegate;
  private boolean started;

  public TrackingExchange(ServerExchange delegate) {
    this.delegate = delegate;
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
    delegate.startResponse(status, headers, contentLength);
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
