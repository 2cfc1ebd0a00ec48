package dev.offload.http.forward;

import dev.offload.core.OffloadRequest;
import java.io.IOException;
import java.io.InputStream;
import okhttp3.MediaType;
import okhttp3.RequestBody;
import okio.BufferedSink;

/**
 * Streams the client's request body to the backend through a fixed buffer, counting it against
 * the limit, each read within the {@link BodyReadWatchdog}'s deadlines. Records why it failed, so
 * the forwarder can tell a client problem (too large, gone or stalled mid-upload, cut short)
 * from a backend one. Throwing from {@link #writeTo} makes OkHttp fail the call and close the
 * backend connection, so a body that did not arrive whole is never sent as complete. One-shot;
 * used by one thread.
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
  private final BodyReadWatchdog watchdog;
  private volatile boolean tooLarge;
  private volatile boolean clientFailed;
  private volatile boolean timedOut;

  StreamingRequestBody(OffloadRequest request, long contentLength, long limit,
      BodyReadWatchdog watchdog) {
    this.request = request;
    this.contentLength = contentLength;
    this.limit = limit;
    this.watchdog = watchdog;
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

  /** Whether the client's body did not arrive within a deadline (also {@link #clientFailed}). */
  boolean timedOut() {
    return timedOut;
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
      BodyReadWatchdog.Reader reader = watchdog.reader(in);
      while (true) {
        int n;
        try {
          n = reader.read(buffer);
        } catch (BodyReadWatchdog.TimeoutException e) {
          timedOut = true;
          clientFailed = true;
          throw e;
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
