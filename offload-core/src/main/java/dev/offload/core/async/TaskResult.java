package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * The response a task produced: replayed to the client that fetches the result as if the
 * request had run synchronously (status, header fields, body). Immutable; the body is copied in
 * and out.
 *
 * <pre>{@code
 * TaskPool.builder("thumbnails")
 *     .task(request -> TaskResult.of(200, "image/png", resize(request.body())))
 * }</pre>
 */
public final class TaskResult {
  private final int status;
  private final Headers headers;
  private final byte[] body;

  private TaskResult(int status, Headers headers, byte[] body) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /**
   * Returns a result with a status, header fields and a body.
   *
   * @param status the HTTP status to replay, 200..599 but not 304 (a replayed result has a body)
   * @param headers header fields to replay (framing fields such as {@code Content-Length} are
   *     set by the server, not taken from here)
   * @param body the body, copied
   * @return the result
   * @throws IllegalArgumentException if {@code status} is outside 200..599 or is 304
   */
  public static TaskResult of(int status, Headers headers, byte[] body) {
    requireNonNull(headers, "headers");
    requireNonNull(body, "body");
    if (status < 200 || status > 599 || status == 304) {
      throw new IllegalArgumentException("task result status must be in 200..599 and not 304, got "
          + status);
    }
    return new TaskResult(status, headers, body.clone());
  }

  /**
   * Returns a result with a status, a {@code Content-Type} and a body.
   *
   * @param status the HTTP status to replay, 200..599 but not 304
   * @param contentType the media type of {@code body}, e.g. {@code image/png}
   * @param body the body, copied
   * @return the result
   * @throws IllegalArgumentException if {@code status} is outside 200..599 or is 304, or {@code
   *     contentType} is not a valid header value
   */
  public static TaskResult of(int status, String contentType, byte[] body) {
    return of(status, Headers.of("Content-Type", requireNonNull(contentType, "contentType")), body);
  }

  /**
   * Returns the HTTP status to replay.
   *
   * @return the status, 200..599
   */
  public int status() {
    return status;
  }

  /**
   * Returns the header fields to replay.
   *
   * @return the header fields
   */
  public Headers headers() {
    return headers;
  }

  /**
   * Returns a copy of the body.
   *
   * @return the body bytes
   */
  public byte[] body() {
    return body.clone();
  }

  /**
   * Returns the body's length without copying it.
   *
   * @return the number of body bytes
   */
  public int bodyLength() {
    return body.length;
  }

  /**
   * Writes the body to {@code out} without copying it.
   *
   * @param out where the body goes; not closed
   * @throws IOException from {@code out}
   */
  public void writeBodyTo(OutputStream out) throws IOException {
    requireNonNull(out, "out").write(body);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TaskResult other && status == other.status
        && headers.equals(other.headers) && Arrays.equals(body, other.body);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * status + headers.hashCode()) + Arrays.hashCode(body);
  }

  @Override
  public String toString() {
    return "TaskResult(" + status + ", " + body.length + " bytes)";
  }
}
