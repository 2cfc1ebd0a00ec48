package dev.offload.core;

import java.io.IOException;
import java.io.InputStream;

/**
 * The body of a request, opened lazily: {@link OffloadRouter#decide} never opens it, an executor
 * that forwards or offloads the request opens it once, later.
 */
@FunctionalInterface
public interface RequestBody {
  /**
   * Opens the body. An adapter's body can be opened once; a second call may fail.
   *
   * @return the body's bytes
   * @throws IOException if the body cannot be read
   */
  InputStream open() throws IOException;

  /**
   * Returns a body with no bytes.
   *
   * @return a body with no bytes
   */
  static RequestBody empty() {
    return InputStream::nullInputStream;
  }

  /**
   * Returns a body over these bytes (not copied), for tests.
   *
   * @param bytes the number of bytes
   * @return a body over these bytes (not copied), for tests
   */
  static RequestBody of(byte[] bytes) {
    java.util.Objects.requireNonNull(bytes, "bytes");
    return () -> new java.io.ByteArrayInputStream(bytes);
  }
}
