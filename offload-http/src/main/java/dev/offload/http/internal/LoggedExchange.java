package dev.offload.http.internal;

import dev.offload.core.Completion;
import dev.offload.core.CorrelationId;
import dev.offload.core.Decision;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.http.ServerExchange;
import dev.offload.http.TrustedProxies;
import dev.offload.http.log.AccessLog;
import dev.offload.http.log.AccessLogEntry;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * An exchange that notes what the access log records: the status and headers answered, the body
 * bytes written, and (from the executor) the request and decision. Used by one request's
 * threads in turn, not concurrently.
 */
public final class LoggedExchange extends ForwardingExchange {
  private final AccessLog log;
  private final Instant time;
  private final long startNanos;
  private OffloadRequest request;
  private Decision decision;
  private int status;
  private String cacheStatus;
  private long bytes;
  private OutputStream body;

  /**
   * Wraps {@code delegate}; the request's time and start are read now.
   *
   * @param delegate the server's exchange
   * @param log the access log
   */
  public LoggedExchange(ServerExchange delegate, AccessLog log) {
    super(delegate);
    this.log = log;
    this.time = log.clock().instant();
    this.startNanos = log.ticker().read();
  }

  /**
   * Notes the request as routed and what the router decided.
   *
   * @param request the request
   * @param decision the decision
   */
  public void decided(OffloadRequest request, Decision decision) {
    this.request = request;
    this.decision = decision;
  }

  /** Hands the entry to the access log: call once, when the exchange is done. */
  public void record() {
    int answered = status;
    long written = bytes;
    String cache = cacheStatus;
    if (decision instanceof Decision.PassThrough passThrough) { // the host wrote natively
      Optional<Completion> done = passThrough.handle().completion();
      answered = done.map(Completion::status).orElse(0);
      written = done.map(Completion::bytes).orElse(0L);
      cache = cache != null ? cache
          : passThrough.handle().responseHeaders().first("X-Cache-Status").orElse(null);
    }
    String backend = null;
    String instance = null;
    if (decision instanceof Decision.Forward forward) {
      backend = forward.backend().name();
      instance = forward.instance().toString();
    }
    String client = request != null ? TrustedProxies.format(request.clientAddress(), false)
        : TrustedProxies.format(delegate.remoteAddress().getAddress(), false);
    log.record(new AccessLogEntry(
        time,
        client,
        delegate.method(),
        request != null ? request.path() : "",
        decision != null ? decision.kind().name().toLowerCase(Locale.ROOT) : "refused",
        Optional.ofNullable(backend),
        Optional.ofNullable(instance),
        answered,
        written,
        log.ticker().read() - startNanos,
        Optional.ofNullable(cache),
        request == null ? Optional.empty()
            : request.attribute(CorrelationId.KEY).map(CorrelationId::requestId)));
  }

  @Override
  public void startResponse(int status, Headers headers, long contentLength) throws IOException {
    this.status = status;
    this.cacheStatus = headers.first("X-Cache-Status").orElse(null);
    delegate.startResponse(status, headers, contentLength);
  }

  @Override
  public OutputStream responseBody() throws IOException {
    if (body == null) {
      body = new FilterOutputStream(delegate.responseBody()) {
        @Override
        public void write(int b) throws IOException {
          out.write(b);
          bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
          bytes += len;
        }
      };
    }
    return body;
  }
}
