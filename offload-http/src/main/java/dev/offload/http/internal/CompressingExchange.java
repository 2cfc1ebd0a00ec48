package dev.offload.http.internal;

import dev.offload.core.Headers;
import dev.offload.http.Compression;
import dev.offload.http.ServerExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * An exchange that gzips its response when {@link Compression#compresses} says so, streaming
 * (sync-flushed on every {@code flush()}, so a relayed stream is not held back). Used by one
 * request's threads in turn, not concurrently.
 */
public final class CompressingExchange extends ForwardingExchange {
  private final Compression compression;
  private final boolean clientAcceptsGzip;
  private boolean compressing;
  private OutputStream body;

  /**
   * Wraps {@code delegate}.
   *
   * @param delegate the server's exchange
   * @param compression the rules
   * @param clientAcceptsGzip whether the request's {@code Accept-Encoding} accepts gzip
   */
  public CompressingExchange(ServerExchange delegate, Compression compression,
      boolean clientAcceptsGzip) {
    super(delegate);
    this.compression = compression;
    this.clientAcceptsGzip = clientAcceptsGzip;
  }

  @Override
  public void startResponse(int status, Headers headers, long contentLength) throws IOException {
    Headers.Builder out = headers.toBuilder();
    if (Compression.compressibleType(headers) && !headers.contains("Content-Encoding")) {
      boolean varies = false;
      for (String v : headers.all("Vary")) {
        varies |= v.toLowerCase(java.util.Locale.ROOT).contains("accept-encoding")
            || v.strip().equals("*");
      }
      if (!varies) {
        out.add("Vary", "Accept-Encoding");
      }
    }
    if (clientAcceptsGzip && compression.compresses(status, headers, contentLength)) {
      compressing = true;
      out.remove("Content-Length").set("Content-Encoding", "gzip");
      String etag = headers.first("ETag").orElse(null);
      if (etag != null && etag.startsWith("\"") && etag.endsWith("\"") && etag.length() >= 2) {
        out.set("ETag", etag.substring(0, etag.length() - 1) + "-gzip\"");
      }
      delegate.startResponse(status, out.build(), -1);
      return;
    }
    delegate.startResponse(status, out.build(), contentLength);
  }

  @Override
  public OutputStream responseBody() throws IOException {
    if (!compressing) {
      return delegate.responseBody();
    }
    if (body == null) {
      int level = compression.level();
      body = new GZIPOutputStream(delegate.responseBody(), 8192, true) {
        {
          def.setLevel(level);
        }
      };
    }
    return body;
  }
}
