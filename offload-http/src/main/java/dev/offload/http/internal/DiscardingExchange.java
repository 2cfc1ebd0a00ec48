package dev.offload.http.internal;

import dev.offload.core.Headers;
import dev.offload.http.ServerExchange;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * An exchange whose answer nobody reads: the request's line and fields copied from a client's
 * exchange (no body), the response discarded. A background refresh forwards through it so that
 * the decision's fill sees the backend's answer after the client was already answered.
 */
public final class DiscardingExchange implements ServerExchange {
  private final String method;
  private final String target;
  private final String protocol;
  private final Headers headers;
  private final InetSocketAddress remote;
  private final boolean secure;

  /** Copies what the forwarder reads from {@code client}, now, while it is still open. */
  public DiscardingExchange(ServerExchange client, Headers headers) {
    this.method = client.method();
    this.target = client.requestTarget();
    this.protocol = client.protocol();
    this.headers = headers;
    this.remote = client.remoteAddress();
    this.secure = client.isSecure();
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public String requestTarget() {
    return target;
  }

  @Override
  public String protocol() {
    return protocol;
  }

  @Override
  public Headers requestHeaders() {
    return headers;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return remote;
  }

  @Override
  public boolean isSecure() {
    return secure;
  }

  @Override
  public InputStream requestBody() {
    return InputStream.nullInputStream();
  }

  @Override
  public void startResponse(int status, Headers headers, long contentLength) {}

  @Override
  public OutputStream responseBody() {
    return OutputStream.nullOutputStream();
  }

  @Override
  public void abort() {}
}
