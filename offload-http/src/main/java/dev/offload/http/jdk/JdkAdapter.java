package dev.offload.http.jdk;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.offload.core.BodySink;
import dev.offload.core.Completion;
import dev.offload.core.Headers;
import dev.offload.core.ResponseFill;
import dev.offload.core.internal.HttpSyntax;
import dev.offload.http.HostHandler;
import dev.offload.http.OffloadExecutor;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The JDK adapter's one way of handling an exchange, shared by {@link OffloadHttpHandler} and
 * {@code OffloadHttpFilter}: the pass-through runs the host's handler (or the rest of the filter
 * chain), counted and copied to the decision's fill.
 */
final class JdkAdapter {
  private JdkAdapter() {}

  /**
   * Decides {@code exchange} with {@code executor} and carries the decision out; a pass-through
   * runs {@code next}, measured. See {@link OffloadHttpHandler} for what happens on abort.
   */
  static void handle(OffloadExecutor executor, HttpExchange exchange, HttpHandler next)
      throws IOException {
    JdkServerExchange adapted = new JdkServerExchange(exchange);
    boolean[] passedThrough = {false};
    executor.execute(adapted, (HostHandler<RuntimeException>) (responseHeaders, fill) -> {
      passedThrough[0] = true;
      for (int i = 0; i < responseHeaders.size(); i++) {
        exchange.getResponseHeaders().set(responseHeaders.name(i), responseHeaders.value(i));
      }
      CountingOutputStream counted = new CountingOutputStream(exchange.getResponseBody(),
          fill == ResponseFill.NONE ? null : new Copy(exchange, fill, responseHeaders));
      exchange.setStreams(null, counted);
      boolean returned = false;
      try {
        next.handle(exchange);
        returned = true;
      } finally {
        counted.end(returned);
      }
      int status = exchange.getResponseCode();
      return new HostHandler.HostResponse(status < 0 ? Completion.NO_STATUS : status,
          counted.count());
    });
    if (passedThrough[0]) {
      return;
    }
    if (adapted.aborted()) {
      throw new IOException("offload: exchange aborted, closing the connection");
    }
    if (adapted.closeAfterResponse()) {
      // not exchange.close(): the JDK would first wait for the request body the client may
      // still be holding back, which we refused
      throw new IOException("offload: response sent with Connection: close, closing the connection");
    }
    exchange.close();
  }

  /**
   * Counts the body bytes the host's handler writes and, with a {@link Copy}, copies them to the
   * decision's fill.
   */
  private static final class CountingOutputStream extends FilterOutputStream {
    private final Copy copy;
    private long count;
    private boolean closed;
    private boolean copyEnded;

    CountingOutputStream(OutputStream out, Copy copy) {
      super(out);
      this.copy = copy;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
      if (copy != null) {
        copy.write(new byte[] {(byte) b}, 0, 1);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
      if (copy != null) {
        copy.write(b, off, len);
      }
    }

    /**
     * Ends the copy before the last bytes go to the client: a client that reads the whole
     * answer and asks again at once finds it stored, not a fill still in progress.
     */
    @Override
    public void close() throws IOException {
      if (!closed) {
        closed = true;
        endCopy(true);
      }
      super.close();
    }

    /** The host's handler returned ({@code returned}) or threw: ends the copy. */
    void end(boolean returned) {
      endCopy(returned);
    }

    private void endCopy(boolean returned) {
      if (copy != null && !copyEnded) {
        copyEnded = true;
        copy.end(returned, closed, count);
      }
    }

    long count() {
      return count;
    }
  }

  /**
   * The copy of a host's answer to a fill: the head at the first body write (the host has sent
   * its headers by then) or when the handler returns, the body as written, and {@code complete()}
   * only when the handler returned, closed the body and wrote as many bytes as its {@code
   * Content-length} said.
   */
  private static final class Copy {
    private final HttpExchange exchange;
    private final ResponseFill fill;
    private final Headers added;
    private BodySink sink;
    private long contentLength = -1;

    Copy(HttpExchange exchange, ResponseFill fill, Headers added) {
      this.exchange = exchange;
      this.fill = fill;
      this.added = added;
    }

    void write(byte[] b, int off, int len) {
      start();
      if (sink != null) {
        sink.write(b, off, len);
      }
    }

    private void start() {
      if (sink != null || exchange.getResponseCode() < 0) {
        return;
      }
      Headers.Builder headers = Headers.builder();
      exchange.getResponseHeaders().forEach((name, values) -> {
        for (String value : values) {
          headers.add(name, value);
        }
      });
      for (String name : added.names()) {
        headers.remove(name); // the decision's fields are not the host's answer
      }
      Headers origin = headers.build();
      contentLength = origin.first("Content-length")
          .map(HttpSyntax::parseContentLength).orElse(-1L);
      sink = fill.onResponse(exchange.getResponseCode(), origin, contentLength);
    }

    void end(boolean returned, boolean closed, long count) {
      if (returned) {
        start();
      }
      if (sink == null) {
        fill.onNoResponse();
        return;
      }
      boolean whole = returned && (contentLength >= 0 ? count == contentLength : closed);
      if (whole) {
        sink.complete();
      } else {
        sink.abort();
      }
    }
  }
}
