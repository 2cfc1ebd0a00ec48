package dev.offload.examples.demo;

import static java.util.Objects.requireNonNull;

import dev.offload.examples.demo.LoadRun.BackendStats;
import dev.offload.examples.demo.LoadRun.Snapshot;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * Prints a load run: a compact table once a second and the end summary. On a terminal the table
 * is redrawn in place; otherwise (a pipe, a file, a test) every table is printed in turn with
 * no escape codes.
 */
public final class LoadView {
  /** The decision kinds, in the order the table shows them. */
  static final List<String> KINDS =
      List.of("redirect", "serve_cached", "pass_through", "forward", "offload", "reject");
  private static final int BAR = 30;

  private final PrintStream out;
  private final boolean terminal;
  private int linesOnScreen;

  /**
   * Creates a view.
   *
   * @param out where to print
   * @param terminal whether {@code out} is a terminal (redraw in place with ANSI escapes)
   */
  public LoadView(PrintStream out, boolean terminal) {
    this.out = requireNonNull(out, "out");
    this.terminal = terminal;
  }

  /**
   * Prints the live table for {@code s}.
   *
   * @param s the run so far
   */
  public synchronized void live(Snapshot s) {
    String table = table(s);
    if (terminal && linesOnScreen > 0) {
      out.print("\033[" + linesOnScreen + "F\033[J"); // up to the table's first line, clear
    }
    out.print(table);
    out.flush();
    linesOnScreen = terminal ? (int) table.chars().filter(c -> c == '\n').count() : 0;
  }

  /**
   * Prints one progress line for a run whose table is not shown (the baseline).
   *
   * @param s the run so far
   */
  public synchronized void progress(Snapshot s) {
    String line = bar(s) + "  sent " + s.sent() + "  answered " + s.answered()
        + "  orders in flight " + s.orders().inFlight() + " (peak " + s.orders().peakInFlight()
        + ")";
    if (terminal) {
      out.print("\r\033[K" + line + (s.done() ? "\n" : ""));
    } else {
      out.println(line);
    }
    out.flush();
  }

  /** Returns the table for one snapshot, each line ending in a newline. */
  static String table(Snapshot s) {
    StringBuilder b = new StringBuilder();
    b.append(bar(s)).append("  ").append(s.done() ? "done" : s.plan().phase(s.elapsed()))
        .append("  sent ").append(s.sent()).append("  answered ").append(s.answered())
        .append(s.failed() > 0 ? "  failed " + s.failed() : "").append('\n');
    b.append("  decisions ");
    for (String kind : KINDS) {
      b.append(' ').append(kind).append(' ').append(s.decisions(kind));
    }
    b.append('\n');
    b.append(String.format(Locale.ROOT,
        "  offload ratio %5.1f%% (never reached orders)   cache hits %5.1f%%   429s %d%n",
        100 * s.offloadRatio(), 100 * s.cacheHitRatio(), s.status(429)));
    b.append(String.format(Locale.ROOT,
        "  tasks queued %d, done %d (thumbnails resized on 2 dedicated workers)%n",
        s.tasksQueued(), s.tasksDone()));
    b.append(String.format(Locale.ROOT, "  %-15s %9s %6s %9s %9s%n",
        "backend", "in flight", "peak", "p99", "received"));
    for (BackendStats backend : List.of(s.orders(), s.replica())) {
      b.append(String.format(Locale.ROOT, "  %-15s %9d %6d %6d ms %9d%n", backend.name(),
          backend.inFlight(), backend.peakInFlight(), backend.p99().toMillis(),
          backend.received()));
    }
    return b.toString();
  }

  private static String bar(Snapshot s) {
    long total = s.plan().duration().toMillis();
    double done = s.done() ? 1 : Math.min(1, s.elapsed().toMillis() / (double) total);
    int filled = (int) Math.round(done * BAR);
    return "[" + "#".repeat(filled) + ".".repeat(BAR - filled) + "] "
        + String.format(Locale.ROOT, "%4.1f/%d s", s.elapsed().toMillis() / 1000.0,
        s.plan().duration().toSeconds());
  }

  /**
   * Returns the end summary: where the requests went with offloading on, and the peak in-flight
   * on {@code orders} against the run of the same traffic with offloading off.
   *
   * @param on the run with the demo's route table
   * @param off the same plan with every request forwarded to orders
   * @return the summary, several lines
   */
  public static String summary(Snapshot on, Snapshot off) {
    requireNonNull(on, "on");
    requireNonNull(off, "off");
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "summary: %d requests in %.1f s with offloading,"
        + " %d answered, %d without an answer%n", on.sent(), on.elapsed().toMillis() / 1000.0,
        on.answered(), on.failed()));
    row(b, "redirected to the CDN (302)", on.decisions("redirect"), "");
    row(b, "answered from the edge cache", on.decisions("serve_cached"), "");
    row(b, "the host's own handler", on.decisions("pass_through"),
        "/hello, /metrics, edge-cache fills");
    row(b, "rejected by the guards", on.decisions("reject"), String.format(Locale.ROOT,
        "401: %d, 403: %d, 429: %d", on.status(401), on.status(403), on.status(429)));
    row(b, "offloaded as tasks", on.decisions("offload"), String.format(Locale.ROOT,
        "202: %d, resized by the workers: %d", on.status(202), on.tasksDone()));
    row(b, "forwarded to a backend", on.decisions("forward"), String.format(Locale.ROOT,
        "orders received %d, orders-replica %d%s", on.orders().received(),
        on.replica().received(), on.retries() == 0 ? ""
            : ", with " + on.retries() + " resent on a dead pooled connection"));
    row(b, "total decisions", on.decided(), on.decided() == on.sent()
        ? "one per request sent" : "requests sent: " + on.sent());
    b.append(String.format(Locale.ROOT,
        "offload ratio: %.1f%% of requests never reached orders (%d of %d)%n",
        100 * on.offloadRatio(), on.sent() - on.orders().received(), on.sent()));
    int peakOn = on.orders().peakInFlight();
    int peakOff = off.orders().peakInFlight();
    b.append(String.format(Locale.ROOT,
        "orders peak in flight: %d with offloading, %d without (the same %d requests, every one"
            + " forwarded to orders, measured in this run)%s%n", peakOn, peakOff, off.sent(),
        peakOn > 0 ? String.format(Locale.ROOT, ": %.1fx lower", peakOff / (double) peakOn)
            : ""));
    return b.toString();
  }

  private static void row(StringBuilder b, String what, long n, String detail) {
    b.append(String.format(Locale.ROOT, "  %-30s %6d%s%n", what, n,
        detail.isEmpty() ? "" : "  (" + detail + ")"));
  }
}
