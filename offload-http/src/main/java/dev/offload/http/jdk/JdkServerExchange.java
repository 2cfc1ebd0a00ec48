package dev.offload.http.jdk;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsExchange;
import dev.offload.core.Headers;
import dev.offload.http.ServerExchange;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * A {@link ServerExchange} over the JDK's {@link HttpExchange}. What the JDK server does on its
 * own, and what is left to us:
 *
 * <ul>
 *   <li>{@code sendResponseHeaders(status, 0)} means a chunked body of unknown length and {@code
 *       -1} means no body; so an empty body is sent as {@code -1}, an unknown length as {@code 0}.
 *   <li>For HEAD and 304 it writes no body and no {@code Content-Length} of its own: the length
 *       the caller gives is set as a header.
 *   <li>It answers {@code Expect: 100-continue} itself, before the handler runs.
 *   <li>It keeps repeated header fields (a second {@code Host} is visible) but merges the order
 *       of different names; it reads a chunked body when {@code Transfer-Encoding} is present
 *       and ignores {@code Content-Length} then: the executor refuses such requests.
 *   <li>It closes the connection when the handler throws, without ending a chunked body: that is
 *       how {@link #abort()} and a {@code Connection: close} response are carried out, by {@link
 *       OffloadHttpHandler} after the executor returns.
 *   <li>When the response body stream or the exchange is closed, it first drains what the
 *       handler left unread of the request body (up to 64 KiB, {@code
 *       sun.net.httpserver.drainAmount}), with no timeout: a client that announced a body and
 *       holds it back keeps the server's thread waiting. So after an abort, and for a response
 *       with {@code Connection: close} (the refusals: a 413 for a body not read, a 400), the
 *       {@linkplain #responseBody() response body stream} is never closed: closing it only
 *       flushes the response, and the handler's exception then closes the connection at once.
 *       The one exception is a body of unknown length (chunked) with {@code Connection: close},
 *       which only the JDK's close can end; the executor's own refusals always have a length.
 * </ul>
 *
 * Not thread-safe: one exchange, one thread.
 */
final class JdkServerExchange implements ServerExchange {
  private final HttpExchange exchange;
  private Headers headers;
  private boolean aborted;
  private boolean closeAfterResponse;
  private boolean knownLength;
  private OutputStream responseBody;

  JdkServerExchange(HttpExchange exchange) {
    this.exchange = exchange;
  }

  boolean aborted() {
    return aborted;
  }

  boolean closeAfterResponse() {
    return closeAfterResponse;
  }

  @Override
  public String method() {
    return exchange.getRequestMethod();
  }

  @Override
  public String requestTarget() {
    return exchange.getRequestURI().toString();
  }

  /** Returns {@link HttpExchange#getProtocol()}, which the JDK takes from the request line. */
  @Override
  public String protocol() {
    return exchange.getProtocol().toUpperCase(java.util.Locale.ROOT);
  }

  @Override
  public Headers requestHeaders() {
    Headers h = headers;
    if (h == null) {
      Headers.Builder builder = Headers.builder();
      for (Map.Entry<String, List<String>> field : exchange.getRequestHeaders().entrySet()) {
        for (String value : field.getValue()) {
          builder.add(field.getKey(), value);
        }
      }
      h = builder.build();
      headers = h;
    }
    return h;
  }

  @Override
  public void setAttribute(String name, Object value) {
    exchange.setAttribute(name, value);
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return exchange.getRemoteAddress();
  }

  @Override
  public boolean isSecure() {
    return exchange instanceof HttpsExchange;
  }

  @Override
  public InputStream requestBody() {
    return exchange.getRequestBody();
  }

  @Override
  public void startResponse(int status, Headers headers, long contentLength) throws IOException {
    com.sun.net.httpserver.Headers out = exchange.getResponseHeaders();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      if (name.equalsIgnoreCase("Connection")) {
        closeAfterResponse |= headers.value(i).toLowerCase(java.util.Locale.ROOT).contains("close");
      }
      out.add(name, headers.value(i));
    }
    boolean head = method().equals("HEAD");
    knownLength = status == 204 || status == 304 || head || contentLength >= 0;
    if (status == 204 || status == 304 || head) {
      if (contentLength >= 0 && status != 204) {
        out.set("Content-Length", Long.toString(contentLength));
      }
      exchange.sendResponseHeaders(status, -1);
    } else if (contentLength == 0) {
      exchange.sendResponseHeaders(status, -1);
    } else if (contentLength < 0) {
      exchange.sendResponseHeaders(status, 0);
    } else {
      exchange.sendResponseHeaders(status, contentLength);
    }
  }

  @Override
  public OutputStream responseBody() {
    OutputStream out = responseBody;
    if (out == null) {
      out = new ResponseBodyStream(exchange.getResponseBody());
      responseBody = out;
    }
    return out;
  }

  /**
   * The JDK's response body stream, except that closing it never makes the JDK drain the request
   * body when the connection is to be closed anyway (see the class comment).
   */
  private final class ResponseBodyStream extends FilterOutputStream {
    ResponseBodyStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      if (aborted) {
        return; // the connection is closed without ending the response
      }
      if (closeAfterResponse && knownLength) {
        out.flush(); // every byte is written; the handler's exception closes the connection
        return;
      }
      endEmptyRequestBody();
      out.close();
    }
  }

  /**
   * Reads the end of a request body that is empty by its framing (no {@code Transfer-Encoding},
   * no or a zero {@code Content-Length}), which the JDK gives as a stream with nothing left:
   * the read returns at once, and the close that follows then has nothing to drain (the drain
   * costs a 2 KiB buffer per request). Any other body is left to the JDK's drain, as before.
   */
  private void endEmptyRequestBody() {
    Headers request = requestHeaders();
    String length = request.first("Content-Length").orElse("0");
    if (request.contains("Transfer-Encoding") || !length.equals("0")) {
      return;
    }
    try {
      exchange.getRequestBody().read();
    } catch (IOException closed) {
      // already closed by whoever read it: nothing to drain either
    }
  }

  @Override
  public void abort() {
    aborted = true;
  }
}
