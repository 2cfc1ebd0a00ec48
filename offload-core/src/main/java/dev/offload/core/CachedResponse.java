package dev.offload.core;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;

/**
 * A complete response held in memory (status, headers, body) that an executor can write to a
 * client without contacting any backend. Immutable and thread-safe; the body is copied in.
 *
 * <pre>{@code
 * CachedResponse robots = CachedResponse.of(200,
 *     Headers.of("Content-Type", "text/plain", "Cache-Control", "max-age=86400"),
 *     "User-agent: *\nDisallow:\n".getBytes(StandardCharsets.UTF_8));
 * }</pre>
 */
public final class CachedResponse {
  private final int status;
  private final Headers headers;
  private final byte[] body;

  private CachedResponse(int status, Headers headers, byte[] body) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /**
   * Returns a response.
   *
   * @param status the HTTP status code
   * @param headers the header fields
   * @param body the body
   * @return a response
   * @throws IllegalArgumentException if {@code status} is not in 200..599
   */
  public static CachedResponse of(int status, Headers headers, byte[] body) {
    requireNonNull(headers, "headers");
    requireNonNull(body, "body");
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status must be in 200..599, got " + status);
    }
    return new CachedResponse(status, headers, body.clone());
  }

  /**
   * Returns this response with {@code headers} instead of its own; the body is shared, not
   * copied (it never changes), so this is cheap for a large body.
   *
   * @param headers the header fields
   * @return this response with {@code headers} instead of its own; the body is shared, not copied
   *     (it never changes), so this is cheap for a large body
   */
  public CachedResponse withHeaders(Headers headers) {
    return new CachedResponse(status, requireNonNull(headers, "headers"), body);
  }

  /**
   * Returns the status code.
   *
   * @return the status code
   */
  public int status() {
    return status;
  }

  /**
   * Returns the header fields.
   *
   * @return the header fields
   */
  public Headers headers() {
    return headers;
  }

  /**
   * Returns the body length in bytes.
   *
   * @return the body length in bytes
   */
  public int bodyLength() {
    return body.length;
  }

  /**
   * Returns a read-only view of the body.
   *
   * @return a read-only view of the body
   */
  public ByteBuffer body() {
    return ByteBuffer.wrap(body).asReadOnlyBuffer();
  }

  @Override
  public String toString() {
    return "CachedResponse(" + status + ", " + body.length + " bytes)";
  }
}
