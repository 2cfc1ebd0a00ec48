package dev.offload.http.internal;

import dev.offload.core.BodySink;
import dev.offload.core.CachedResponse;
import dev.offload.core.Headers;
import dev.offload.core.ResponseFill;
import java.util.Optional;

/**
 * Holds a decision's {@link ResponseFill} to its contract for whoever relays the response: one of
 * {@code onResponse} or {@code onNoResponse}, exactly once ({@link #endUnanswered()} calls the
 * latter when nothing reached the fill), the sink ended exactly once, and a fill or sink that
 * throws is logged and ignored for the rest of the response (its sink aborted). Not thread-safe:
 * one response.
 */
public final class GuardedFill {
  private static final System.Logger LOG = System.getLogger(GuardedFill.class.getName());

  private final ResponseFill fill;
  private boolean answered;
  private BodySink sink;

  public GuardedFill(ResponseFill fill) {
    this.fill = fill;
  }

  /** Whether there is anything to fill: false for {@link ResponseFill#NONE}. */
  public boolean active() {
    return fill != ResponseFill.NONE;
  }

  /** Whether {@link #onResponse} was called. */
  public boolean answered() {
    return answered;
  }

  /** Hands the fill the response head and returns its sink (once; later calls get NONE). */
  public BodySink onResponse(int status, Headers headers, long contentLength) {
    if (answered || !active()) {
      return BodySink.NONE;
    }
    answered = true;
    try {
      BodySink delegate = ContainedSink.of(fill.onResponse(status, headers, contentLength),
          "response fill");
      if (delegate != BodySink.NONE) {
        sink = delegate;
      }
      return delegate;
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "response fill threw; not filling", e);
      return BodySink.NONE;
    }
  }

  /** Asks the fill for a response to answer with instead of the origin's failure. */
  public Optional<CachedResponse> fallback(int status) {
    if (answered || !active()) {
      return Optional.empty();
    }
    try {
      Optional<CachedResponse> fallback = fill.onOriginFailure(status);
      return fallback == null ? Optional.empty() : fallback;
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "response fill threw", e);
      return Optional.empty();
    }
  }

  /** Asks the fill for the response to answer with instead of the origin's 304. */
  public Optional<CachedResponse> notModified(Headers headers) {
    if (answered || !active()) {
      return Optional.empty();
    }
    try {
      Optional<CachedResponse> answer = fill.onNotModified(headers);
      return answer == null ? Optional.empty() : answer;
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "response fill threw", e);
      return Optional.empty();
    }
  }

  /** Tells the fill that no response reached it, unless one did. */
  public void endUnanswered() {
    if (answered || !active()) {
      return;
    }
    answered = true;
    try {
      fill.onNoResponse();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "response fill threw", e);
    }
  }

  /** Aborts the sink if it was neither completed nor aborted (a relay path that forgot). */
  public void abortIfOpen() {
    if (sink != null) {
      sink.abort();
    }
  }
}
