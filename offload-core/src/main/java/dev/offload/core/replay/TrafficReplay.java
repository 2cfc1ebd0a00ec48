package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

import com.google.common.net.InetAddresses;
import dev.offload.core.BodySink;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Outcome;
import dev.offload.core.ResponseFill;
import dev.offload.core.internal.Settings;
import dev.offload.core.replay.internal.BackendSim;
import dev.offload.core.replay.internal.Capacity;
import dev.offload.core.testing.FakeTicker;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Replays an access log through the user's own {@link OffloadRouter} on a simulated clock, and
 * reports what the routing does to the backends behind it: "what does this router do to {@code
 * orders} if traffic triples?", answered before deploying.
 *
 * <pre>{@code
 * FakeTicker ticker = new FakeTicker();
 * OffloadRouter router = myRouter(ticker);            // the production router, on this ticker
 * TrafficReplay replay = TrafficReplay.builder(router, ticker)
 *     .backend(SimulatedBackend.of("orders", 2, 8, ServiceTime.fromLog(Duration.ofMillis(40))))
 *     .timeScale(3)                                   // three times the traffic
 *     .p99Target(Duration.ofMillis(300))
 *     .build();
 * try (AccessLogReader log = AccessLogReader.open(Path.of("access.log"))) {
 *   ReplayReport report = replay.run(log);
 *   System.out.print(report.toTable());
 * }
 * }</pre>
 *
 * <p>Each log line becomes an {@link OffloadRequest} (method, target, client address; see
 * {@link Builder#requests}) that arrives at its logged time divided by the time scale; the replay
 * moves the router's ticker to it and calls {@code decide}. Every holding decision's handle is
 * completed as an executor would, at the simulated time its work ends, so load-based routing,
 * shedding, rate limits and the edge cache see what they would see live:
 * <ul>
 *   <li>{@code Forward} queues on the simulated backend of the same name ({@link
 *       SimulatedBackend}), completing with the logged status (5xx as a failure) after waiting
 *       plus service, or with {@code READ_TIMEOUT}/504 at the backend's read timeout;
 *   <li>{@code PassThrough} queues on the simulated {@link #HOST};
 *   <li>{@code Offload} queues on a simulated backend named like its queue if there is one, else
 *       completes at once (accepted);
 *   <li>{@code ServeCached}, and a decision that waits for another request's fetch, complete at
 *       once (a cache hit);
 *   <li>a decision carrying a {@link ResponseFill} is fed the origin's answer when it completes
 *       (status, {@link Builder#responseHeaders} and the logged size), so the edge cache fills.
 * </ul>
 *
 * <p>Deterministic: the same log, a router built the same way on a fresh ticker, and the same
 * seed give an equal {@link ReplayReport}. One run at a time: the router's state (buckets, cache,
 * load) carries over between runs, so build a fresh router per run. Not thread-safe.
 */
public final class TrafficReplay {
  /** The name of the simulated host application, which pass-through decisions go to. */
  public static final String HOST = "host";
  /** The time scale unless set: the log's own pace. */
  public static final double DEFAULT_TIME_SCALE = 1;
  /** The window of rates and latencies over time, unless set. */
  public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
  /** The p99 target of the capacity answer, unless set. */
  public static final Duration DEFAULT_P99_TARGET = Duration.ofMillis(250);
  /** The most instances the capacity answer tries, unless set. */
  public static final int DEFAULT_MAX_INSTANCES = 64;
  /** Instances of a backend the router forwards to that was not simulated explicitly. */
  public static final int DEFAULT_INSTANCES = 1;
  /** Per-instance concurrency of a backend that was not simulated explicitly. */
  public static final int DEFAULT_CONCURRENCY = 16;
  /** Service time where neither the simulation nor the log gives one. */
  public static final Duration DEFAULT_SERVICE_TIME = Duration.ofMillis(20);
  /** How many lines pass between two {@link Progress} calls. */
  public static final int PROGRESS_EVERY_LINES = 16_384;

  /** Told how far a replay got, every {@value #PROGRESS_EVERY_LINES} lines and at the end. */
  @FunctionalInterface
  public interface Progress {
    /**
     * Called on the replaying thread.
     *
     * @param lines lines read so far
     * @param chars characters read so far (compare with the log's size)
     */
    void onProgress(long lines, long chars);
  }

  private static final byte[] ZEROS = new byte[8192];

  private final OffloadRouter router;
  private final FakeTicker ticker;
  private final Map<String, SimulatedBackend> backends;
  private final SimulatedBackend host;
  private final double timeScale;
  private final long seed;
  private final Duration window;
  private final Duration p99Target;
  private final int maxInstances;
  private final Function<LogEntry, OffloadRequest> requests;
  private final Function<LogEntry, Headers> responseHeaders;

  private TrafficReplay(Builder b) {
    this.router = b.router;
    this.ticker = b.ticker;
    this.backends = Map.copyOf(b.backends);
    this.host = b.host;
    this.timeScale = b.timeScale;
    this.seed = b.seed;
    this.window = b.window;
    this.p99Target = b.p99Target;
    this.maxInstances = b.maxInstances;
    this.requests = b.requests;
    this.responseHeaders = b.responseHeaders;
  }

  /**
   * Starts a replay through {@code router}, whose ticker must be {@code ticker}.
   *
   * @param router the router to replay through, built on {@code ticker}
   * @param ticker the router's clock, which the replay moves
   * @return a builder
   */
  public static Builder builder(OffloadRouter router, FakeTicker ticker) {
    return new Builder(requireNonNull(router, "router"), requireNonNull(ticker, "ticker"));
  }

  /**
   * Replays the log to its end.
   *
   * @param log the log, read to its end (not closed)
   * @return what the replay observed
   * @throws IOException if reading the log fails
   */
  public ReplayReport run(AccessLogReader log) throws IOException {
    return run(log, (lines, chars) -> {});
  }

  /**
   * Replays the log to its end, telling {@code progress} how far it got.
   *
   * @param log the log, read to its end (not closed)
   * @param progress told every {@value #PROGRESS_EVERY_LINES} lines and at the end
   * @return what the replay observed
   * @throws IOException if reading the log fails
   */
  public ReplayReport run(AccessLogReader log, Progress progress) throws IOException {
    requireNonNull(log, "log");
    requireNonNull(progress, "progress");
    return new Run(log, progress).replay();
  }

  /** One replay's mutable state. */
  private final class Run {
    private final AccessLogReader log;
    private final Progress progress;
    private final SplittableRandom random = new SplittableRandom(seed);
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private final Map<String, BackendSim> sims = new HashMap<>();
    private final EnumMap<Decision.Kind, Long> kinds = new EnumMap<>(Decision.Kind.class);
    private final TreeMap<Integer, Long> rejects = new TreeMap<>();
    private final long origin = ticker.read();
    private final long windowNanos = window.toNanos();
    private long sequence;
    private long replayed;
    private long outOfOrder;
    private long cacheHits;
    private long cacheFills;
    private long tasksQueued;
    private long firstLogged = Long.MIN_VALUE;
    private long latest = origin;
    private long lastEvent = origin;
    private long nextProgress = PROGRESS_EVERY_LINES;

    Run(AccessLogReader log, Progress progress) {
      this.log = log;
      this.progress = progress;
    }

    ReplayReport replay() throws IOException {
      for (Optional<LogEntry> next = log.next(); next.isPresent(); next = log.next()) {
        LogEntry entry = next.get();
        if (log.linesRead() >= nextProgress) {
          nextProgress = log.linesRead() + PROGRESS_EVERY_LINES;
          progress.onProgress(log.linesRead(), log.charsRead());
        }
        if (firstLogged == Long.MIN_VALUE) {
          firstLogged = entry.timestampNanos();
        }
        long sinceFirst;
        try {
          sinceFirst = Math.subtractExact(entry.timestampNanos(), firstLogged);
        } catch (ArithmeticException e) {
          log.reject(entry.lineNumber(), "timestamp too far from the first line's");
          continue;
        }
        long at = origin + (long) (sinceFirst / timeScale);
        if (at < latest) {
          outOfOrder++;
          at = latest;
        }
        latest = at;
        OffloadRequest request;
        try {
          request = requests.apply(entry);
        } catch (IllegalArgumentException e) {
          log.reject(entry.lineNumber(), "cannot build a request: " + e.getMessage());
          continue;
        }
        runEventsUntil(at);
        moveTo(at);
        decide(entry, request, at);
      }
      runEventsUntil(Long.MAX_VALUE);
      progress.onProgress(log.linesRead(), log.charsRead());
      return report();
    }

    private void decide(LogEntry entry, OffloadRequest request, long at) {
      Decision decision = router.decide(request);
      replayed++;
      kinds.merge(decision.kind(), 1L, Long::sum);
      switch (decision.kind()) {
        case REDIRECT -> { }
        case REJECT -> rejects.merge(((Decision.Reject) decision).status(), 1L, Long::sum);
        case SERVE_CACHED -> {
          cacheHits++;
          int status = ((Decision.ServeCached) decision).response().status();
          ((Decision.Holding) decision).handle()
              .complete(Outcome.SUCCESS, FailureKind.NONE, status, 0);
        }
        case FORWARD -> {
          Decision.Forward forward = (Decision.Forward) decision;
          long readTimeout = forward.backend().readTimeout().toNanos();
          work(entry, forward.handle(), forward.backend().name(), forward.instance().toString(),
              at, readTimeout);
        }
        case PASS_THROUGH -> work(entry, ((Decision.Holding) decision).handle(), HOST, HOST, at, 0);
        case OFFLOAD -> {
          tasksQueued++;
          Decision.Offload offload = (Decision.Offload) decision;
          if (backends.containsKey(offload.queue())) {
            work(entry, offload.handle(), offload.queue(), offload.queue(), at, 0);
          } else {
            offload.handle().complete(Outcome.SUCCESS, FailureKind.NONE, 202, 0);
          }
        }
        default -> throw new IllegalStateException("unknown decision kind " + decision.kind());
      }
    }

    private void work(LogEntry entry, DecisionHandle handle, String backend, String instance,
        long at, long readTimeout) {
      if (handle.pendingResponse().isPresent()) {
        // waits for another request's fetch of the same response: served without the origin
        cacheHits++;
        handle.complete(Outcome.SUCCESS, FailureKind.NONE, entry.status(), 0);
        return;
      }
      if (handle.responseFill() != ResponseFill.NONE) {
        cacheFills++;
      }
      BackendSim sim = sims.computeIfAbsent(backend, this::newSim);
      SimulatedBackend simulated = simulated(backend);
      long service = Math.max(0, simulated.serviceTime().nanos(entry, random));
      long done = sim.admit(instance, at, service);
      boolean timedOut = readTimeout > 0 && done - at > readTimeout;
      long completeAt = timedOut ? at + readTimeout : done;
      events.add(new Event(completeAt, sequence++, at, entry, handle, sim, timedOut));
    }

    private BackendSim newSim(String name) {
      SimulatedBackend s = simulated(name);
      return new BackendSim(name, s.instances(), s.concurrency(), windowNanos, origin);
    }

    private SimulatedBackend simulated(String name) {
      if (name.equals(HOST)) {
        return host;
      }
      SimulatedBackend s = backends.get(name);
      return s != null ? s : SimulatedBackend.of(name, DEFAULT_INSTANCES, DEFAULT_CONCURRENCY,
          ServiceTime.fromLog(DEFAULT_SERVICE_TIME));
    }

    private void runEventsUntil(long time) {
      while (!events.isEmpty() && events.peek().time <= time) {
        Event e = events.poll();
        moveTo(e.time);
        lastEvent = Math.max(lastEvent, e.time);
        complete(e);
      }
    }

    private void complete(Event e) {
      DecisionHandle handle = e.handle;
      ResponseFill fill = handle.responseFill();
      int status = e.timedOut ? 504 : e.entry.status();
      if (!e.timedOut && fill != ResponseFill.NONE) {
        BodySink sink = fill.onResponse(status, responseHeaders.apply(e.entry), e.entry.bytes());
        for (long left = e.entry.bytes(); left > 0; left -= ZEROS.length) {
          sink.write(ZEROS, 0, (int) Math.min(left, ZEROS.length));
        }
        sink.complete();
      } else if (fill != ResponseFill.NONE) {
        fill.onNoResponse();
      }
      if (e.timedOut) {
        handle.complete(Outcome.FAILURE, FailureKind.READ_TIMEOUT, 504, 0);
      } else if (status >= 500) {
        handle.complete(Outcome.FAILURE, FailureKind.SERVER_ERROR, status, e.entry.bytes());
      } else {
        handle.complete(Outcome.SUCCESS, FailureKind.NONE, status, e.entry.bytes());
      }
      e.sim.completed(e.time, e.time - e.arrival, e.timedOut);
    }

    private void moveTo(long time) {
      long now = ticker.read();
      if (time > now) {
        ticker.advance(Duration.ofNanos(time - now));
      }
    }

    private ReplayReport report() {
      long end = Math.max(latest, lastEvent);
      double seconds = Math.max(1e-9, (latest - origin) / 1e9);
      List<String> names = new ArrayList<>(sims.keySet());
      for (String name : backends.keySet()) {
        if (!names.contains(name)) {
          names.add(name);
        }
      }
      names.sort(null);
      List<BackendReport> reports = new ArrayList<>();
      for (String name : names) {
        BackendSim sim = sims.computeIfAbsent(name, this::newSim);
        sim.finish();
        List<LatencyWindow> windows = new ArrayList<>();
        for (BackendSim.Window w : sim.windows()) {
          windows.add(new LatencyWindow(Duration.ofNanos(w.startNanos()), w.completed(),
              Duration.ofNanos(w.p50Nanos()), Duration.ofNanos(w.p99Nanos())));
        }
        long[] answer = Capacity.fewestInstances(sim.arrivals(), sim.services(), sim.requests(),
            sim.concurrency(), p99Target.toNanos(), maxInstances);
        CapacityAnswer capacity = new CapacityAnswer((int) answer[0], sim.concurrency(),
            p99Target, Duration.ofNanos(answer[1]), maxInstances);
        double offloadRatio = replayed == 0 ? 0 : 1 - (double) sim.requests() / replayed;
        reports.add(new BackendReport(name, sim.requests(), new LinkedHashMap<>(sim.byInstance()),
            offloadRatio, sim.requests() / seconds,
            sim.peakArrivalsInWindow() / (windowNanos / 1e9), sim.peakInFlight(),
            sim.timeouts(), Duration.ofNanos(sim.latencyNanos(50)),
            Duration.ofNanos(sim.latencyNanos(99)), windows, capacity));
      }
      return new ReplayReport(log.linesRead(), replayed, log.malformedCount(), log.malformed(),
          outOfOrder, timeScale, Duration.ofNanos(end - origin), kinds, rejects, cacheHits,
          cacheFills, tasksQueued, reports);
    }
  }

  /** A holding decision's work ending at {@code time}. */
  private record Event(long time, long sequence, long arrival, LogEntry entry,
      DecisionHandle handle, BackendSim sim, boolean timedOut) implements Comparable<Event> {
    @Override
    public int compareTo(Event o) {
      int byTime = Long.compare(time, o.time);
      return byTime != 0 ? byTime : Long.compare(sequence, o.sequence);
    }
  }

  /** Builds a {@link TrafficReplay}. Not thread-safe. */
  public static final class Builder {
    private final OffloadRouter router;
    private final FakeTicker ticker;
    private final Map<String, SimulatedBackend> backends = new LinkedHashMap<>();
    private SimulatedBackend host = SimulatedBackend.of(HOST, 1, 64,
        ServiceTime.fromLog(DEFAULT_SERVICE_TIME));
    private double timeScale = DEFAULT_TIME_SCALE;
    private long seed;
    private Duration window = DEFAULT_WINDOW;
    private Duration p99Target = DEFAULT_P99_TARGET;
    private int maxInstances = DEFAULT_MAX_INSTANCES;
    private Function<LogEntry, OffloadRequest> requests = TrafficReplay::defaultRequest;
    private Function<LogEntry, Headers> responseHeaders = entry -> Headers.empty();

    private Builder(OffloadRouter router, FakeTicker ticker) {
      this.router = router;
      this.ticker = ticker;
    }

    /**
     * Simulates the backend (or worker queue) of {@code backend.name()}; one not simulated is
     * {@value #DEFAULT_INSTANCES} instance of concurrency {@value #DEFAULT_CONCURRENCY} with
     * the log's durations (or {@link #DEFAULT_SERVICE_TIME}).
     *
     * @param backend the simulated backend
     * @return this builder
     * @throws IllegalArgumentException if it is named {@link #HOST} (use {@link #host}) or a
     *     backend of that name was added already
     */
    public Builder backend(SimulatedBackend backend) {
      requireNonNull(backend, "backend");
      if (backend.name().equals(HOST)) {
        throw new IllegalArgumentException("backend name '" + HOST + "' is the host's: use "
            + "host(...) to simulate the host application");
      }
      if (backends.putIfAbsent(backend.name(), backend) != null) {
        throw new IllegalArgumentException("backend " + backend.name() + " is simulated twice");
      }
      return this;
    }

    /**
     * Simulates the host application that pass-through decisions go to (by default one instance
     * of concurrency 64 with the log's durations); its name is replaced by {@link #HOST}.
     *
     * @param host the host's instances, concurrency and service time
     * @return this builder
     */
    public Builder host(SimulatedBackend host) {
      requireNonNull(host, "host");
      this.host = SimulatedBackend.of(HOST, host.instances(), host.concurrency(),
          host.serviceTime());
      return this;
    }

    /**
     * Compresses the log's time by {@code factor}: 3 replays it at three times its rate.
     *
     * @param factor above 0, at most 1000000
     * @return this builder
     * @throws IllegalArgumentException if {@code factor} is not in (0, 1000000]
     */
    public Builder timeScale(double factor) {
      if (!(factor > 0 && factor <= 1_000_000)) {
        throw new IllegalArgumentException("timeScale must be in (0, 1000000], got " + factor);
      }
      this.timeScale = factor;
      return this;
    }

    /**
     * Seeds the randomness of service times (default 0).
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Sets the window of rates and latencies over time (default {@link #DEFAULT_WINDOW}).
     *
     * @param window at least one millisecond
     * @return this builder
     * @throws IllegalArgumentException if {@code window} is shorter than a millisecond
     */
    public Builder window(Duration window) {
      requireNonNull(window, "window");
      if (window.compareTo(Duration.ofMillis(1)) < 0) {
        throw new IllegalArgumentException("window must be at least 1ms, got " + window);
      }
      this.window = window;
      return this;
    }

    /**
     * Sets the p99 latency the capacity answer keeps each backend under (default {@link
     * #DEFAULT_P99_TARGET}).
     *
     * @param target a positive duration
     * @return this builder
     * @throws IllegalArgumentException if {@code target} is not positive
     */
    public Builder p99Target(Duration target) {
      this.p99Target = Settings.positive("p99Target", target);
      return this;
    }

    /**
     * Sets the most instances the capacity answer tries (default {@value
     * #DEFAULT_MAX_INSTANCES}).
     *
     * @param max in 1..{@value SimulatedBackend#MAX_INSTANCES}
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is out of range
     */
    public Builder maxInstances(int max) {
      if (max < 1 || max > SimulatedBackend.MAX_INSTANCES) {
        throw new IllegalArgumentException("maxInstances must be in 1.."
            + SimulatedBackend.MAX_INSTANCES + ", got " + max);
      }
      this.maxInstances = max;
      return this;
    }

    /**
     * Sets how a log entry becomes a request (by default: method, target, and the client field
     * as the client address when it is an IP literal). Add what the log does not hold, such as
     * the API key a guard needs; an {@link IllegalArgumentException} from it makes the line
     * malformed, with the exception's message as the reason.
     *
     * @param factory builds the request of an entry
     * @return this builder
     */
    public Builder requests(Function<LogEntry, OffloadRequest> factory) {
      this.requests = requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Sets the header fields a simulated origin answers an entry with, which an edge cache's
     * fill reads (by default none: an edge cache then stores nothing it needs explicit
     * freshness for).
     *
     * @param headers the origin's response fields for an entry
     * @return this builder
     */
    public Builder responseHeaders(Function<LogEntry, Headers> headers) {
      this.responseHeaders = requireNonNull(headers, "headers");
      return this;
    }

    /**
     * Builds the replay.
     *
     * @return the replay
     */
    public TrafficReplay build() {
      return new TrafficReplay(this);
    }
  }

  /**
   * The request of a log entry: its method and target, and its client field as the client
   * address when that is an IP literal.
   *
   * @param entry the log entry
   * @return its request
   * @throws IllegalArgumentException if the method or target cannot make a request
   */
  public static OffloadRequest defaultRequest(LogEntry entry) {
    OffloadRequest.Builder builder = OffloadRequest.builder(entry.method(), entry.target());
    if (InetAddresses.isInetAddress(entry.client())) {
      builder.clientAddress(entry.client());
    }
    return builder.build();
  }
}
