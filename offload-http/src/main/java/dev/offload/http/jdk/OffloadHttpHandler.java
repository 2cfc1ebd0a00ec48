package dev.offload.http.jdk;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.offload.core.BodySink;
import dev.offload.core.Completion;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRouter;
import dev.offload.core.ResponseFill;
import dev.offload.core.internal.HttpSyntax;
import dev.offload.http.HostHandler;
import dev.offload.http.OffloadExecutor;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Puts an {@link OffloadRouter} in front of an existing JDK {@code HttpServer} handler.
 *
 * <pre>{@code
 * // JdkServerLimits: the JDK server's request and response deadlines, before the first server
 * HttpServer server = JdkServerLimits.ofDefaults().createServer(new InetSocketAddress(8080), 0);
 * server.createContext("/", OffloadHttpHandler.wrap(router, existingHandler));
 * server.setExecutor(Executors.newFixedThreadPool(64)); // forwarding blocks a thread per request
 * server.start();
 * }</pre>
 *
 * <p>Each request is decided by the router; a pass-through reaches {@code next} untouched (its
 * headers and body unread), and an exception {@code next} throws propagates unchanged. Every other
 * decision is executed by the {@link OffloadExecutor}. When the executor aborts an exchange (a
 * backend failed mid-body, the client left) or answers with {@code Connection: close}, this
 * handler throws an {@link IOException} after the executor returns, which is how the JDK server
 * is made to close the connection without ending the response cleanly. Neither then waits for
 * the rest of a request body the client announced and holds back (a thread never waits on a
 * client for a refused body): the response is flushed and the connection closed at once.
 *
 * <p>Unlike Jetty, the JDK server does not linger on close: closing with request body bytes still
 * unread makes the socket send a reset, so a client that is still sending its body (after a 413
 * for a too large {@code Content-Length}, say) may see the reset instead of the response.
 *
 * <p>Without {@code sun.net.httpserver.maxReqTime} the JDK server has no deadline for a request
 * and a client that stops in the middle of its request head holds a thread forever: {@link
 * #wrap} logs a warning, once per JVM, when {@link JdkServerLimits#unsafeSettings()} finds that
 * or another unsafe setting.
 *
 * <p>Thread-safe: one instance serves every request of its context.
 */
public final class OffloadHttpHandler implements HttpHandler {
  private final OffloadExecutor executor;
  private final HttpHandler next;

  private OffloadHttpHandler(OffloadExecutor executor, HttpHandler next) {
    this.executor = executor;
    this.next = next;
  }

  /** Wraps {@code next} with an executor of {@code router}'s decisions with default settings. */
  public static OffloadHttpHandler wrap(OffloadRouter router, HttpHandler next) {
    return wrap(OffloadExecutor.of(requireNonNull(router, "router")), next);
  }

  /** Wraps {@code next} with {@code executor}. */
  public static OffloadHttpHandler wrap(OffloadExecutor executor, HttpHandler next) {
    JdkServerLimits.warnOnceIfUnsafe();
    return new OffloadHttpHandler(
        requireNonNull(executor, "executor"), requireNonNull(next, "next"));
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
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

    @Override
    public void close() throws IOException {
      super.close();
      closed = true;
    }

    /** The host's handler returned ({@code returned}) or threw: ends the copy. */
    void end(boolean returned) {
      if (copy != null) {
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
