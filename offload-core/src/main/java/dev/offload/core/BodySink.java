package dev.offload.core;

/**
 * Receives a copy of a response body as it is relayed to the client, then exactly one of {@link
 * #complete()} (the body ended as its framing said and the client got all of it) or {@link
 * #abort()} (it was cut short, by either side: discard what was kept). Whoever relays the body
 * never buffers for a sink: a sink that wants the whole body keeps it itself, and stops keeping
 * it past its own limit. The one sink concept of offload: the forwarder's global response
 * observer and a decision's {@link ResponseFill} both hand out one.
 *
 * <p>Must not block or throw; a relay that meets a throwing sink logs it and ignores the sink for
 * the rest of the response. Not thread-safe: one response at a time.
 */
public interface BodySink {
  /** Discards everything. */
  BodySink NONE = new BodySink() {
    @Override
    public void write(byte[] bytes, int offset, int length) {}

    @Override
    public void complete() {}

    @Override
    public void abort() {}
  };

  /**
   * Receives the next bytes of the body; {@code bytes} is reused after the call returns.
   *
   * @param bytes the number of bytes
   * @param offset the offset
   * @param length the length
   */
  void write(byte[] bytes, int offset, int length);

  /** The body ended completely: what was written is the whole body. */
  void complete();

  /** The body was cut short: what was written must not be kept as a whole body. */
  void abort();
}
