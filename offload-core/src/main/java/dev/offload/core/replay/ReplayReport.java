package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Decision;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a {@link TrafficReplay} observed: a value, equal for equal replays (the same log, a router
 * built the same way, the same seed), so a unit test can pin it.
 *
 * <pre>{@code
 * ReplayReport report = replay.run(log);
 * assertThat(report.backend("orders").orElseThrow().peakRate()).isLessThan(300);
 * System.out.println(report.toTable());
 * }</pre>
 *
 * @param lines lines read, blank and malformed ones included
 * @param requests requests replayed through the router
 * @param malformedCount lines that could not be replayed
 * @param malformed the first of them, with line numbers and reasons
 * @param outOfOrder requests logged earlier than one before them, replayed at the time of the
 *     latest so far (logs written at completion are slightly out of order)
 * @param timeScale the factor the log's time was compressed by (3 = three times the traffic)
 * @param simulatedTime the simulated time from the first arrival to the last completion
 * @param decisions requests per decision kind, every kind listed
 * @param rejectsByStatus {@code Reject} decisions per status, sorted
 * @param cacheHits requests answered from the edge cache ({@code ServeCached}, and requests that
 *     waited for another's fetch of the same response)
 * @param cacheFills requests that went to an origin carrying a cache fill (edge-cache misses)
 * @param tasksQueued {@code Offload} decisions
 * @param backends per backend, queue and the host, sorted by name
 */
public record ReplayReport(long lines, long requests, long malformedCount,
    List<MalformedLine> malformed, long outOfOrder, double timeScale, Duration simulatedTime,
    Map<Decision.Kind, Long> decisions, Map<Integer, Long> rejectsByStatus, long cacheHits,
    long cacheFills, long tasksQueued, List<BackendReport> backends) {
  /**
   * Checks the values and copies the collections.
   *
   * @param lines see {@link #lines()}
   * @param requests see {@link #requests()}
   * @param malformedCount see {@link #malformedCount()}
   * @param malformed see {@link #malformed()}
   * @param outOfOrder see {@link #outOfOrder()}
   * @param timeScale see {@link #timeScale()}
   * @param simulatedTime see {@link #simulatedTime()}
   * @param decisions see {@link #decisions()}
   * @param rejectsByStatus see {@link #rejectsByStatus()}
   * @param cacheHits see {@link #cacheHits()}
   * @param cacheFills see {@link #cacheFills()}
   * @param tasksQueued see {@link #tasksQueued()}
   * @param backends see {@link #backends()}
   */
  public ReplayReport {
    malformed = List.copyOf(requireNonNull(malformed, "malformed"));
    requireNonNull(simulatedTime, "simulatedTime");
    EnumMap<Decision.Kind, Long> kinds = new EnumMap<>(Decision.Kind.class);
    for (Decision.Kind kind : Decision.Kind.values()) {
      kinds.put(kind, requireNonNull(decisions, "decisions").getOrDefault(kind, 0L));
    }
    decisions = Collections.unmodifiableMap(kinds);
    rejectsByStatus = Collections.unmodifiableMap(
        new TreeMap<>(requireNonNull(rejectsByStatus, "rejectsByStatus")));
    backends = List.copyOf(requireNonNull(backends, "backends"));
  }

  /**
   * Returns the number of requests the router decided {@code kind} for.
   *
   * @param kind the decision kind
   * @return its count
   */
  public long count(Decision.Kind kind) {
    return decisions.get(requireNonNull(kind, "kind"));
  }

  /**
   * Returns the rate-limit rejections: {@code Reject} decisions with status 429.
   *
   * @return rejections with 429
   */
  public long rateLimited() {
    return rejectsByStatus.getOrDefault(429, 0L);
  }

  /**
   * Returns the requests shed: {@code Reject} decisions with status 503.
   *
   * @return rejections with 503
   */
  public long shed() {
    return rejectsByStatus.getOrDefault(503, 0L);
  }

  /**
   * Returns the share of edge-cache lookups that were answered from the cache.
   *
   * @return {@code cacheHits / (cacheHits + cacheFills)}, 0 when there were none
   */
  public double cacheHitRatio() {
    long lookups = cacheHits + cacheFills;
    return lookups == 0 ? 0 : (double) cacheHits / lookups;
  }

  /**
   * Returns the report of the backend, queue or host named {@code name}.
   *
   * @param name the name
   * @return its report, empty when the router sent it nothing and it was not simulated
   */
  public java.util.Optional<BackendReport> backend(String name) {
    requireNonNull(name, "name");
    return backends.stream().filter(b -> b.name().equals(name)).findFirst();
  }

  /**
   * Renders the report as a plain-text table: decisions, then one row per backend with its
   * offload ratio in percent, rates, peak in-flight, p50/p99 and capacity answer.
   *
   * @return the table, lines ending in {@code \n}
   */
  public String toTable() {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT,
        "replayed %,d requests from %,d lines (%,d malformed, %,d out of order) at %sx over %s%n",
        requests, lines, malformedCount, outOfOrder, trim(timeScale), human(simulatedTime)));
    out.append("decisions:");
    decisions.forEach((kind, n) -> out.append(' ').append(kind.tag()).append('=').append(n));
    out.append(System.lineSeparator());
    out.append(String.format(Locale.ROOT,
        "cache hit ratio %.1f%% (%,d hits, %,d fills)  rate-limited (429) %,d  shed (503) %,d  "
            + "tasks queued %,d%n",
        100 * cacheHitRatio(), cacheHits, cacheFills, rateLimited(), shed(), tasksQueued));
    if (!rejectsByStatus.isEmpty()) {
      out.append("rejects by status:");
      rejectsByStatus.forEach((status, n) -> out.append(' ').append(status).append('=').append(n));
      out.append(System.lineSeparator());
    }
    out.append(String.format(Locale.ROOT, "%-18s %10s %9s %9s %9s %9s %9s %9s %12s%n",
        "backend", "requests", "offload%", "mean/s", "peak/s", "inflight", "p50 ms", "p99 ms",
        "capacity"));
    for (BackendReport b : backends) {
      CapacityAnswer c = b.capacity();
      String capacity = c.met()
          ? c.instances() + " x" + c.concurrency()
          : ">" + c.maxInstances() + " x" + c.concurrency();
      out.append(String.format(Locale.ROOT, "%-18s %,10d %8.1f%% %9.1f %9.1f %9d %9.1f %9.1f %12s%n",
          b.name(), b.requests(), 100 * b.offloadRatio(), b.meanRate(), b.peakRate(),
          b.peakInFlight(), millis(b.p50()), millis(b.p99()), capacity));
    }
    if (!backends.isEmpty()) {
      CapacityAnswer any = backends.get(0).capacity();
      out.append(String.format(Locale.ROOT,
          "capacity: fewest instances (x concurrency each) keeping p99 under %s ms%n",
          trim(millis(any.p99Target()))));
    }
    for (MalformedLine bad : malformed.subList(0, Math.min(10, malformed.size()))) {
      out.append("malformed ").append(bad).append(System.lineSeparator());
    }
    if (malformedCount > 10) {
      out.append("... ").append(malformedCount - Math.min(10, malformed.size()))
          .append(" more malformed lines").append(System.lineSeparator());
    }
    return out.toString();
  }

  private static double millis(Duration d) {
    return d.toNanos() / 1e6;
  }

  private static String trim(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static String human(Duration d) {
    long s = d.toSeconds();
    return s >= 60 ? (s / 60) + "m" + (s % 60) + "s" : String.format(Locale.ROOT, "%.1fs",
        d.toNanos() / 1e9);
  }
}
