package dev.offload.http.internal;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import dev.offload.http.ServerExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * An exchange that hands every call to another; a decorator overrides only what it changes (the
 * response's head, its body, the request's fields). Thread-safety is the delegate's.
 */
public abstract class ForwardingExchange implements ServerExchange {
  /** The exchange every call not overridden goes to. */
  protected final ServerExchange delegate;

  /**
   * Forwards to {@code delegate}.
   *
   * @param delegate the exchange to forward to
   */
  protected ForwardingExchange(ServerExchange delegate) {
    this.delegate = requireNonNull(delegate, "delegate");
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

  @Override
  public void setAttribute(String name, Object value) {
    delegate.setAttribute(name, value);
  }
}
