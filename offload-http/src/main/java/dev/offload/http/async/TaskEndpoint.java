package dev.offload.http.async;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.core.Completion;
import dev.offload.core.Decision;
import dev.offload.core.FailureKind;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Outcome;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.async.TaskPool;
import dev.offload.core.async.TaskRequest;
import dev.offload.core.async.TaskResult;
import dev.offload.core.async.TaskSnapshot;
import dev.offload.core.async.TaskState;
import dev.offload.core.async.internal.Prefer;
import dev.offload.core.async.TaskSubmission;
import dev.offload.core.guard.Identity;
import dev.offload.http.OffloadHandler;
import dev.offload.http.ServerExchange;
import dev.offload.http.internal.Problem;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Executes the {@code Offload} decisions of {@link AsyncTaskStrategy#to(TaskPool)} and {@link
 * AsyncTaskStrategy#statusEndpoint()}: the {@link OffloadHandler} that submits tasks to their
 * pools and answers for them over HTTP.
 *
 * <pre>{@code
 * import dev.offload.core.async.AsyncTaskStrategy;
 * import dev.offload.core.async.TaskPool;
 * import dev.offload.http.async.TaskEndpoint;
 *
 * TaskEndpoint tasks = TaskEndpoint.builder().pool(thumbnails).build();
 * OffloadRouter router = OffloadRouter.builder()
 *     .route(Route.post("/api/thumbnails"), AsyncTaskStrategy.to(thumbnails))
 *     .route(tasks.statusRoute(), AsyncTaskStrategy.statusEndpoint())
 *     .build();
 * OffloadExecutor executor = OffloadExecutor.builder(router).offloadHandler(tasks).build();
 * }</pre>
 *
 * <ul>
 *   <li>Submit: the body is read (at most {@link Builder#maxBodyBytes}, else 413), the pool's
 *       validator may refuse it (400), a full or stopped pool answers 503 with {@code
 *       Retry-After}; accepted is {@code 202 Accepted} with {@code Location: {prefix}/{id}},
 *       {@code Retry-After} (the estimated wait) and the status document. An {@code
 *       Idempotency-Key} maps repeats by the same identity to the same task and the same answer.
 *   <li>{@code GET {prefix}/{id}}: the status document ({@code application/json}: {@code id},
 *       {@code state}, {@code progress}, {@code error}); once succeeded, {@code 303 See Other} to
 *       {@code {prefix}/{id}/result}, which replays the task's response (status, header fields,
 *       body).
 *   <li>{@code DELETE {prefix}/{id}}: cancels; answers the status document.
 *   <li>With {@code TaskPool.Builder.inlineWhenIdle} on and the pool idle, a request without
 *       {@code Prefer: respond-async} waits for its task (run on a worker) and gets its result
 *       directly, with {@code Content-Location} naming the task; a request with it gets 202 and
 *       {@code Preference-Applied: respond-async}.
 *   <li>A fire-and-forget pool ({@code TaskPool.Builder.fireAndForget}) answers 202 without a
 *       {@code Location} or body: nothing can be polled.
 *   <li>A task owned by another identity (a guard admitted one when it was submitted) is 404,
 *       like an unknown id; an expired one is 410.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class TaskEndpoint implements OffloadHandler {
  /** Default status prefix. */
  public static final String DEFAULT_PREFIX = "/offload/tasks";
  /** Default bound on a submitted body: 16 MiB. */
  public static final long DEFAULT_MAX_BODY_BYTES = 16L << 20;
  /** The longest {@code Idempotency-Key} accepted. */
  public static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;

  private static final System.Logger LOG = System.getLogger(TaskEndpoint.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Not replayed: the server frames the replayed body itself. */
  private static final Set<String> FRAMING = Set.of("content-length", "transfer-encoding",
      "connection", "keep-alive", "upgrade", "trailer", "te", "proxy-connection");

  private final String prefix;
  private final Map<String, TaskPool> pools;
  private final long maxBodyBytes;

  private TaskEndpoint(Builder b) {
    this.prefix = b.prefix;
    this.pools = Map.copyOf(b.pools);
    this.maxBodyBytes = b.maxBodyBytes;
  }

  /**
   * Returns a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the status prefix, e.g. {@code /offload/tasks}.
   *
   * @return the prefix, without a trailing slash
   */
  public String prefix() {
    return prefix;
  }

  /**
   * Returns the route of the status paths, to pair with {@link
   * AsyncTaskStrategy#statusEndpoint()} in the router.
   *
   * @return {@code Route.prefix(prefix())}
   */
  public Route statusRoute() {
    return Route.prefix(prefix);
  }

  @Override
  public void handle(Decision.Offload offload, OffloadRequest request, ServerExchange exchange)
      throws IOException {
    requireNonNull(offload, "offload");
    requireNonNull(request, "request");
    requireNonNull(exchange, "exchange");
    Optional<String> owner = owner(offload, request);
    if (offload.queue().equals(AsyncTaskStrategy.STATUS_QUEUE)) {
      int status = status(request, owner, exchange);
      offload.handle().tryComplete(Outcome.SUCCESS, FailureKind.NONE, status, 0);
      return;
    }
    TaskPool pool = pools.get(offload.queue());
    if (pool == null) {
      LOG.log(System.Logger.Level.ERROR, "no task pool named '" + offload.queue()
          + "' was given to the TaskEndpoint");
      offload.handle().tryComplete(Outcome.FAILURE, FailureKind.INTERNAL_ERROR, 500, 0);
      Problem.send(exchange, 500, "the request could not be offloaded", Headers.empty());
      return;
    }
    submit(pool, offload, request, owner, exchange);
  }

  private static Optional<String> owner(Decision.Offload offload, OffloadRequest request) {
    Object admitted = offload.handle().attributes().get(Identity.KEY);
    if (admitted instanceof Identity identity) {
      return Optional.of(identity.subject());
    }
    return request.attribute(Identity.KEY).map(Identity::subject);
  }

  private void submit(TaskPool pool, Decision.Offload offload, OffloadRequest request,
      Optional<String> owner, ServerExchange exchange) throws IOException {
    Optional<String> key = request.header("Idempotency-Key");
    if (key.isPresent() && !validKey(key.get())) {
      refuse(offload, exchange, 400, "Idempotency-Key must be 1.." + MAX_IDEMPOTENCY_KEY_LENGTH
          + " visible ASCII characters", Headers.empty());
      return;
    }
    if (request.contentLength().orElse(0L) > maxBodyBytes) {
      refuse(offload, exchange, 413, "the body is larger than " + maxBodyBytes + " bytes", CLOSE);
      return;
    }
    byte[] body;
    try (InputStream in = exchange.requestBody()) {
      body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
    }
    if (body.length > maxBodyBytes) {
      refuse(offload, exchange, 413, "the body is larger than " + maxBodyBytes + " bytes", CLOSE);
      return;
    }
    TaskRequest.Builder task = TaskRequest.builder(request.method(), request.path())
        .headers(request.headers()).body(body);
    request.rawQuery().ifPresent(task::query);
    owner.ifPresent(task::owner);
    TaskSubmission submission = pool.submit(task.build(), key);
    if (submission instanceof TaskSubmission.Accepted accepted && pool.fireAndForget()) {
      offload.handle().tryComplete(Outcome.SUCCESS, FailureKind.NONE, 202, 0);
      send(exchange, 202, Headers.of("Cache-Control", "no-store"), new byte[0]);
    } else if (submission instanceof TaskSubmission.Accepted accepted) {
      boolean preferAsync = Prefer.respondAsync(request.headers());
      if (!accepted.repeated() && !preferAsync
          && offload.handle().attributes().get(TaskPool.INLINE) == Boolean.TRUE) {
        offload.handle().tryComplete(Outcome.SUCCESS, FailureKind.NONE, Completion.NO_STATUS, 0);
        Optional<TaskSnapshot> done = awaitFinal(pool, accepted.task().id());
        if (done.isPresent() && done.get().result().isPresent()) {
          replay(exchange, done.get().result().get(),
              Headers.of("Content-Location", location(done.get())));
          return;
        }
      }
      byte[] document = document(accepted.task());
      Headers.Builder headers = Headers.builder()
          .add("Location", location(accepted.task()))
          .add("Retry-After", seconds(accepted.retryAfter()))
          .add("Content-Type", "application/json")
          .add("Cache-Control", "no-store");
      if (preferAsync) {
        headers.add("Preference-Applied", "respond-async");
      }
      offload.handle().tryComplete(Outcome.SUCCESS, FailureKind.NONE, 202, document.length);
      send(exchange, 202, headers.build(), document);
    } else if (submission instanceof TaskSubmission.Invalid invalid) {
      refuse(offload, exchange, 400, invalid.reason(), Headers.empty());
    } else if (submission instanceof TaskSubmission.Refused refused) {
      refuse(offload, exchange, 503, refused.reason(),
          Headers.of("Retry-After", seconds(refused.retryAfter())));
    } else {
      throw new AssertionError("unknown submission " + submission);
    }
  }

  /**
   * Waits, up to the pool's inline wait, for the task to reach a final state (it runs on the
   * pool's worker; this thread only waits). Empty when it did not in time.
   */
  private static Optional<TaskSnapshot> awaitFinal(TaskPool pool, String id) {
    Optional<CompletionStage<TaskSnapshot>> stage = pool.whenFinal(id);
    if (stage.isEmpty()) {
      return pool.find(id).filter(t -> t.state().isFinal());
    }
    try {
      return Optional.of(stage.get().toCompletableFuture()
          .get(pool.inlineWait().orElseThrow().toNanos(), TimeUnit.NANOSECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } catch (ExecutionException | TimeoutException e) {
      return Optional.empty();
    }
  }

  private static final Headers CLOSE = Headers.of("Connection", "close");

  private static void refuse(Decision.Offload offload, ServerExchange exchange, int status,
      String reason, Headers headers) throws IOException {
    offload.handle().tryComplete(Outcome.DROPPED, FailureKind.REJECTED_LOCALLY, status, 0);
    Problem.send(exchange, status, reason, headers);
  }

  /** Answers a status path; returns the status sent. */
  private int status(OffloadRequest request, Optional<String> owner, ServerExchange exchange)
      throws IOException {
    String path = request.path();
    String rest = path.startsWith(prefix + "/") ? path.substring(prefix.length() + 1) : "";
    boolean result = rest.endsWith("/result");
    String id = result ? rest.substring(0, rest.length() - "/result".length()) : rest;
    if (id.isEmpty() || id.indexOf('/') >= 0) {
      return problem(exchange, 404, "no such task", Headers.empty());
    }
    String method = request.method();
    boolean read = method.equals("GET") || method.equals("HEAD");
    if (!read && !(method.equals("DELETE") && !result)) {
      return problem(exchange, 405, "method " + method + " is not allowed here",
          Headers.of("Allow", result ? "GET, HEAD" : "GET, HEAD, DELETE"));
    }
    Optional<TaskPool> pool;
    boolean expired = false;
    TaskSnapshot task = null;
    try { // a shared store (Redis) can be unreachable: 503, not 500
      pool = poolOf(id, owner);
      if (pool.isEmpty()) {
        expired = pools.values().stream()
            .anyMatch(p -> p.findExpired(id).filter(t -> t.visibleTo(owner)).isPresent());
      } else if (method.equals("DELETE")) {
        task = pool.get().cancel(id).orElse(null);
      } else {
        task = pool.get().find(id).orElse(null);
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "task store unavailable while answering a status", e);
      return problem(exchange, 503, "the task store is unavailable",
          Headers.of("Retry-After", "1"));
    }
    if (pool.isEmpty()) {
      return expired ? problem(exchange, 410, "the task expired", Headers.empty())
          : problem(exchange, 404, "no such task", Headers.empty());
    }
    if (method.equals("DELETE")) {
      if (task == null) {
        return problem(exchange, 410, "the task expired", Headers.empty());
      }
      return json(exchange, 200, task, Headers.empty());
    }
    if (task == null) {
      return problem(exchange, 410, "the task expired", Headers.empty());
    }
    if (result) {
      if (task.state() != TaskState.SUCCEEDED) {
        return problem(exchange, 409, "the task has no result: it is " + task.state().tag(),
            Headers.empty());
      }
      return replay(exchange, task.result().orElseThrow(), Headers.empty());
    }
    if (task.state() == TaskState.SUCCEEDED) {
      return json(exchange, 303, task, Headers.of("Location", location(task) + "/result"));
    }
    Headers poll = task.state().isFinal() ? Headers.empty()
        : Headers.of("Retry-After", seconds(pool.get().estimatedWait()));
    return json(exchange, 200, task, poll);
  }

  /** The pool whose task {@code id} is visible to {@code owner}, if any. */
  private Optional<TaskPool> poolOf(String id, Optional<String> owner) {
    for (TaskPool pool : pools.values()) {
      Optional<TaskSnapshot> task = pool.find(id);
      if (task.isPresent()) {
        return task.get().visibleTo(owner) ? Optional.of(pool) : Optional.empty();
      }
    }
    return Optional.empty();
  }

  private int replay(ServerExchange exchange, TaskResult result, Headers extra)
      throws IOException {
    Headers.Builder headers = extra.toBuilder();
    Headers replayed = result.headers();
    for (int i = 0; i < replayed.size(); i++) {
      if (!FRAMING.contains(replayed.name(i).toLowerCase(Locale.ROOT))) {
        headers.add(replayed.name(i), replayed.value(i));
      }
    }
    headers.set("Cache-Control", "no-store");
    exchange.startResponse(result.status(), headers.build(), result.bodyLength());
    try (OutputStream out = exchange.responseBody()) {
      if (!"HEAD".equals(exchange.method())) {
        result.writeBodyTo(out);
      }
    }
    return result.status();
  }

  private int json(ServerExchange exchange, int status, TaskSnapshot task, Headers extra)
      throws IOException {
    Headers headers = extra.plus(Headers.of("Content-Type", "application/json",
        "Cache-Control", "no-store"));
    send(exchange, status, headers, document(task));
    return status;
  }

  private static int problem(ServerExchange exchange, int status, String reason, Headers extra)
      throws IOException {
    Problem.send(exchange, status, reason, extra);
    return status;
  }

  private static void send(ServerExchange exchange, int status, Headers headers, byte[] body)
      throws IOException {
    exchange.startResponse(status, headers, body.length);
    try (OutputStream out = exchange.responseBody()) {
      if (!"HEAD".equals(exchange.method())) {
        out.write(body);
      }
    }
  }

  /** The status document: id, state, progress, error, and the status and result URLs. */
  private byte[] document(TaskSnapshot task) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("id", task.id());
    doc.put("state", task.state().tag());
    task.progress().ifPresent(p -> doc.put("progress", p));
    if (task.cancelRequested() && !task.state().isFinal()) {
      doc.put("cancelRequested", true);
    }
    task.error().ifPresent(e -> doc.put("error", e));
    doc.put("status", location(task));
    if (task.state() == TaskState.SUCCEEDED) {
      doc.put("result", location(task) + "/result");
    }
    try {
      return JSON.writeValueAsBytes(doc);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String location(TaskSnapshot task) {
    return prefix + "/" + task.id();
  }

  private static String seconds(Duration wait) {
    return Long.toString(Math.max(1, wait.toSeconds()));
  }

  /** Visible ASCII and spaces (a structured-field string's quotes included), 1..255. */
  private static boolean validKey(String key) {
    if (key.isEmpty() || key.length() > MAX_IDEMPOTENCY_KEY_LENGTH) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "TaskEndpoint(" + prefix + ", pools " + List.copyOf(pools.keySet()) + ")";
  }

  /** Builds a {@link TaskEndpoint}. Not thread-safe. */
  public static final class Builder {
    private final Map<String, TaskPool> pools = new LinkedHashMap<>();
    private String prefix = DEFAULT_PREFIX;
    private long maxBodyBytes = DEFAULT_MAX_BODY_BYTES;

    private Builder() {}

    /**
     * Adds a pool whose {@code Offload} decisions this endpoint submits and whose tasks it
     * serves.
     *
     * @param pool the pool
     * @return this builder
     * @throws IllegalArgumentException if another pool of the same name was added
     */
    public Builder pool(TaskPool pool) {
      requireNonNull(pool, "pool");
      TaskPool before = pools.putIfAbsent(pool.name(), pool);
      if (before != null && before != pool) {
        throw new IllegalArgumentException("two task pools are named '" + pool.name() + "'");
      }
      return this;
    }

    /**
     * Sets the prefix of the status paths. Default {@value #DEFAULT_PREFIX}.
     *
     * @param prefix a path starting with {@code /}, of segments of letters, digits, {@code -},
     *     {@code _} and {@code .}; a trailing slash is dropped
     * @return this builder
     * @throws IllegalArgumentException if {@code prefix} is not such a path
     */
    public Builder prefix(String prefix) {
      requireNonNull(prefix, "prefix");
      String p = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
      if (!p.matches("(/[A-Za-z0-9._-]+)+") || p.contains("/./") || p.contains("/../")
          || p.endsWith("/.") || p.endsWith("/..")) {
        throw new IllegalArgumentException("prefix must be a path like /offload/tasks of letters,"
            + " digits, '-', '_' and '.', got '" + prefix + "'");
      }
      this.prefix = p;
      return this;
    }

    /**
     * Sets the largest body a task accepts; larger ones are answered 413. Default 16 MiB.
     *
     * @param bytes the bound, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is not positive
     */
    public Builder maxBodyBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxBodyBytes must be positive, got " + bytes);
      }
      this.maxBodyBytes = bytes;
      return this;
    }

    /**
     * Returns the endpoint.
     *
     * @return the endpoint
     * @throws IllegalStateException if no pool was added
     */
    public TaskEndpoint build() {
      if (pools.isEmpty()) {
        throw new IllegalStateException("a TaskEndpoint needs at least one pool: call pool(...)");
      }
      return new TaskEndpoint(this);
    }
  }
}
