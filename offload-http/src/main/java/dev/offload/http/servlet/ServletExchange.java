package dev.offload.http.servlet;

import static java.util.Objects.requireNonNull;

import com.google.common.net.InetAddresses;
import dev.offload.core.Headers;
import dev.offload.http.ServerExchange;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * A {@link ServerExchange} over one servlet request and response. Translates only: nothing is
 * copied (the body is the container's own stream), nothing is decided.
 *
 * <p>{@link #abort()} cannot close a connection through the Servlet API; it records the abort,
 * commits what was started so far, and stops further writes. {@link OffloadFilter} then throws
 * {@link AbortedExchangeException} from {@code doFilter}: a container that sees an exception
 * after the response was committed can no longer send an error page and aborts the connection
 * instead (Jetty, Tomcat and Undertow all do), so the client sees the connection end before the
 * declared length or the last chunk. One case no server can signal this way: a body of unknown
 * length to a client that sent {@code Connection: close} (or speaks HTTP/1.0) is delimited by
 * the close itself, so there an abort looks like the end.
 *
 * <p>Not thread-safe: used by the request's thread only.
 */
final class ServletExchange implements ServerExchange {
  private final HttpServletRequest request;
  private final HttpServletResponse response;
  private Headers requestHeaders;
  private boolean started;
  private boolean aborted;
  private OutputStream body;

  ServletExchange(HttpServletRequest request, HttpServletResponse response) {
    this.request = requireNonNull(request, "request");
    this.response = requireNonNull(response, "response");
  }

  @Override
  public String method() {
    return request.getMethod();
  }

  /**
   * Returns the request URI as the container received it (Servlet 6 does not decode it) plus
   * {@code ?} and the raw query when the request line had one. An absolute-form target arrives
   * in origin-form: the Servlet API keeps only its path.
   */
  @Override
  public String requestTarget() {
    String uri = request.getRequestURI();
    String query = request.getQueryString();
    return query == null ? uri : uri + '?' + query;
  }

  @Override
  public void setAttribute(String name, Object value) {
    request.setAttribute(name, value);
  }

  /** Returns {@code getProtocol()}, upper-cased. */
  @Override
  public String protocol() {
    return request.getProtocol().toUpperCase(Locale.ROOT);
  }

  /**
   * Returns every header field. Repeated fields of one name are kept in order; the Servlet API
   * groups fields by name, so the interleaving of different names is not preserved.
   *
   * @throws IllegalArgumentException if the container let through a field that is not valid
   *     HTTP (a name that is not a token, a value with CR, LF or NUL)
   */
  @Override
  public Headers requestHeaders() {
    if (requestHeaders == null) {
      Headers.Builder builder = Headers.builder();
      Set<String> seen = new HashSet<>();
      Enumeration<String> names = request.getHeaderNames();
      while (names != null && names.hasMoreElements()) {
        String name = names.nextElement();
        if (!seen.add(name.toLowerCase(Locale.ROOT))) {
          continue; // a container that lists a repeated name twice: getHeaders already has all
        }
        Enumeration<String> values = request.getHeaders(name);
        while (values != null && values.hasMoreElements()) {
          builder.add(name, values.nextElement());
        }
      }
      requestHeaders = builder.build();
    }
    return requestHeaders;
  }

  /**
   * Returns the peer address as the container reports it, without any DNS lookup. A port the
   * container does not know is 0; an address that is not an IP literal (a Unix socket path)
   * comes back unresolved.
   */
  @Override
  public InetSocketAddress remoteAddress() {
    return socketAddress(request.getRemoteAddr(), request.getRemotePort());
  }

  static InetSocketAddress socketAddress(String address, int port) {
    int p = port >= 0 && port <= 0xFFFF ? port : 0;
    if (address == null) {
      return InetSocketAddress.createUnresolved("", p);
    }
    String literal = address.length() > 2 && address.startsWith("[") && address.endsWith("]")
        ? address.substring(1, address.length() - 1)
        : address;
    if (InetAddresses.isInetAddress(literal)) {
      return new InetSocketAddress(InetAddresses.forString(literal), p);
    }
    return InetSocketAddress.createUnresolved(address, p);
  }

  @Override
  public boolean isSecure() {
    return request.isSecure();
  }

  @Override
  public InputStream requestBody() throws IOException {
    return request.getInputStream();
  }

  /**
   * Sets the status and the headers, and the content length when known. The first field of each
   * name replaces what the container may have set already (its {@code Date}, {@code Server},
   * a default {@code Content-Type}); further fields of the same name are added, so repeats such
   * as {@code Set-Cookie} survive. {@code Content-Length} and {@code Transfer-Encoding} in
   * {@code headers} are ignored: framing is the container's, from {@code contentLength}.
   *
   * @throws IllegalStateException if called twice, after {@link #abort()}, or after the host
   *     committed the response
   */
  @Override
  public void startResponse(int status, Headers headers, long contentLength) throws IOException {
    requireNonNull(headers, "headers");
    if (status < 100 || status > 999) {
      throw new IllegalArgumentException("status must be a 3-digit code, got " + status);
    }
    if (contentLength < -1) {
      throw new IllegalArgumentException(
          "contentLength must be -1 (unknown) or >= 0, got " + contentLength);
    }
    if (started) {
      throw new IllegalStateException("startResponse was already called on this exchange");
    }
    if (aborted) {
      throw new IllegalStateException("startResponse called after abort()");
    }
    if (response.isCommitted()) {
      throw new IllegalStateException("startResponse called but the response is already committed");
    }
    started = true;
    response.setStatus(status);
    Set<String> set = new HashSet<>();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      String key = name.toLowerCase(Locale.ROOT);
      if (key.equals("content-length") || key.equals("transfer-encoding")) {
        continue;
      }
      if (set.add(key)) {
        response.setHeader(name, headers.value(i));
      } else {
        response.addHeader(name, headers.value(i));
      }
    }
    if (contentLength >= 0) {
      response.setContentLengthLong(contentLength);
    }
  }

  /** Returns the response body; after {@link #abort()} it refuses writes and ignores close. */
  @Override
  public OutputStream responseBody() throws IOException {
    if (!started) {
      throw new IllegalStateException("responseBody() called before startResponse()");
    }
    if (body == null) {
      body = new ResponseBody(response.getOutputStream());
    }
    return body;
  }

  /**
   * Marks the exchange aborted and, if the response was started but is still only buffered,
   * drops the buffered bytes and commits the status line and headers, so that the exception
   * {@link OffloadFilter} throws next makes the container abort the connection rather than send
   * an error page. An abort before {@link #startResponse} leaves the response uncommitted: the
   * container answers the exception with its own 500, since no body can be cut short yet.
   */
  @Override
  public void abort() {
    if (aborted) {
      return;
    }
    aborted = true;
    if (started && !response.isCommitted()) {
      try {
        response.resetBuffer();
        response.flushBuffer();
      } catch (IOException | RuntimeException e) {
        // the connection is failing already; the filter still throws, and the container aborts
      }
    }
  }

  /** Returns whether {@link #abort()} was called. */
  boolean isAborted() {
    return aborted;
  }

  /** Returns whether {@link #startResponse} was called. */
  boolean isStarted() {
    return started;
  }

  /** The container's output stream, cut off once the exchange is aborted. */
  private final class ResponseBody extends OutputStream {
    private final OutputStream out;

    ResponseBody(OutputStream out) {
      this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
      checkNotAborted();
      out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      checkNotAborted();
      out.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      checkNotAborted();
      out.flush();
    }

    /** Ends the body normally; after an abort it does nothing, so the body is never ended. */
    @Override
    public void close() throws IOException {
      if (!aborted) {
        out.close();
      }
    }

    private void checkNotAborted() throws IOException {
      if (aborted) {
        throw new IOException("the exchange was aborted: no more response bytes are sent");
      }
    }
  }
}
