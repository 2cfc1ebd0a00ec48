package dev.offload.core.async;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.AttributeKey;
import dev.offload.core.internal.Settings;
import dev.offload.core.internal.ThrottledLog;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * A dedicated, bounded pool of workers for one kind of task (a bulkhead): a queue of at most
 * {@link Builder#queueCapacity} accepted tasks, run by at most {@link Builder#workers} workers,
 * never by request threads. It gives each task an unguessable id, keeps its state in a {@link
 * TaskStore} ({@code queued -> running -> succeeded | failed}, or {@code cancelled}), maps
 * idempotency keys to tasks, and refuses work it has no room for with an estimated wait.
 *
 * <pre>{@code
 * TaskPool thumbnails = TaskPool.builder("thumbnails")
 *     .workers(4).queueCapacity(200)
 *     .task(request -> TaskResult.of(200, "image/png", Thumbnails.resize(request.body())))
 *     .validator(request -> isImage(request) ? Optional.empty() : Optional.of("not an image"))
 *     .resultTtl(Duration.ofMinutes(10))
 *     .ticker(ticker)                       // the router's
 *     .build();
 * router = OffloadRouter.builder()
 *     .route(Route.post("/api/thumbnails"), AsyncTaskStrategy.to(thumbnails))
 *     ...
 * }</pre>
 *
 * <p>Thread-safe; share one pool. It owns its worker threads unless an {@link Builder#executor}
 * is given; {@link #shutdown} stops accepting, drains and leaves every accepted task final.
 *
 * <p>With a durable {@link Builder#queue} (offload-redis's {@code RedisTaskQueue}) the pool keeps
 * no queue of its own: {@link #submit} persists each task in that queue before it answers, and
 * the pool's workers, started when it is built, take tasks from it, on every instance that
 * shares it.
 */
public final class TaskPool {
  /** Default number of workers: 1. */
  public static final int DEFAULT_WORKERS = 1;
  /** Default queue capacity: 100 tasks waiting for a worker. */
  public static final int DEFAULT_QUEUE_CAPACITY = 100;
  /** Default time a final task's result is kept: ten minutes. */
  public static final Duration DEFAULT_RESULT_TTL = Duration.ofMinutes(10);
  /** The {@code Retry-After} before any task has finished, when there is no throughput yet. */
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);
  /** The longest {@code Retry-After} estimated. */
  public static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);

  /**
   * Set on an {@code Offload} decision's handle when {@link AsyncTaskStrategy#to(TaskPool)}
   * decided to answer inline: the pool was idle, the client did not send {@code Prefer:
   * respond-async}, and {@link Builder#inlineWhenIdle} is on. The executor then waits for the
   * task (on its worker) and answers with its result.
   */
  public static final AttributeKey<Boolean> INLINE =
      AttributeKey.of("dev.offload.task.inline", Boolean.class);

  private static final System.Logger LOG = System.getLogger(TaskPool.class.getName());
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{22}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  /** How long a worker waits for a durable queue in one poll. */
  private static final Duration POLL_WAIT = Duration.ofSeconds(1);
  /** How long a worker waits before polling again after the durable queue failed. */
  private static final Duration POLL_RETRY = Duration.ofMillis(500);

  private final String name;
  private final int workers;
  private final int capacity;
  private final Task task;
  private final TaskValidator validator;
  private final long ttlNanos;
  private final Ticker ticker;
  private final TaskStore store;
  private final Executor executor;
  private final ExecutorService ownedExecutor;
  private final TaskMetrics metrics;
  private final Duration inlineWait;
  private final boolean fireAndForget;
  /** The durable queue, or null: the pool's own in-memory {@link #queue}. */
  private final TaskQueue durable;
  private final ThrottledLog throttledLog;
  private final CountDownLatch stopped = new CountDownLatch(1);

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition idle = lock.newCondition();
  private final ArrayDeque<Running> queue = new ArrayDeque<>();
  private final Map<String, Running> active = new ConcurrentHashMap<>();
  private final AtomicInteger reserved = new AtomicInteger();
  private volatile int queued;
  private volatile int running;
  private int drainers;
  private volatile boolean accepting = true;
  /** Mean time a task runs, nanos, exponentially weighted; 0 until one finished. */
  private volatile double meanRunNanos;

  private TaskPool(Builder b) {
    this.name = b.name;
    this.workers = b.workers;
    this.capacity = b.queueCapacity;
    this.task = requireNonNull(b.task, "task (TaskPool '" + b.name + "' has no task: call task(...))");
    this.validator = b.validator;
    this.ttlNanos = b.resultTtl.toNanos();
    this.ticker = b.ticker;
    this.store = b.store != null ? b.store : InMemoryTaskStore.builder().ticker(b.ticker).build();
    if (b.executor != null) {
      this.executor = b.executor;
      this.ownedExecutor = null;
    } else {
      AtomicInteger n = new AtomicInteger();
      ThreadPoolExecutor threads = new ThreadPoolExecutor(workers, workers, 60, TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "offload-task-" + name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
          });
      threads.allowCoreThreadTimeOut(true);
      this.executor = threads;
      this.ownedExecutor = threads;
    }
    this.metrics = new TaskMetrics(b.registry, name, this::waiting);
    this.inlineWait = b.inlineWait;
    this.fireAndForget = b.fireAndForget;
    this.durable = b.queue;
    this.throttledLog = new ThrottledLog(LOG, b.ticker, ThrottledLog.DEFAULT_INTERVAL);
  }

  /** Starts the workers that take tasks from the durable queue, if there is one. */
  private void startPollers() {
    if (durable == null) {
      return;
    }
    for (int i = 0; i < workers; i++) {
      executor.execute(this::poll);
    }
  }

  /**
   * Returns whether the pool runs fire-and-forget work: accepted with 202 and no status URL, its
   * outcome counted but not kept.
   *
   * @return whether results are discarded
   */
  public boolean fireAndForget() {
    return fireAndForget;
  }

  /**
   * Returns how long a request answered inline waits for its task, if {@link
   * Builder#inlineWhenIdle} is on.
   *
   * @return the longest wait, or empty when requests are never answered inline
   */
  public Optional<Duration> inlineWait() {
    return Optional.ofNullable(inlineWait);
  }

  /**
   * Returns a stage completed with the task's final snapshot when it reaches a final state, if
   * the pool still holds the task (it is queued or running); empty otherwise (look it up with
   * {@link #find}).
   *
   * @param id the task's id
   * @return the stage, or empty
   */
  public Optional<CompletionStage<TaskSnapshot>> whenFinal(String id) {
    Running task = active.get(requireNonNull(id, "id"));
    return task == null ? Optional.empty() : Optional.of(task.done.minimalCompletionStage());
  }

  /**
   * Returns a builder for a pool.
   *
   * @param name the pool's name: the {@code Offload} decision's queue and the {@code pool} metric
   *     tag; letters, digits, {@code .}, {@code _} and {@code -}, at most 64
   * @return the builder
   * @throws IllegalArgumentException if {@code name} is not such a name
   */
  public static Builder builder(String name) {
    requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("pool name must be 1..64 letters, digits, '.', '_' or '-'"
          + " starting with a letter or digit, got '" + name + "'");
    }
    return new Builder(name);
  }

  /**
   * Returns the pool's name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Returns the store the pool keeps its tasks in.
   *
   * @return the store
   */
  public TaskStore store() {
    return store;
  }

  /**
   * Returns the number of tasks waiting for a worker.
   *
   * @return the queue's depth
   */
  public int depth() {
    return waiting();
  }

  /** The tasks waiting: in the own queue, or in the durable one as last seen (no I/O). */
  private int waiting() {
    return durable == null ? queued : durable.depth();
  }

  /**
   * Returns the number of tasks running now.
   *
   * @return the running tasks
   */
  public int running() {
    return running;
  }

  /**
   * Returns the number of workers.
   *
   * @return the bound on running tasks
   */
  public int workers() {
    return workers;
  }

  /**
   * Returns the queue's capacity.
   *
   * @return the bound on waiting tasks
   */
  public int queueCapacity() {
    return capacity;
  }

  /**
   * Returns whether the pool accepts tasks (it was not shut down).
   *
   * @return whether it accepts
   */
  public boolean accepting() {
    return accepting;
  }

  /**
   * Returns whether a task submitted now would find room: the pool accepts and its queue, with
   * the places held by decisions not yet executed, is below capacity. Reads only; no I/O.
   *
   * @return whether there is room
   */
  public boolean hasRoom() {
    return accepting && waiting() + reserved.get() < capacity;
  }

  /**
   * Returns whether a worker is free and nothing waits: a request could run at once. Always false
   * with a durable queue (a task may run on another instance, so it is never answered inline).
   *
   * @return whether the pool is idle
   */
  public boolean isIdle() {
    return durable == null && queued == 0 && running < workers;
  }

  /**
   * Returns the estimated wait of a task queued now: the tasks ahead of it (and itself) times
   * the measured mean run time, spread over the workers; {@link #DEFAULT_RETRY_AFTER} before
   * any task finished; at least one second, at most {@link #MAX_RETRY_AFTER}.
   *
   * @return the estimate, whole seconds
   */
  public Duration estimatedWait() {
    double mean = meanRunNanos;
    if (mean <= 0) {
      return DEFAULT_RETRY_AFTER;
    }
    double nanos = (waiting() + 1) * mean / workers;
    long seconds = (long) Math.ceil(nanos / 1e9);
    return Duration.ofSeconds(Math.max(1, Math.min(MAX_RETRY_AFTER.toSeconds(), seconds)));
  }

  /** Holds a queue place for a decision; false when there is no room. */
  boolean tryReserve() {
    while (true) {
      int r = reserved.get();
      if (!accepting || waiting() + r >= capacity) {
        return false;
      }
      if (reserved.compareAndSet(r, r + 1)) {
        return true;
      }
    }
  }

  /** Counts a refusal decided by the strategy (no room at decide time). */
  void refusedAtDecide() {
    metrics.rejected(accepting ? "full" : "shutdown");
  }

  /** Releases a place {@link #tryReserve} held (the decision was executed or dropped). */
  void release() {
    reserved.decrementAndGet();
  }

  /**
   * Validates {@code request} and queues its task, or says why not. With an idempotency key, a
   * request whose owner already submitted that key to this pool gets that first task back
   * instead. Runs the validator on the calling thread; never runs the task on it (unless the
   * pool's executor is a direct one, as in tests).
   *
   * @param request the request, with its body
   * @param idempotencyKey the client's {@code Idempotency-Key}, or empty
   * @return accepted (the task), invalid (the validator's reason) or refused (full or shut down,
   *     with an estimated {@code Retry-After})
   */
  public TaskSubmission submit(TaskRequest request, Optional<String> idempotencyKey) {
    requireNonNull(request, "request");
    requireNonNull(idempotencyKey, "idempotencyKey");
    if (!accepting) {
      metrics.rejected("shutdown");
      return new TaskSubmission.Refused("task pool '" + name + "' is shutting down",
          estimatedWait());
    }
    Optional<String> refusal;
    try {
      refusal = validator.refusal(request);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "validator of task pool '" + name + "' threw", e);
      refusal = Optional.of("the request could not be validated");
    }
    if (refusal.isPresent()) {
      metrics.rejected("invalid");
      return new TaskSubmission.Invalid(refusal.get());
    }
    if (durable != null) {
      return submitDurably(request, idempotencyKey);
    }
    Running task = new Running(newId(), request, ticker.read());
    store.put(task.snapshot());
    String key = idempotencyKey.map(k -> name + '\n' + request.owner().orElse("") + '\n' + k)
        .orElse(null);
    if (key != null) {
      Optional<String> holder = store.claimKey(key, task.id);
      if (holder.isPresent()) {
        store.remove(task.id);
        Optional<TaskSnapshot> first = store.get(holder.get()).or(() -> store.expired(holder.get()));
        if (first.isPresent()) {
          return new TaskSubmission.Accepted(first.get(), true, estimatedWait());
        }
        // the first task was forgotten between the claim and the lookup: treat as new
        return submit(request, Optional.empty());
      }
    }
    lock.lock();
    boolean startDrainer;
    try {
      if (!accepting || queued >= capacity) {
        forget(task, key);
        metrics.rejected(accepting ? "full" : "shutdown");
        return new TaskSubmission.Refused(accepting
            ? "task queue '" + name + "' is full" : "task pool '" + name + "' is shutting down",
            estimatedWait());
      }
      queue.addLast(task);
      active.put(task.id, task);
      queued = queue.size();
      startDrainer = drainers < workers;
      if (startDrainer) {
        drainers++;
      }
    } finally {
      lock.unlock();
    }
    metrics.submitted();
    Duration wait = estimatedWait();
    TaskSnapshot accepted = task.snapshot();
    if (startDrainer) {
      try {
        executor.execute(this::drain);
      } catch (RejectedExecutionException e) {
        lock.lock();
        try {
          drainers--;
          if (drainers == 0 && queue.remove(task)) {
            queued = queue.size();
            active.remove(task.id);
            forget(task, key);
            metrics.rejected("full");
            return new TaskSubmission.Refused("task pool '" + name + "' has no worker",
                estimatedWait());
          }
        } finally {
          lock.unlock();
        }
      }
    }
    return new TaskSubmission.Accepted(accepted, false, wait);
  }

  /**
   * Persists the task's snapshot, its idempotency key and then the task itself in the durable
   * queue; answers accepted only when all of it was acknowledged, refused (503) when any of it
   * could not be.
   */
  private TaskSubmission submitDurably(TaskRequest request, Optional<String> idempotencyKey) {
    Running task = new Running(newId(), request, ticker.read());
    String key = idempotencyKey.map(k -> name + '\n' + request.owner().orElse("") + '\n' + k)
        .orElse(null);
    try {
      store.put(task.snapshot());
      if (key != null) {
        Optional<String> holder = store.claimKey(key, task.id);
        if (holder.isPresent()) {
          store.remove(task.id);
          Optional<TaskSnapshot> first =
              store.get(holder.get()).or(() -> store.expired(holder.get()));
          if (first.isPresent()) {
            return new TaskSubmission.Accepted(first.get(), true, estimatedWait());
          }
          return submitDurably(request, Optional.empty());
        }
      }
    } catch (RuntimeException e) {
      throttledLog.log(System.Logger.Level.WARNING, "store",
          "task pool '" + name + "' cannot reach its task store", e);
      forgetQuietly(task, key);
      metrics.rejected("unavailable");
      return new TaskSubmission.Refused("the task store is unavailable", estimatedWait());
    }
    Optional<TaskQueue.Refusal> refusal;
    try {
      refusal = durable.offer(new TaskQueue.QueuedTask(task.id, name, request, idempotencyKey),
          capacity);
    } catch (RuntimeException e) {
      throttledLog.log(System.Logger.Level.WARNING, "offer",
          "task pool '" + name + "' cannot reach its task queue", e);
      refusal = Optional.of(new TaskQueue.Refusal("the task queue is unavailable", false));
    }
    if (refusal.isPresent()) {
      forgetQuietly(task, key);
      metrics.rejected(refusal.get().full() ? "full" : "unavailable");
      return new TaskSubmission.Refused(refusal.get().reason(), estimatedWait());
    }
    metrics.submitted();
    return new TaskSubmission.Accepted(task.snapshot(), false, estimatedWait());
  }

  /** Forgets a task that was not accepted; a store that cannot be reached is logged. */
  private void forgetQuietly(Running task, String key) {
    try {
      forget(task, key);
    } catch (RuntimeException e) {
      throttledLog.log(System.Logger.Level.WARNING, "store",
          "task pool '" + name + "' could not forget refused task " + task.id, e);
    }
  }

  /** A worker of a pool with a durable queue: takes tasks from it until the pool shuts down. */
  private void poll() {
    while (accepting) {
      Optional<TaskQueue.Delivery> delivery;
      try {
        delivery = durable.poll(POLL_WAIT);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (!accepting) {
          return;
        }
        throttledLog.log(System.Logger.Level.WARNING, "poll",
            "task pool '" + name + "' cannot reach its task queue; trying again", e);
        try {
          if (stopped.await(POLL_RETRY.toNanos(), TimeUnit.NANOSECONDS)) {
            return;
          }
        } catch (InterruptedException ie) {
          return;
        }
        continue;
      }
      if (delivery.isPresent() && accepting) {
        take(delivery.get());
      } else if (delivery.isPresent()) {
        durable.release(delivery.get()); // taken at shutdown: reclaimed by another instance
      }
    }
  }

  /** Runs a task delivered by the durable queue, unless it is final or was never accepted. */
  private void take(TaskQueue.Delivery delivery) {
    TaskQueue.QueuedTask queued = delivery.task();
    if (!queued.pool().equals(name)) {
      throttledLog.log(System.Logger.Level.ERROR, "pool",
          "task pool '" + name + "' was delivered a task of pool '" + queued.pool()
              + "' (two pools share one queue?); left for that pool", null);
      durable.release(delivery);
      return;
    }
    Optional<TaskSnapshot> current;
    try {
      current = store.get(queued.id());
    } catch (RuntimeException e) {
      throttledLog.log(System.Logger.Level.WARNING, "store",
          "task pool '" + name + "' cannot reach its task store; task " + queued.id()
              + " stays pending", e);
      durable.release(delivery);
      return;
    }
    if (current.isEmpty() || current.get().state().isFinal()) {
      // refused after all (its snapshot was removed), cancelled while queued, or finished by a
      // worker whose acknowledgement was lost: nothing to run
      ack(delivery);
      return;
    }
    Running task = new Running(queued.id(), queued.request(), current.get().createdNanos());
    task.delivery = delivery;
    lock.lock();
    try {
      running++;
    } finally {
      lock.unlock();
    }
    active.put(task.id, task);
    try {
      run(task);
    } finally {
      active.remove(task.id);
      lock.lock();
      try {
        running--;
        idle.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  private void ack(TaskQueue.Delivery delivery) {
    try {
      durable.ack(delivery);
    } catch (RuntimeException e) {
      throttledLog.log(System.Logger.Level.WARNING, "ack", "task pool '" + name
          + "' could not acknowledge task " + delivery.task().id()
          + "; it will be delivered again after the reclaim timeout", e);
    }
  }

  /**
   * Stores a snapshot: for a task of the own queue as before; for one from the durable queue,
   * a failure is logged and reported, not thrown.
   */
  private boolean put(Running task, TaskSnapshot snapshot) {
    if (task.delivery == null) {
      store.put(snapshot);
      return true;
    }
    try {
      store.put(snapshot);
      return true;
    } catch (RuntimeException e) {
      throttledLog.log(System.Logger.Level.WARNING, "store",
          "task pool '" + name + "' cannot reach its task store", e);
      return false;
    }
  }

  private void forget(Running task, String key) {
    store.remove(task.id);
    if (key != null) {
      store.releaseKey(key, task.id);
    }
  }

  /**
   * Returns the task's current snapshot, if the pool's store knows it and it did not expire.
   *
   * @param id the task's id
   * @return the snapshot, or empty
   */
  public Optional<TaskSnapshot> find(String id) {
    requireNonNull(id, "id");
    return ID.matcher(id).matches() ? store.get(id).filter(t -> t.pool().equals(name))
        : Optional.empty();
  }

  /**
   * Returns what is remembered of the task once it expired (answer 410), if anything.
   *
   * @param id the task's id
   * @return its last snapshot without the result, or empty
   */
  public Optional<TaskSnapshot> findExpired(String id) {
    requireNonNull(id, "id");
    return ID.matcher(id).matches() ? store.expired(id).filter(t -> t.pool().equals(name))
        : Optional.empty();
  }

  /**
   * Cancels a task: a queued one is cancelled at once and never runs; a running one is asked to
   * stop ({@link TaskRequest#cancelRequested()}) and ends cancelled, its result discarded, when
   * it returns. A final task is left as it is.
   *
   * @param id the task's id
   * @return the task's snapshot after the request, or empty when the pool does not know it
   */
  public Optional<TaskSnapshot> cancel(String id) {
    requireNonNull(id, "id");
    Running task = active.get(id);
    if (task == null && durable != null) {
      return cancelDurably(id);
    }
    if (task == null) {
      return find(id);
    }
    boolean wasQueued;
    lock.lock();
    try {
      wasQueued = queue.remove(task);
      queued = queue.size();
    } finally {
      lock.unlock();
    }
    if (wasQueued) {
      finish(task, TaskState.CANCELLED, null, "cancelled", -1);
    } else {
      synchronized (task) { // stores under the task's lock: a final snapshot is never overwritten
        if (!task.state.isFinal()) {
          task.cancelRequested = true;
          put(task, task.snapshot());
        }
      }
    }
    return store.get(id).or(() -> Optional.of(task.snapshot()));
  }

  /**
   * Cancels a task of the durable queue that this instance does not run: a queued one is stored
   * cancelled (the worker that takes it skips it); one running on another instance is not
   * stopped (its snapshot is returned as it is).
   */
  private Optional<TaskSnapshot> cancelDurably(String id) {
    Optional<TaskSnapshot> found = find(id);
    if (found.isEmpty() || found.get().state() != TaskState.QUEUED) {
      return found;
    }
    TaskSnapshot task = found.get();
    long now = ticker.read();
    TaskSnapshot cancelled = new TaskSnapshot(task.id(), task.pool(), task.owner(),
        TaskState.CANCELLED, task.progress(), false, Optional.empty(), Optional.of("cancelled"),
        task.createdNanos(), now, satAdd(now, ttlNanos));
    store.put(cancelled);
    metrics.completed(TaskState.CANCELLED, -1);
    return Optional.of(cancelled);
  }

  /** A worker: runs queued tasks until the queue is empty. */
  private void drain() {
    while (true) {
      Running task;
      lock.lock();
      try {
        task = queue.pollFirst();
        queued = queue.size();
        if (task == null) {
          drainers--;
          idle.signalAll();
          return;
        }
        running++;
      } finally {
        lock.unlock();
      }
      try {
        run(task);
      } finally {
        lock.lock();
        try {
          running--;
          idle.signalAll();
        } finally {
          lock.unlock();
        }
      }
    }
  }

  private void run(Running task) {
    synchronized (task) {
      if (task.state.isFinal()) {
        return;
      }
      task.state = TaskState.RUNNING;
      if (!put(task, task.snapshot())) {
        // from the durable queue: stays pending, delivered again after the timeout
        durable.release(task.delivery);
        return;
      }
    }
    task.request.attach(task);
    long start = ticker.read();
    TaskResult result = null;
    String error = null;
    try {
      result = task.cancelRequested ? null : requireNonNull(this.task.run(task.request),
          "the task returned null");
    } catch (Exception e) {
      LOG.log(System.Logger.Level.WARNING, "task " + task.id + " of pool '" + name + "' failed", e);
      error = "the task failed";
    } catch (Error e) {
      finish(task, TaskState.FAILED, null, "the task failed", ticker.read() - start);
      throw e;
    }
    long ran = Math.max(0, ticker.read() - start);
    double mean = meanRunNanos;
    meanRunNanos = mean <= 0 ? ran : 0.8 * mean + 0.2 * ran;
    if (task.cancelRequested) {
      finish(task, TaskState.CANCELLED, null, "cancelled", ran);
    } else if (error != null) {
      finish(task, TaskState.FAILED, null, error, ran);
    } else {
      finish(task, TaskState.SUCCEEDED, result, null, ran);
    }
  }

  /** Puts {@code task} in its final state unless it already is in one; returns whether it did. */
  private boolean finish(Running task, TaskState state, TaskResult result, String error,
      long ranNanos) {
    long now = ticker.read();
    TaskSnapshot last;
    boolean stored = true;
    synchronized (task) {
      if (task.state.isFinal() || task.abandoned) {
        return false;
      }
      task.state = state;
      task.result = result;
      task.error = error;
      task.finishedNanos = now;
      last = task.snapshot();
      if (fireAndForget && task.delivery == null) {
        store.remove(task.id); // nobody can ask for it: counted, not kept
      } else if (fireAndForget) {
        try {
          store.remove(task.id);
        } catch (RuntimeException e) {
          throttledLog.log(System.Logger.Level.WARNING, "store",
              "task pool '" + name + "' cannot reach its task store", e);
          stored = false;
        }
      } else {
        stored = put(task, last);
      }
    }
    if (task.delivery != null && stored) {
      ack(task.delivery); // only once the final snapshot is stored
    } else if (task.delivery != null) {
      durable.release(task.delivery); // runs again after the timeout: nothing is lost
    }
    active.remove(task.id);
    metrics.completed(state, ranNanos);
    task.done.complete(last);
    return true;
  }

  /**
   * Shuts the pool down: refuses new tasks at once, lets queued and running tasks finish for up
   * to {@code drainTimeout}, then cancels what never ran and fails what is still running (their
   * late results are discarded), so that every accepted task ends in a final state. Stops the
   * pool's own worker threads. Blocks the calling thread for up to {@code drainTimeout}
   * (measured on the system clock: it is a wait, not a reading for a decision). With a durable
   * {@link Builder#queue}, nothing waits here (queued tasks stay in the queue for the other
   * instances), the tasks still running at the timeout are left unacknowledged for another
   * instance to reclaim (reported as abandoned, their state unchanged), and the queue is closed.
   *
   * @param drainTimeout how long to wait for the queue to drain, zero to not wait
   * @return what did not finish
   * @throws IllegalArgumentException if {@code drainTimeout} is negative
   * @throws InterruptedException if interrupted while waiting (the pool still refuses new tasks)
   */
  public ShutdownReport shutdown(Duration drainTimeout) throws InterruptedException {
    Settings.notNegative("drainTimeout", drainTimeout);
    accepting = false;
    stopped.countDown();
    if (durable != null) {
      return shutdownDurably(drainTimeout);
    }
    List<Running> neverRan = new ArrayList<>();
    boolean drained;
    lock.lock();
    try {
      long nanos = drainTimeout.toNanos();
      while (!(queue.isEmpty() && running == 0) && nanos > 0) {
        nanos = idle.awaitNanos(nanos);
      }
      drained = queue.isEmpty() && running == 0;
      neverRan.addAll(queue);
      queue.clear();
      queued = 0;
    } finally {
      lock.unlock();
    }
    List<String> cancelled = new ArrayList<>();
    for (Running task : neverRan) {
      if (finish(task, TaskState.CANCELLED, null, "not run: the pool shut down", -1)) {
        cancelled.add(task.id);
      }
    }
    List<String> abandoned = new ArrayList<>();
    for (Running task : List.copyOf(active.values())) {
      if (finish(task, TaskState.FAILED, null, "did not finish before the pool shut down", -1)) {
        abandoned.add(task.id);
      }
    }
    if (ownedExecutor != null) {
      ownedExecutor.shutdownNow();
    }
    return new ShutdownReport(drained, cancelled, abandoned);
  }

  /**
   * With a durable queue: stops taking tasks, waits for the running ones, then abandons what is
   * still running without acknowledging it (another instance reclaims it) and closes the queue.
   */
  private ShutdownReport shutdownDurably(Duration drainTimeout) throws InterruptedException {
    boolean drained;
    lock.lock();
    try {
      long nanos = drainTimeout.toNanos();
      while (running > 0 && nanos > 0) {
        nanos = idle.awaitNanos(nanos);
      }
      drained = running == 0;
    } finally {
      lock.unlock();
    }
    List<String> abandoned = new ArrayList<>();
    for (Running task : List.copyOf(active.values())) {
      synchronized (task) {
        if (!task.state.isFinal()) {
          task.abandoned = true; // its late result is neither stored nor acknowledged
          abandoned.add(task.id);
        }
      }
    }
    if (ownedExecutor != null) {
      ownedExecutor.shutdownNow();
    }
    durable.close();
    return new ShutdownReport(drained, List.of(), abandoned);
  }

  private static String newId() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  @Override
  public String toString() {
    return "TaskPool(" + name + ", " + workers + " workers, " + queued + "/" + capacity
        + " queued)";
  }

  /**
   * One accepted task while the pool holds it. Its fields change, and its snapshots are stored,
   * under its own lock, so that a late snapshot (progress, a cancel request) never overwrites the
   * final one in the store.
   */
  private final class Running implements TaskRequest.Progress {
    final String id;
    final TaskRequest request;
    final long createdNanos;
    final CompletableFuture<TaskSnapshot> done = new CompletableFuture<>();
    TaskState state = TaskState.QUEUED;
    TaskResult result;
    String error;
    long finishedNanos;
    volatile double progress = -1;
    volatile boolean cancelRequested;
    /** The durable queue's delivery this task came from, or null: the own queue's. */
    TaskQueue.Delivery delivery;
    /** Left unfinished at shutdown for another instance to reclaim. Guarded by this. */
    boolean abandoned;

    Running(String id, TaskRequest request, long createdNanos) {
      this.id = id;
      this.request = request;
      this.createdNanos = createdNanos;
    }

    synchronized TaskSnapshot snapshot() {
      boolean done = state.isFinal();
      double p = progress;
      return new TaskSnapshot(id, name, request.owner(), state,
          p < 0 ? OptionalDouble.empty() : OptionalDouble.of(p), cancelRequested,
          Optional.ofNullable(result), Optional.ofNullable(error), createdNanos,
          done ? finishedNanos : 0, done ? satAdd(finishedNanos, ttlNanos) : Long.MAX_VALUE);
    }

    @Override
    public void report(double fraction) {
      progress = fraction;
      synchronized (this) {
        if (state == TaskState.RUNNING && !abandoned) {
          put(this, snapshot());
        }
      }
    }

    @Override
    public boolean cancelRequested() {
      return cancelRequested;
    }
  }

  private static long satAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  /** Builds a {@link TaskPool}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private int workers = DEFAULT_WORKERS;
    private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
    private Task task;
    private TaskValidator validator = TaskValidator.acceptAll();
    private Duration resultTtl = DEFAULT_RESULT_TTL;
    private Ticker ticker = Ticker.systemTicker();
    private TaskStore store;
    private Executor executor;
    private MeterRegistry registry;
    private Duration inlineWait;
    private boolean fireAndForget;
    private TaskQueue queue;

    private Builder(String name) {
      this.name = name;
    }

    /**
     * Sets how many tasks run at once. Default {@value #DEFAULT_WORKERS}.
     *
     * @param count the number of workers, 1..1024
     * @return this builder
     * @throws IllegalArgumentException if {@code count} is outside 1..1024
     */
    public Builder workers(int count) {
      if (count < 1 || count > 1024) {
        throw new IllegalArgumentException("workers must be in 1..1024, got " + count);
      }
      this.workers = count;
      return this;
    }

    /**
     * Sets how many accepted tasks may wait for a worker; beyond it submissions are refused (503
     * with {@code Retry-After}). Default {@value #DEFAULT_QUEUE_CAPACITY}.
     *
     * @param capacity the bound, 1..1,000,000
     * @return this builder
     * @throws IllegalArgumentException if {@code capacity} is outside 1..1,000,000
     */
    public Builder queueCapacity(int capacity) {
      if (capacity < 1 || capacity > 1_000_000) {
        throw new IllegalArgumentException("queueCapacity must be in 1..1000000, got " + capacity);
      }
      this.queueCapacity = capacity;
      return this;
    }

    /**
     * Sets the work: the user's own code. Required.
     *
     * @param task the task
     * @return this builder
     */
    public Builder task(Task task) {
      this.task = requireNonNull(task, "task");
      return this;
    }

    /**
     * Sets the up-front check a request must pass to be accepted (else 400). Default: accept all.
     *
     * @param validator the validator
     * @return this builder
     */
    public Builder validator(TaskValidator validator) {
      this.validator = requireNonNull(validator, "validator");
      return this;
    }

    /**
     * Sets how long a final task (and its result) is kept; afterwards its id answers 410 Gone.
     * Default ten minutes.
     *
     * @param ttl the time, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code ttl} is not positive
     */
    public Builder resultTtl(Duration ttl) {
      this.resultTtl = Settings.positive("resultTtl", ttl);
      return this;
    }

    /**
     * Sets the clock: the router's ticker (a {@code FakeTicker} in tests). Also the default
     * store's clock.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets where tasks are kept; several pools may share one. Default: a new {@link
     * InMemoryTaskStore} on this pool's ticker.
     *
     * @param store the store
     * @return this builder
     */
    public Builder store(TaskStore store) {
      this.store = requireNonNull(store, "store");
      return this;
    }

    /**
     * Sets what runs the workers: at most {@link #workers} of the pool's drain loops run on it at
     * once. A direct executor ({@code Runnable::run}) runs each task inside {@code submit}, for
     * tests. Default: the pool's own daemon threads, stopped by {@link TaskPool#shutdown}.
     *
     * @param executor the executor
     * @return this builder
     */
    public Builder executor(Executor executor) {
      this.executor = requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Sets the registry for the {@code offload.tasks.*} meters; none by default.
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Answers requests synchronously while the pool is idle: when no task waits and a worker is
     * free, and the client did not send {@code Prefer: respond-async} (RFC 7240), the request
     * still runs on a worker, but the request thread waits up to {@code maxWait} for it and
     * answers with the result itself; past {@code maxWait}, or when the task did not succeed,
     * it answers 202 as usual. Off by default (every request gets 202).
     *
     * @param maxWait the longest a request thread waits, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code maxWait} is not positive
     */
    public Builder inlineWhenIdle(Duration maxWait) {
      this.inlineWait = Settings.positive("inlineWhenIdle", maxWait);
      return this;
    }

    /**
     * Makes the pool run fire-and-forget work (non-critical: an audit write, a cache warm-up):
     * accepted with 202 and no status URL, bounded by the same queue, counted in the same
     * metrics, and forgotten once final (no result is kept, nothing can be polled or cancelled).
     * Off by default.
     *
     * @param enabled whether results are discarded
     * @return this builder
     */
    public Builder fireAndForget(boolean enabled) {
      this.fireAndForget = enabled;
      return this;
    }

    /**
     * Hands accepted tasks to a durable queue shared by the instances of a fleet instead of the
     * pool's own in-memory queue (offload-redis's {@code RedisTaskQueue}). Then every task is
     * persisted in it before the 202; the pool's {@link #workers} start when it is built and take
     * tasks from it (at least once: a task whose instance died runs again on another, so tasks
     * must be idempotent); {@link #queueCapacity} bounds the tasks waiting fleet-wide; requests
     * are never answered inline; and {@link TaskPool#shutdown} leaves the tasks still running
     * unacknowledged for another instance instead of failing them. Give the pool a shared {@link
     * #store} too, so that any instance answers a task's status. The pool closes the queue when
     * it shuts down. An {@link #executor} given with a queue must run {@link #workers} long-lived
     * loops at once (not a direct executor). Default: none.
     *
     * @param queue the durable queue, for this pool alone
     * @return this builder
     */
    public Builder queue(TaskQueue queue) {
      this.queue = requireNonNull(queue, "queue");
      return this;
    }

    /**
     * Returns the pool; unless an executor was given, its threads start on first use (with a
     * durable {@link #queue}, at once).
     *
     * @return the pool
     * @throws NullPointerException naming {@code task} if none was set
     */
    public TaskPool build() {
      TaskPool pool = new TaskPool(this);
      pool.startPollers();
      return pool;
    }
  }
}
