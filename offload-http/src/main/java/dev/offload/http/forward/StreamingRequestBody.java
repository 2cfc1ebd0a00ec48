package dev.offload.http.forward;

import dev.offload.core.OffloadRequest;
import java.io.IOException;
import java.io.InputStream;
import okhttp3.MediaType;
import okhttp3.RequestBody;
import okio.BufferedSink;

/**
 * Streams the client's request body to the backend through a fixed buffer, counting it against
 * the limit. Records why it failed, so the forwarder can tell a client problem (too large, gone
 * mid-upload) from a backend one. One-shot; used by one thread.
 */
final class StreamingRequestBody extends RequestBody {
  /** Thrown when the body crosses the limit while streaming. */
  static final class TooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    TooLargeException(long limit) {
      super("request body exceeds " + limit + " bytes");
    }
  }

  private final OffloadRequest request;
  private final long contentLength;
  private final long limit;
  private volatile boolean tooLarge;
  private volatile boolean clientFailed;

  StreamingRequestBody(OffloadRequest request, long contentLength, long limit) {
    this.request = request;
    this.contentLength = contentLength;
    this.limit = limit;
  }

  @Override
  public MediaType contentType() {
    return null; // the client's Content-Type header is forwarded as is
  }

  @Override
  public long contentLength() {
    return contentLength;
  }

  @Override
  public boolean isOneShot() {
    return true;
  }

  boolean tooLarge() {
    return tooLarge;
  }

  boolean clientFailed() {
    return clientFailed;
  }

  @Override
  public void writeTo(BufferedSink sink) throws IOException {
    if (contentLength == 0) {
      return;
    }
    byte[] buffer = new byte[16 * 1024];
    long total = 0;
    InputStream in;
    try {
      in = request.body().open();
    } catch (IOException e) {
      clientFailed = true;
      throw e;
    }
    try (in) {
      while (true) {
        int n;
        try {
          n = in.read(buffer);
        } catch (IOException e) {
          clientFailed = true;
          throw e;
        }
        if (n < 0) {
          break;
        }
        total += n;
        if (total > limit) {
          tooLarge = true;
          throw new TooLargeException(limit);
        }
        sink.write(buffer, 0, n);
        if (contentLength >= 0 && total == contentLength) {
          break;
        }
      }
    }
    if (contentLength >= 0 && total != contentLength) {
      clientFailed = true; // the client ended its body early
      throw new IOException("client sent " + total + " of " + contentLength + " body bytes");
    }
  }
}
