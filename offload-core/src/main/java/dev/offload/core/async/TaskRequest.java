package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import java.util.Optional;

/**
 * What a {@link Task} is given: the accepted request's method, path, query and header fields,
 * its body read into memory, and the identity that owns the task. Also the task's way to report
 * progress and to learn that it was cancelled.
 *
 * <pre>{@code
 * TaskRequest request = TaskRequest.builder("POST", "/api/thumbnails")
 *     .header("Content-Type", "image/png")
 *     .body(png)
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe: built on the request thread, read on a worker.
 */
public final class TaskRequest {
  /** Told of progress and asked about cancellation; set by the pool while the task runs. */
  interface Progress {
    void report(double fraction);

    boolean cancelRequested();
  }

  private static final Progress DETACHED = new Progress() {
    @Override
    public void report(double fraction) {}

    @Override
    public boolean cancelRequested() {
      return false;
    }
  };

  private final String method;
  private final String path;
  private final Optional<String> query;
  private final Headers headers;
  private final byte[] body;
  private final Optional<String> owner;
  private volatile Progress progress = DETACHED;

  private TaskRequest(Builder b) {
    this.method = b.method;
    this.path = b.path;
    this.query = b.query;
    this.headers = b.headers.build();
    this.body = b.body;
    this.owner = b.owner;
  }

  /**
   * Returns a builder.
   *
   * @param method the request method, e.g. {@code POST}
   * @param path the request's normalized path
   * @return the builder
   */
  public static Builder builder(String method, String path) {
    return new Builder(requireNonNull(method, "method"), requireNonNull(path, "path"));
  }

  /**
   * Returns the request method.
   *
   * @return the method, e.g. {@code POST}
   */
  public String method() {
    return method;
  }

  /**
   * Returns the request's normalized path.
   *
   * @return the path, e.g. {@code /api/thumbnails}
   */
  public String path() {
    return path;
  }

  /**
   * Returns the raw query string without {@code ?}, if the request had one.
   *
   * @return the query
   */
  public Optional<String> query() {
    return query;
  }

  /**
   * Returns the request's header fields.
   *
   * @return the header fields
   */
  public Headers headers() {
    return headers;
  }

  /**
   * Returns the first value of a header field.
   *
   * @param name the field name, case-insensitive
   * @return the value, or empty
   */
  public Optional<String> header(String name) {
    return headers.first(requireNonNull(name, "name"));
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
   * Returns the body's length.
   *
   * @return the number of body bytes
   */
  public int bodyLength() {
    return body.length;
  }

  /**
   * Returns the subject of the identity a guard admitted, which alone may read, fetch or cancel
   * the task; empty when no guard admitted one.
   *
   * @return the owner's subject, or empty
   */
  public Optional<String> owner() {
    return owner;
  }

  /**
   * Reports how far the task is, shown in its status document. Does nothing outside a running
   * task (in a validator).
   *
   * @param fraction done so far, 0..1 (clamped)
   */
  public void progress(double fraction) {
    progress.report(Double.isNaN(fraction) ? 0 : Math.min(1, Math.max(0, fraction)));
  }

  /**
   * Returns whether the task was asked to cancel: a long task checks it and returns early; its
   * result is discarded either way.
   *
   * @return whether cancellation was requested
   */
  public boolean cancelRequested() {
    return progress.cancelRequested();
  }

  void attach(Progress running) {
    this.progress = running;
  }

  @Override
  public String toString() {
    return method + " " + path + " (" + body.length + " bytes)";
  }

  /** Builds a {@link TaskRequest}. Not thread-safe. */
  public static final class Builder {
    private final String method;
    private final String path;
    private final Headers.Builder headers = Headers.builder();
    private Optional<String> query = Optional.empty();
    private byte[] body = new byte[0];
    private Optional<String> owner = Optional.empty();

    private Builder(String method, String path) {
      this.method = method;
      this.path = path;
    }

    /**
     * Sets the raw query string (without {@code ?}).
     *
     * @param query the query
     * @return this builder
     */
    public Builder query(String query) {
      this.query = Optional.of(requireNonNull(query, "query"));
      return this;
    }

    /**
     * Adds a header field.
     *
     * @param name the field name
     * @param value the field value
     * @return this builder
     * @throws IllegalArgumentException if the name is not a token or the value holds CR, LF or NUL
     */
    public Builder header(String name, String value) {
      headers.add(name, value);
      return this;
    }

    /**
     * Adds header fields.
     *
     * @param fields the fields to add
     * @return this builder
     */
    public Builder headers(Headers fields) {
      requireNonNull(fields, "headers");
      for (int i = 0; i < fields.size(); i++) {
        headers.add(fields.name(i), fields.value(i));
      }
      return this;
    }

    /**
     * Sets the body; kept as given (not copied), so do not change the array afterwards.
     *
     * @param bytes the body
     * @return this builder
     */
    public Builder body(byte[] bytes) {
      this.body = requireNonNull(bytes, "body");
      return this;
    }

    /**
     * Sets the owner: the subject of the identity a guard admitted.
     *
     * @param subject the subject
     * @return this builder
     * @throws IllegalArgumentException if {@code subject} is blank
     */
    public Builder owner(String subject) {
      requireNonNull(subject, "owner");
      if (subject.isBlank()) {
        throw new IllegalArgumentException("owner must not be blank");
      }
      this.owner = Optional.of(subject);
      return this;
    }

    /**
     * Returns the request.
     *
     * @return the request
     */
    public TaskRequest build() {
      return new TaskRequest(this);
    }
  }
}
