package dev.offload.netty.internal;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import dev.offload.http.ServerExchange;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One request on a Netty channel as a {@link ServerExchange}, the blocking bridge that lets the
 * shared executor run on a worker thread: the event loop {@linkplain #offer feeds} the request
 * body in, one socket read at a time (auto-read is off while an exchange runs, so a slow reader
 * holds the client back instead of buffering its body), and the response is written to the
 * channel from the worker, which waits while the channel is not writable.
 *
 * <p>The event loop calls {@link #offer}, {@link #endOfBody}, {@link #fail} and {@link
 * #writabilityChanged}; one worker thread calls the {@link ServerExchange} methods.
 */
public final class NettyExchange implements ServerExchange {
  /** How long a writer waits for the client to take bytes before the exchange is aborted. */
  private static final long WRITE_STALL_MS = 30_000;
  private static final int CHUNK = 16 * 1024;
  private static final byte[] END = new byte[0];

  private final Channel channel;
  private final HttpRequest request;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private final ArrayDeque<byte[]> body = new ArrayDeque<>();
  private final Map<String, Object> attributes = new java.util.LinkedHashMap<>();
  private Headers headers;
  private boolean bodyComplete;
  private IOException bodyFailure;
  private boolean bodyOpened;
  private boolean readPending;
  private boolean started;
  private boolean ended;
  private boolean closeAfter;
  private boolean discardBody;
  private long written;
  private int status;

  /**
   * Creates the exchange for {@code request}, whose body (if any) the event loop will offer.
   *
   * @param channel the client's channel
   * @param request the request head, as decoded
   */
  public NettyExchange(Channel channel, HttpRequest request) {
    this.channel = requireNonNull(channel, "channel");
    this.request = requireNonNull(request, "request");
    this.closeAfter = !HttpUtil.isKeepAlive(request);
  }

  /**
   * Returns a future completed when the response is fully written (normally or aborted); the
   * adapter then reads the next request or closes.
   *
   * @return the future
   */
  public CompletableFuture<Void> done() {
    return done;
  }

  /**
   * Returns whether the connection must close after this exchange: asked for, or needed by the
   * framing. (A request body left unread is the adapter's to check: it closes then too.)
   *
   * @return true when it must close
   */
  public synchronized boolean closeAfter() {
    return closeAfter;
  }

  /**
   * Returns the status sent, 0 before {@link #startResponse}.
   *
   * @return the status
   */
  public synchronized int status() {
    return status;
  }

  /**
   * Returns whether the response was ended: its last chunk written or handed to the channel, or
   * the exchange aborted.
   *
   * @return whether it ended
   */
  public synchronized boolean ended() {
    return ended;
  }

  /**
   * Returns whether the response was started.
   *
   * @return whether a status line was written
   */
  public synchronized boolean started() {
    return started;
  }

  /**
   * Queues a piece of the request body (event loop). The content is copied and not retained.
   *
   * @param content the bytes, released by the caller
   */
  public synchronized void offer(ByteBuf content) {
    readPending = false;
    if (content.isReadable()) {
      body.add(ByteBufUtil.getBytes(content));
      notifyAll();
    }
  }

  /** Marks the request body complete (event loop). */
  public synchronized void endOfBody() {
    readPending = false;
    bodyComplete = true;
    body.add(END);
    notifyAll();
  }

  /**
   * Fails the request body and wakes a waiting writer (event loop): the client left, or sent an
   * invalid body.
   *
   * @param failure what happened
   */
  public synchronized void fail(IOException failure) {
    if (bodyFailure == null) {
      bodyFailure = failure;
    }
    notifyAll();
  }

  /** Wakes a writer waiting for the channel to become writable (event loop). */
  public synchronized void writabilityChanged() {
    notifyAll();
  }

  /**
   * Returns the request head as decoded.
   *
   * @return the request
   */
  public HttpRequest request() {
    return request;
  }

  /**
   * Returns the attributes the executor set for the host's handler.
   *
   * @return name to value, in the order set
   */
  public synchronized Map<String, Object> attributes() {
    return new java.util.LinkedHashMap<>(attributes);
  }

  @Override
  public synchronized void setAttribute(String name, Object value) {
    attributes.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
  }

  @Override
  public String method() {
    return request.method().name();
  }

  @Override
  public String requestTarget() {
    return request.uri();
  }

  @Override
  public String protocol() {
    return request.protocolVersion().text().toUpperCase(Locale.ROOT);
  }

  @Override
  public Headers requestHeaders() {
    if (headers == null) {
      Headers.Builder b = Headers.builder();
      Iterator<Map.Entry<CharSequence, CharSequence>> it = request.headers().iteratorCharSequence();
      while (it.hasNext()) {
        Map.Entry<CharSequence, CharSequence> e = it.next();
        b.add(e.getKey().toString(), e.getValue().toString());
      }
      headers = b.build();
    }
    return headers;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return (InetSocketAddress) channel.remoteAddress();
  }

  @Override
  public boolean isSecure() {
    return channel.pipeline().get(SslHandler.class) != null;
  }

  @Override
  public synchronized InputStream requestBody() throws IOException {
    if (bodyOpened) {
      throw new IllegalStateException("the request body was opened already");
    }
    bodyOpened = true;
    return new BodyStream();
  }

  @Override
  public void startResponse(int status, Headers headers, long contentLength) throws IOException {
    HttpResponse response;
    synchronized (this) {
      if (started) {
        throw new IllegalStateException("the response was started already");
      }
      checkOpen();
      started = true;
      this.status = status;
      response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
      for (int i = 0; i < headers.size(); i++) {
        response.headers().add(headers.name(i), headers.value(i));
      }
      if (headers.first("Connection").orElse("").equalsIgnoreCase("close")) {
        closeAfter = true;
      }
      boolean noBody = status == 204 || status == 304 || (status >= 100 && status < 200);
      discardBody = noBody || method().equals("HEAD");
      response.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
      if (!noBody) {
        if (contentLength >= 0) {
          response.headers().set(HttpHeaderNames.CONTENT_LENGTH, contentLength);
        } else if (method().equals("HEAD")) {
          // no body follows, so no framing: a chunked HEAD response would get a last chunk
          response.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
        } else if (request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
          response.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
          response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else {
          closeAfter = true; // HTTP/1.0 without a length: the end of the body is the close
        }
      }
      if (closeAfter) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      } else if (!request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
    }
    channel.write(response);
  }

  @Override
  public OutputStream responseBody() {
    synchronized (this) {
      if (!started) {
        throw new IllegalStateException("startResponse was not called");
      }
    }
    return new ResponseStream();
  }

  @Override
  public void abort() {
    synchronized (this) {
      ended = true;
      closeAfter = true;
      if (bodyFailure == null) {
        bodyFailure = new IOException("the exchange was aborted");
      }
      notifyAll();
    }
    channel.close();
    done.complete(null);
  }

  /**
   * Returns the response body bytes written so far.
   *
   * @return the count
   */
  public synchronized long written() {
    return written;
  }

  private void checkOpen() throws IOException {
    if (!channel.isActive()) {
      throw new IOException("the client closed the connection");
    }
  }

  /** Waits until the channel takes more bytes; aborts the exchange after a long stall. */
  private void awaitWritable() throws IOException {
    synchronized (this) {
      // woken by writabilityChanged; waits of one second each, no clock of its own
      for (long waited = 0; !channel.isWritable(); waited += 1000) {
        checkOpen();
        if (ended) {
          throw new IOException("the exchange was aborted");
        }
        if (waited >= WRITE_STALL_MS) {
          throw new IOException("the client took no response bytes for " + WRITE_STALL_MS
              + " ms");
        }
        try {
          wait(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while writing the response");
        }
      }
    }
  }

  /** Reads the queued body, asking the event loop for one more socket read when it runs dry. */
  private final class BodyStream extends InputStream {
    private byte[] current = new byte[0];
    private int pos;
    private boolean eof;

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (pos == current.length && !next()) {
        return -1;
      }
      int n = Math.min(len, current.length - pos);
      System.arraycopy(current, pos, b, off, n);
      pos += n;
      return n;
    }

    private boolean next() throws IOException {
      if (eof) {
        return false;
      }
      synchronized (NettyExchange.this) {
        while (body.isEmpty()) {
          if (bodyFailure != null) {
            throw bodyFailure;
          }
          if (!readPending) {
            readPending = true;
            channel.read(); // one socket read; the loop offers what it decoded
          }
          try {
            NettyExchange.this.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the request body");
          }
        }
        byte[] next = body.poll();
        if (next == END) {
          eof = true;
          return false;
        }
        current = next;
        pos = 0;
        return true;
      }
    }
  }

  /** Writes body chunks to the channel; closing writes the last chunk. */
  private final class ResponseStream extends OutputStream {
    private boolean closed;

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (closed) {
        throw new IOException("the response body was closed");
      }
      checkOpen();
      synchronized (NettyExchange.this) {
        if (ended) {
          throw new IOException("the exchange was aborted");
        }
        written += len;
        if (discardBody) {
          return;
        }
      }
      for (int at = off; at < off + len; at += CHUNK) {
        int n = Math.min(CHUNK, off + len - at);
        channel.write(new DefaultHttpContent(Unpooled.copiedBuffer(b, at, n)));
      }
      if (!channel.isWritable()) {
        channel.flush();
        if (!channel.eventLoop().inEventLoop()) { // on the loop (answers from memory): never wait
          awaitWritable();
        }
      }
    }

    @Override
    public void flush() {
      channel.flush();
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      boolean close;
      synchronized (NettyExchange.this) {
        if (ended) {
          return;
        }
        ended = true;
        close = closeAfter();
      }
      checkOpen();
      channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(f -> {
        if (close || !f.isSuccess()) {
          channel.close();
        }
        done.complete(null);
      });
    }
  }

  /**
   * Ends a response whose head went out through {@link #startResponse} and whose body chunks the
   * caller wrote to the channel itself (the non-blocking forwarder, on the event loop): writes
   * the last chunk, closes the connection when it must, and completes {@link #done()}.
   *
   * @param bytes the body bytes the caller wrote
   * @return the write of the last chunk: failed when the client could not take it
   */
  public io.netty.channel.ChannelFuture endRelayed(long bytes) {
    boolean close;
    synchronized (this) {
      ended = true;
      written = bytes;
      close = closeAfter;
    }
    io.netty.channel.ChannelFuture last = channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    last.addListener(f -> {
      if (close || !f.isSuccess()) {
        channel.close();
      }
      done.complete(null);
    });
    return last;
  }

  /**
   * Takes what was queued of the body for a pass-through (event loop): the host's own handlers
   * read the body from then on.
   *
   * @return the queued pieces, in order; an empty array marks the end of the body
   */
  public synchronized java.util.List<byte[]> drainForPassThrough() {
    java.util.List<byte[]> queued = new java.util.ArrayList<>(body);
    body.clear();
    bodyOpened = true;
    return queued;
  }

  /**
   * Marks the response ended by the host's own handlers on a pass-through (event loop).
   *
   * @param status the status the host sent
   * @param bytes the body bytes it sent
   * @param close whether the host asked to close the connection
   */
  public synchronized void endedByHost(int status, long bytes, boolean close) {
    started = true;
    ended = true;
    this.status = status;
    this.written = bytes;
    closeAfter |= close;
    done.complete(null);
  }
}
