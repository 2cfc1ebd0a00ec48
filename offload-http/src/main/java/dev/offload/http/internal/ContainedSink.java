package dev.offload.http.internal;

import dev.offload.core.BodySink;

/**
 * A {@link BodySink} held to its contract for whoever relays a body to it: ended exactly once
 * ({@code complete()} or {@code abort()}; later ends do nothing), and a sink that throws is
 * logged, aborted and ignored for the rest of the response, so an observer or a cache fill never
 * breaks the relay. Not thread-safe: one response.
 */
public final class ContainedSink implements BodySink {
  private static final System.Logger LOG = System.getLogger(ContainedSink.class.getName());

  private final String what;
  private BodySink delegate;

  private ContainedSink(BodySink delegate, String what) {
    this.delegate = delegate;
    this.what = what;
  }

  /**
   * Returns {@code delegate} contained, or {@link BodySink#NONE} for null or none.
   *
   * @param what whose sink it is, for the log ({@code "response observer"})
   */
  public static BodySink of(BodySink delegate, String what) {
    return delegate == null || delegate == BodySink.NONE
        ? BodySink.NONE : new ContainedSink(delegate, what);
  }

  @Override
  public void write(byte[] bytes, int offset, int length) {
    try {
      delegate.write(bytes, offset, length);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, what + "'s sink threw; ignoring it", e);
      abort();
    }
  }

  @Override
  public void complete() {
    BodySink ending = delegate;
    delegate = BodySink.NONE;
    try {
      ending.complete();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, what + "'s sink threw", e);
    }
  }

  @Override
  public void abort() {
    BodySink ending = delegate;
    delegate = BodySink.NONE;
    try {
      ending.abort();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, what + "'s sink threw", e);
    }
  }
}
