package dev.offload.http.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.OffloadHandler;
import dev.offload.http.ServerExchange;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.Charset;
import java.util.Locale;

/**
 * A {@link ServerExchange} held in memory that records the response, for unit tests of an {@link
 * OffloadHandler}, a host handler or an {@link OffloadExecutor} without a server.
 *
 * <pre>{@code
 * RecordingExchange exchange = RecordingExchange.builder("POST", "/api/images")
 *     .header("Content-Type", "image/png")
 *     .body(png)
 *     .build();
 * executor.execute(exchange, (HostHandler<RuntimeException>) (headers, fill) -> {
 *   throw new AssertionError("not expected to pass through");
 * });
 * assertThat(exchange.status()).isEqualTo(202);
 * assertThat(exchange.responseHeaders().first("Location")).hasValue("/tasks/1");
 * }</pre>
 *
 * <p>It checks the {@link ServerExchange} contract the way a real adapter enforces it, with an
 * {@link IllegalStateException} that says what was done wrong: {@link #startResponse} at most once
 * and not after {@link #abort()}, {@link #responseBody()} only after {@link #startResponse}, and
 * {@link #requestBody()} opened at most once. Like the JDK server, the response body stream fails
 * with an {@link IOException} when more bytes are written than the declared content length, or
 * fewer when it is closed; as the interface specifies, no body bytes are kept for a {@code HEAD}
 * request or a 204 or 304 response.
 *
 * <p>Like a server's exchange, not thread-safe: use it from one thread at a time, and read what
 * it recorded after the code under test has returned.
 */
public final class RecordingExchange implements ServerExchange {
  /** The peer address when none is set: {@code 127.0.0.1:50000}. */
  public static final InetSocketAddress DEFAULT_REMOTE_ADDRESS =
      new InetSocketAddress(ipv4Loopback(), 50000);
  /** The protocol when none is set. */
  public static final String DEFAULT_PROTOCOL = "HTTP/1.1";
  /** The {@code Host} field added when the request has none: {@code localhost}. */
  public static final String DEFAULT_HOST = "localhost";

  private final String method;
  private final String target;
  private final String protocol;
  private final Headers requestHeaders;
  private final InetSocketAddress remoteAddress;
  private final boolean secure;
  private final byte[] requestBody;

  private boolean requestBodyOpened;
  private boolean started;
  private boolean aborted;
  private int status;
  private Headers responseHeaders = Headers.empty();
  private long declaredLength = -1;
  private ResponseBody body;

  private RecordingExchange(Builder b) {
    this.method = b.method;
    this.target = b.target;
    this.protocol = b.protocol;
    this.remoteAddress = b.remoteAddress;
    this.secure = b.secure;
    this.requestBody = b.body;
    Headers.Builder headers = b.headers.build().toBuilder();
    Headers given = b.headers.build();
    if (b.addHost && !given.contains("Host")) {
      headers.add("Host", DEFAULT_HOST);
    }
    if (requestBody.length > 0 && !given.contains("Content-Length")
        && !given.contains("Transfer-Encoding")) {
      headers.add("Content-Length", Integer.toString(requestBody.length));
    }
    this.requestHeaders = headers.build();
  }

  /**
   * Returns a builder of a request with {@code method} (such as {@code GET}) and {@code target}
   * (the request target as on the request line: {@code /path?query}, percent-encoded, or an
   * absolute URI). They are taken as given, unchecked, so that tests can present what a hostile
   * client sends.
   *
   * @param method the request method
   * @param target the request target, as sent: origin-form or absolute-form
   * @return a builder of a request with {@code method} (such as {@code GET}) and {@code target}
   *     (the request target as on the request line: {@code /path?query}, percent-encoded, or an
   *     absolute URI)
   */
  public static Builder builder(String method, String target) {
    return new Builder(requireNonNull(method, "method"), requireNonNull(target, "target"));
  }

