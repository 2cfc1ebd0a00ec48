package dev.offload.http.servlet;

import dev.offload.core.BodySink;
import dev.offload.core.Headers;
import dev.offload.core.ResponseFill;
import dev.offload.core.internal.HttpSyntax;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * The host's response on a pass-through whose decision carries a fill (an edge cache's): its
 * output stream copies what the host writes to the fill. The head (status, the host's own header
 * fields without those the decision added, {@code Content-Length}) goes to the fill at the first
 * write, or when the chain returns; the copy completes only when the chain returned normally, no
 * async processing is under way and the body is as long as {@code Content-Length} said. A host
 * that writes through {@code getWriter()}, calls {@code sendError}, {@code reset} or {@code
 * resetBuffer} is relayed as usual, and not copied.
 */
final class FillingResponse extends HttpServletResponseWrapper {
  private final HttpServletResponse response;
  private final ResponseFill fill;
  private final Headers added;
  private BodySink sink;
  private ServletOutputStream stream;
  private long contentLength = -1;
  private long count;
  private boolean unusable;
  private boolean ended;

  FillingResponse(HttpServletResponse response, ResponseFill fill, Headers added) {
    super(response);
    this.response = response;
    this.fill = fill;
    this.added = added;
  }

  @Override
  public ServletOutputStream getOutputStream() throws IOException {
    ServletOutputStream out = super.getOutputStream();
    if (stream == null) {
      stream = new Tee(out);
    }
    return stream;
  }

  @Override
  public PrintWriter getWriter() throws IOException {
    unusable = true;
    return super.getWriter();
  }

  @Override
  public void sendError(int sc, String msg) throws IOException {
    unusable = true;
    super.sendError(sc, msg);
  }

  @Override
  public void sendError(int sc) throws IOException {
    unusable = true;
    super.sendError(sc);
  }

  @Override
  public void reset() {
    unusable = true;
    super.reset();
  }

  @Override
  public void resetBuffer() {
    unusable = true;
    super.resetBuffer();
  }

  private void start() {
    if (sink != null || unusable) {
      return;
    }
    Headers.Builder headers = Headers.builder();
    for (String name : response.getHeaderNames()) {
      for (String value : response.getHeaders(name)) {
        headers.add(name, value);
      }
    }
    String type = response.getContentType();
    if (type != null && !response.containsHeader("Content-Type")) {
      headers.set("Content-Type", type);
    }
    for (String name : added.names()) {
      headers.remove(name); // the decision's fields are not the host's answer
    }
    Headers origin = headers.build();
    contentLength = origin.first("Content-Length")
        .map(HttpSyntax::parseContentLength).orElse(-1L);
    sink = fill.onResponse(response.getStatus(), origin, contentLength);
  }

  /** The chain returned ({@code returned}) or threw: ends the copy, once. */
  void end(boolean returned, boolean asyncStarted) {
    if (ended) {
      return;
    }
    ended = true;
    if (returned && !asyncStarted) {
      start();
    }
    if (sink == null) {
      fill.onNoResponse();
      return;
    }
    boolean whole = returned && !asyncStarted && !unusable
        && (contentLength < 0 || count == contentLength);
    if (whole) {
      sink.complete();
    } else {
      sink.abort();
    }
  }

  /** Writes through and copies. */
  private final class Tee extends ServletOutputStream {
    private final ServletOutputStream out;

    Tee(ServletOutputStream out) {
      this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      copy(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      copy(b, off, len);
    }

    private void copy(byte[] b, int off, int len) {
      count += len;
      start();
      if (sink != null && !unusable) {
        sink.write(b, off, len);
      }
    }

    @Override
    public void flush() throws IOException {
      out.flush();
    }

    /**
     * Ends the copy before the last bytes go to the client: the host's body is whole once it
     * closes the stream, and a client that asks again at once finds it stored.
     */
    @Override
    public void close() throws IOException {
      if (!unusable) {
        end(true, false);
      }
      out.close();
    }

    @Override
    public boolean isReady() {
      return out.isReady();
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      unusable = true; // non-blocking writes finish after the chain returns: not copied
      out.setWriteListener(listener);
    }
  }
}
