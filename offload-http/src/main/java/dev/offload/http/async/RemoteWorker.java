package dev.offload.http.async;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import dev.offload.core.async.Task;
import dev.offload.core.async.TaskRequest;
import dev.offload.core.async.TaskResult;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * A {@link Task} that hands the work to a worker service over HTTP (OkHttp), with the same
 * contract as local work: the pool's worker thread sends the accepted request to the service,
 * waits for its answer and keeps it as the task's result (replayed by the status endpoint). A
 * 5xx answer, a timeout or a connection failure fails the task; any other answer is the result.
 *
 * <pre>{@code
 * TaskPool transcodes = TaskPool.builder("transcode")
 *     .workers(8)                                  // calls in flight to the worker service
 *     .task(RemoteWorker.builder(URI.create("http://transcoder.internal:8080/jobs")).build())
 *     .build();
 * }</pre>
 *
 * <p>Sent: the request's method, its {@code Content-Type} and its body; with {@link
 * Builder#forwardPath} the request's path and query are appended to the base URI. Kept from the
 * answer: its status, header fields other than framing and hop-by-hop ones, and its body up to
 * {@link Builder#maxResultBytes} (a larger body fails the task). Thread-safe; share the client.
 */
public final class RemoteWorker implements Task {
  /** Default bound on a result body: 16 MiB. */
  public static final long DEFAULT_MAX_RESULT_BYTES = 16L << 20;
  /** Default call timeout: five minutes. */
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofMinutes(5);

  private static final Set<String> NOT_KEPT = Set.of("content-length", "transfer-encoding",
      "connection", "keep-alive", "upgrade", "trailer", "te", "proxy-connection",
      "proxy-authenticate", "set-cookie");

  private final HttpUrl base;
  private final OkHttpClient client;
  private final boolean forwardPath;
  private final long maxResultBytes;

  private RemoteWorker(Builder b) {
    this.base = b.base;
    this.client = b.client.newBuilder().callTimeout(b.callTimeout).followRedirects(false).build();
    this.forwardPath = b.forwardPath;
    this.maxResultBytes = b.maxResultBytes;
  }

  /**
   * Returns a builder for a worker service at {@code endpoint}.
   *
   * @param endpoint the service's absolute {@code http} or {@code https} URI
   * @return the builder
   * @throws IllegalArgumentException if {@code endpoint} is not an absolute http(s) URI
   */
  public static Builder builder(URI endpoint) {
    requireNonNull(endpoint, "endpoint");
    HttpUrl url = HttpUrl.parse(endpoint.toString());
    if (url == null || endpoint.getUserInfo() != null) {
      throw new IllegalArgumentException(
          "endpoint must be an absolute http(s) URI without user info, got '" + endpoint + "'");
    }
    return new Builder(url);
  }

  /**
   * Sends the request to the worker service and returns its answer.
   *
   * @param request the accepted request
   * @return the service's answer as the task's result
   * @throws IOException when the call fails, times out, the service answers 5xx, or the answer's
   *     body is larger than the bound
   */
  @Override
  public TaskResult run(TaskRequest request) throws IOException {
    HttpUrl url = base;
    if (forwardPath) {
      HttpUrl.Builder b = base.newBuilder();
      for (String segment : request.path().substring(1).split("/", -1)) {
        b.addPathSegment(segment);
      }
      request.query().ifPresent(b::encodedQuery);
      url = b.build();
    }
    String contentType = request.header("Content-Type").orElse("application/octet-stream");
    MediaType type = MediaType.parse(contentType);
    boolean bodyless = request.method().equals("GET") || request.method().equals("HEAD");
    RequestBody body = bodyless ? null : RequestBody.create(request.body(), type);
    Request call = new Request.Builder().url(url).method(request.method(), body).build();
    try (Response response = client.newCall(call).execute()) {
      if (response.code() >= 500) {
        throw new IOException("worker service answered " + response.code());
      }
      Headers.Builder kept = Headers.builder();
      for (int i = 0; i < response.headers().size(); i++) {
        String name = response.headers().name(i);
        if (!NOT_KEPT.contains(name.toLowerCase(Locale.ROOT))) {
          kept.add(name, response.headers().value(i));
        }
      }
      ResponseBody responseBody = response.body();
      byte[] bytes;
      try (InputStream in = responseBody.byteStream()) {
        bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxResultBytes + 1));
      }
      if (bytes.length > maxResultBytes) {
        throw new IOException("worker service's answer is larger than " + maxResultBytes
            + " bytes");
      }
      int status = response.code() == 304 || response.code() < 200 ? 502 : response.code();
      return TaskResult.of(status, kept.build(), bytes);
    }
  }

  @Override
  public String toString() {
    return "RemoteWorker(" + base + ")";
  }

  /** Builds a {@link RemoteWorker}. Not thread-safe. */
  public static final class Builder {
    private final HttpUrl base;
    private OkHttpClient client = new OkHttpClient();
    private Duration callTimeout = DEFAULT_CALL_TIMEOUT;
    private boolean forwardPath;
    private long maxResultBytes = DEFAULT_MAX_RESULT_BYTES;

    private Builder(HttpUrl base) {
      this.base = base;
    }

    /**
     * Sets the client calls derive from (its connection pool and dispatcher are shared).
     *
     * @param client the client
     * @return this builder
     */
    public Builder client(OkHttpClient client) {
      this.client = requireNonNull(client, "client");
      return this;
    }

    /**
     * Sets the longest one call to the service may take. Default five minutes.
     *
     * @param timeout the timeout, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code timeout} is not positive
     */
    public Builder callTimeout(Duration timeout) {
      requireNonNull(timeout, "callTimeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("callTimeout must be positive, got " + timeout);
      }
      this.callTimeout = timeout;
      return this;
    }

    /**
     * Appends the request's path and query to the endpoint (default: the endpoint as given).
     *
     * @param forward whether to append them
     * @return this builder
     */
    public Builder forwardPath(boolean forward) {
      this.forwardPath = forward;
      return this;
    }

    /**
     * Sets the largest answer body kept as a result; a larger one fails the task. Default 16 MiB.
     *
     * @param bytes the bound, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is not positive
     */
    public Builder maxResultBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxResultBytes must be positive, got " + bytes);
      }
      this.maxResultBytes = bytes;
      return this;
    }

    /**
     * Returns the task.
     *
     * @return the remote worker
     */
    public RemoteWorker build() {
      return new RemoteWorker(this);
    }
  }
}