  /**
   * Returns a {@code GET} of {@code target} with the defaults of {@link Builder}.
   *
   * @param target the request target, as sent: origin-form or absolute-form
   * @return a {@code GET} of {@code target} with the defaults of {@link Builder}
   */
  public static RecordingExchange get(String target) {
    return builder("GET", target).build();
  }

  // ---- the request, as ServerExchange presents it

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
    return requestHeaders;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return remoteAddress;
  }

  @Override
  public boolean isSecure() {
    return secure;
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalStateException if the body was already opened
   */
  @Override
  public InputStream requestBody() {
    if (requestBodyOpened) {
      throw new IllegalStateException(
          "requestBody() was already opened on this exchange: a request body can be read only "
              + "once; keep the stream you got the first time");
    }
    requestBodyOpened = true;
    return new ByteArrayInputStream(requestBody);
  }

  // ---- the response, as ServerExchange takes it

  /**
   * {@inheritDoc}
   *
   * @throws IllegalArgumentException if {@code status} is not in 100..599 or {@code
   *     contentLength} is below -1
   * @throws IllegalStateException if called a second time, or after {@link #abort()}
   */
  @Override
  public void startResponse(int status, Headers headers, long contentLength) {
    requireNonNull(headers, "headers");
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status must be in 100..599, got " + status);
    }
    if (contentLength < -1) {
      throw new IllegalArgumentException(
          "contentLength must be -1 (unknown) or >= 0, got " + contentLength);
    }
    if (started) {
      throw new IllegalStateException("startResponse(" + status + ", ...) called, but "
          + "startResponse(" + this.status + ", ...) was already called on this exchange: "
          + "a response is started exactly once");
    }
    if (aborted) {
      throw new IllegalStateException(
          "startResponse(" + status + ", ...) called after abort(): the exchange is over");
    }
    started = true;
    this.status = status;
    this.responseHeaders = headers;
    this.declaredLength = contentLength;
  }

  /**
   * {@inheritDoc} Every call returns the same stream.
   *
   * @throws IllegalStateException if {@link #startResponse} was not called yet
   */
  @Override
  public OutputStream responseBody() {
    if (!started) {
      throw new IllegalStateException(
          "responseBody() called before startResponse(): send the status and headers first");
    }
    if (body == null) {
      boolean noBody = method.equals("HEAD") || status == 204 || status == 304;
      body = new ResponseBody(noBody ? -1 : declaredLength, noBody);
    }
    return body;
  }

  @Override
  public void abort() {
    aborted = true;
  }

  // ---- what was recorded

  /**
   * Returns whether {@link #requestBody()} was opened (a decision that needed the body read it).
   *
   * @return whether {@link #requestBody()} was opened (a decision that needed the body read it)
   */
  public boolean isRequestBodyOpened() {
    return requestBodyOpened;
  }

  /**
   * Returns whether {@link #startResponse} was called.
   *
   * @return whether {@link #startResponse} was called
   */
  public boolean isStarted() {
    return started;
  }

  /**
   * Returns the status sent with {@link #startResponse}.
   *
   * @return the status sent with {@link #startResponse}
   * @throws IllegalStateException if no response was started (see {@link #isStarted()})
   */
  public int status() {
    if (!started) {
      throw new IllegalStateException(
          "no response was started on this exchange" + (aborted ? " (it was aborted)" : ""));
    }
    return status;
  }

  /**
   * Returns the header fields sent with {@link #startResponse}; empty before.
   *
   * @return the header fields sent with {@link #startResponse}; empty before
   */
  public Headers responseHeaders() {
    return responseHeaders;
  }

  /**
   * Returns the content length declared with {@link #startResponse}: the exact body length, or
   * -1 when unknown or no response was started.
   *
   * @return the content length declared with {@link #startResponse}: the exact body length, or -1
   *     when unknown or no response was started
   */
  public long declaredContentLength() {
    return declaredLength;
  }

  /**
   * Returns the response body bytes written so far (named so because {@link #responseBody()} is
   * the stream the code under test writes to). Empty for {@code HEAD}, 204 and 304.
   *
   * @return the response body bytes written so far (named so because {@link #responseBody()} is the
   *     stream the code under test writes to)
   */
  public byte[] responseBytes() {
    return body == null ? new byte[0] : body.written.toByteArray();
  }

  /**
   * Returns the response body as text, decoded with the {@code charset} of the {@code
   * Content-Type} sent, or UTF-8 when it names none or one that is not supported.
   *
   * @return the response body as text, decoded with the {@code charset} of the {@code Content-Type}
   *     sent, or UTF-8 when it names none or one that is not supported
   */
  public String bodyText() {
    return new String(responseBytes(), responseCharset());
  }

  /**
   * Returns whether {@link #abort()} was called: a client would see a truncated exchange.
   *
   * @return whether {@link #abort()} was called: a client would see a truncated exchange
   */
  public boolean isAborted() {
    return aborted;
  }

  /**
   * Returns whether the response body stream was closed, which ends a response normally. An
   * exchange that was answered completely is started, closed and not aborted.
   *
   * @return whether the response body stream was closed, which ends a response normally
   */
  public boolean isClosed() {
    return body != null && body.closed;
  }

  @Override
  public String toString() {
    String request = method + " " + target + " " + protocol;
    if (aborted) {
      return "RecordingExchange(" + request + " -> aborted)";
    }
    return started
        ? "RecordingExchange(" + request + " -> " + status + (isClosed() ? ", closed)" : ")")
        : "RecordingExchange(" + request + " -> not started)";
  }

  private Charset responseCharset() {
    String type = responseHeaders.first("Content-Type").orElse("");
    for (String param : type.split(";")) {
      String p = param.strip();
      if (p.toLowerCase(Locale.ROOT).startsWith("charset=")) {
        String name = p.substring("charset=".length()).replace("\"", "").strip();
        try {
          return Charset.forName(name);
        } catch (IllegalArgumentException e) { // unsupported or illegal name
          return UTF_8;
        }
      }
    }
    return UTF_8;
  }

  private static InetAddress ipv4Loopback() {
    try {
      return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
    } catch (UnknownHostException e) {
      throw new AssertionError("a 4-byte address is always valid", e);
    }
  }

  /** The response body stream: records bytes, checks the declared length, discards when bodiless. */
  private final class ResponseBody extends OutputStream {
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private final long limit;
    private final boolean discard;
    private long count;
    private boolean closed;

    ResponseBody(long limit, boolean discard) {
      this.limit = limit;
      this.discard = discard;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      requireNonNull(b, "b");
      if (off < 0 || len < 0 || len > b.length - off) {
        throw new IndexOutOfBoundsException(
            "off " + off + ", len " + len + " out of bounds for length " + b.length);
      }
      ensureWritable();
      if (discard) {
        return;
      }
      if (limit >= 0 && count + len > limit) {
        throw new IOException("too many bytes for the response body: Content-Length " + limit
            + " was declared and " + (count + len) + " would be written");
      }
      written.write(b, off, len);
      count += len;
    }

    @Override
    public void flush() throws IOException {
      ensureWritable();
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      if (!discard && limit >= 0 && count < limit && !aborted) {
        throw new IOException("response body closed after " + count + " bytes but Content-Length "
            + limit + " was declared");
      }
    }

    private void ensureWritable() throws IOException {
      if (aborted) {
        throw new IOException("the exchange was aborted");
      }
      if (closed) {
        throw new IOException("the response body was already closed");
      }
    }
  }

  /**
   * Builds a {@link RecordingExchange}. Defaults: protocol {@value #DEFAULT_PROTOCOL}, peer
   * {@link #DEFAULT_REMOTE_ADDRESS}, not TLS, no body, and a {@code Host: localhost} field when
   * no {@code Host} is given (every HTTP/1.1 client sends one; see {@link #withoutHost()}). When
   * a body is set and neither {@code Content-Length} nor {@code Transfer-Encoding} is, a {@code
   * Content-Length} field with its length is added, as a client would send. Not thread-safe.
   */
  public static final class Builder {
    private final String method;
    private final String target;
    private final Headers.Builder headers = Headers.builder();
    private String protocol = DEFAULT_PROTOCOL;
    private InetSocketAddress remoteAddress = DEFAULT_REMOTE_ADDRESS;
    private boolean secure;
    private boolean addHost = true;
    private byte[] body = new byte[0];

    private Builder(String method, String target) {
      this.method = method;
      this.target = target;
    }

    /**
     * Adds a request header field; a name added twice is sent twice.
     *
     * @param name the name
     * @param value the value
     * @return this builder
     * @throws IllegalArgumentException if the name is not a token or the value holds CR, LF or
     * NUL
     */
    public Builder header(String name, String value) {
      headers.add(name, value);
      return this;
    }

    /**
     * Adds every field of {@code headers}, in order.
     *
     * @param headers the header fields
     * @return this builder
     */
    public Builder headers(Headers headers) {
      requireNonNull(headers, "headers");
      for (int i = 0; i < headers.size(); i++) {
        this.headers.add(headers.name(i), headers.value(i));
      }
      return this;
    }

    /**
     * Sends no {@code Host} field unless one is added, to test an HTTP/1.1 request without.
     *
     * @return this builder
     */
    public Builder withoutHost() {
      this.addHost = false;
      return this;
    }

    /**
     * Sets the protocol of the request line, such as {@code HTTP/1.0}; {@value
     * #DEFAULT_PROTOCOL} by default.
     *
     * @param protocol the protocol
     * @return this builder
     * @throws IllegalArgumentException if it does not start with {@code HTTP/}
     */
    public Builder protocol(String protocol) {
      requireNonNull(protocol, "protocol");
      if (!protocol.startsWith("HTTP/")) {
        throw new IllegalArgumentException(
            "protocol must be like HTTP/1.1 (upper case, as servers report it), got '" + protocol
                + "'");
      }
      this.protocol = protocol;
      return this;
    }

    /**
     * Sets the socket peer: the client, or the proxy in front of the server.
     *
     * @param remoteAddress the remote address
     * @return this builder
     * @throws IllegalArgumentException if the address is unresolved (it has no IP address; use
     * {@code new InetSocketAddress(InetAddress.getByName("203.0.113.7"), 443)})
     */
    public Builder remoteAddress(InetSocketAddress remoteAddress) {
      requireNonNull(remoteAddress, "remoteAddress");
      if (remoteAddress.isUnresolved()) {
        throw new IllegalArgumentException(
            "remoteAddress must have an IP address, got unresolved " + remoteAddress);
      }
      this.remoteAddress = remoteAddress;
      return this;
    }

    /**
     * Sets whether the connection is TLS ({@code https}); false by default.
     *
     * @param secure the secure
     * @return this builder
     */
    public Builder secure(boolean secure) {
      this.secure = secure;
      return this;
    }

    /**
     * Sets the request body bytes (copied); empty by default.
     *
     * @param body the body
     * @return this builder
     */
    public Builder body(byte[] body) {
      this.body = requireNonNull(body, "body").clone();
      return this;
    }

    /**
     * Sets the request body to {@code text} encoded as UTF-8.
     *
     * @param text the text
     * @return this builder
     */
    public Builder body(String text) {
      this.body = requireNonNull(text, "body").getBytes(UTF_8);
      return this;
    }

    /**
     * Returns the exchange, ready to be handled once.
     *
     * @return the exchange, ready to be handled once
     */
    public RecordingExchange build() {
      return new RecordingExchange(this);
    }
  }
}
