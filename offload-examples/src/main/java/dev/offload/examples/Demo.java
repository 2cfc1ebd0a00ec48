package dev.offload.examples;

import static java.util.Objects.requireNonNull;

import dev.offload.core.replay.ReplayReport;
import dev.offload.core.replay.TrafficReplay;
import dev.offload.examples.demo.DemoGateway;
import dev.offload.examples.demo.DemoReplay;
import dev.offload.examples.demo.LoadRun;
import dev.offload.examples.demo.LoadView;
import java.io.IOException;
import java.io.PrintStream;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import java.net.BindException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * The README's demo, {@code java -jar offload-examples/target/offload-demo.jar}:
 *
 * <pre>
 * (no option)      the demo gateway in the foreground until SIGTERM / Ctrl-C
 * --port P         gateway on P, demo CDN on P+10, orders on P+11, orders-replica on P+12
 *                  (default 8080; 0: every listener on a free port)
 * --redis URI      the API rate limit and edge-cache purges shared with every demo instance on
 *                  that Redis (for example redis://127.0.0.1:6379)
 * --load           drive a traffic mix with a spike through it, print a live table and a
 *                  summary against the same traffic with offloading off, then exit
 * --duration S     seconds of each load run (default 18; 1..60)
 * --tour           the former demo: decisions explained in-process, then a few live requests
 * --replay FILE    replay an access log (Common, Combined or CSV) through the demo's router on a
 *                  simulated clock and print the report; starts no server
 * --scale X        with --replay: X times the log's traffic (default 1)
 * </pre>
 */
public final class Demo {
  private Demo() {}

  /**
   * Runs the demo.
   *
   * @param args the options above
   * @throws Exception if the demo cannot start
   */
  public static void main(String[] args) throws Exception {
    Args parsed;
    try {
      parsed = Args.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("offload-demo: " + e.getMessage());
      System.err.println(Args.USAGE);
      System.exit(2);
      return;
    }
    try {
      run(parsed);
    } catch (NoSuchFileException e) {
      System.err.println("offload-demo: no such file: " + e.getFile());
      System.exit(1);
    } catch (BindException e) {
      System.err.println("offload-demo: " + e.getMessage()
          + " (--port P moves the demo to P, P+10, P+11, P+12)");
      System.exit(1);
    } catch (RedisConnectionException e) {
      System.err.println("offload-demo: cannot reach Redis at "
          + parsed.redis.map(URI::toString).orElse("?") + ": " + e.getMessage());
      System.exit(1);
    }
  }

  private static void run(Args parsed) throws Exception {
    if (parsed.help) {
      System.out.println(Args.USAGE);
    } else if (parsed.replay != null) {
      replay(parsed.replay, parsed.scale, System.out, System.console() != null);
    } else if (parsed.tour) {
      tour(System.out);
    } else if (parsed.load) {
      runLoad(parsed.options(), parsed.plan, System.out, System.console() != null);
    } else {
      serve(parsed.options(), System.out);
    }
  }

  /**
   * {@code --replay FILE}: replays the log through the demo's router and prints the report, with
   * a progress bar on standard error when {@code terminal}.
   *
   * @param file the access log
   * @param scale the time-scale factor
   * @param out where the report goes
   * @param terminal whether to draw a progress bar
   * @return the report
   * @throws IOException if the log cannot be read
   */
  static ReplayReport replay(Path file, double scale, PrintStream out, boolean terminal)
      throws IOException {
    TrafficReplay.Progress progress = terminal
        ? DemoReplay.bar(System.err, DemoReplay.size(file)) : (lines, chars) -> {};
    ReplayReport report = DemoReplay.replay(file, scale, progress);
    if (terminal) {
      System.err.println();
    }
    out.print(report.toTable());
    return report;
  }

  /** Runs the gateway in the foreground until the JVM is asked to stop (SIGTERM, Ctrl-C). */
  private static void serve(DemoGateway.Options options, PrintStream out)
      throws IOException, InterruptedException {
    DemoGateway demo = DemoGateway.start(options);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      out.println("stopping: draining requests in flight");
      demo.close();
      out.println("stopped");
      out.flush();
      stopped.countDown();
    }, "offload-demo-shutdown"));
    out.println(demo.describe());
    out.println();
    out.println("try:  curl -i " + demo.gatewayUri() + "/static/app.js");
    out.println("      curl -i -H 'X-Api-Key: " + DemoGateway.API_KEY + "' "
        + demo.gatewayUri() + "/api/echo");
    out.println("ready: " + demo.gatewayUri() + " (stop with Ctrl-C or SIGTERM)");
    out.flush();
    stopped.await();
  }

  /**
   * Runs the load twice in this JVM: with the demo's route table (live table on {@code out}),
   * then the same plan with offloading off (a progress line), and prints the summary.
   *
   * @param options the demo with offloading on (its ports are used; the baseline takes free
   *     ports)
   * @param plan how long and how fast
   * @param out where to print
   * @param terminal whether {@code out} is a terminal (the table is redrawn in place)
   * @return the two runs, offloading on and off
   * @throws IOException if a port cannot be bound
   * @throws InterruptedException if interrupted
   */
  public static LoadResult runLoad(DemoGateway.Options options, LoadRun.Plan plan,
      PrintStream out, boolean terminal) throws IOException, InterruptedException {
    requireNonNull(options, "options");
    requireNonNull(plan, "plan");
    LoadView view = new LoadView(out, terminal);
    LoadRun.Snapshot on;
    try (DemoGateway demo = DemoGateway.start(options.withOffloading(true))) {
      out.println(demo.describe());
      out.println("ready: " + demo.gatewayUri());
      out.println();
      out.printf("1/2 with offloading: %d requests over %d s (%d/s, %d/s in the middle third)%n",
          plan.requests(), plan.duration().toSeconds(), plan.rate(), 3 * plan.rate());
      on = LoadRun.run(demo, plan, view::live);
    }
    out.println();
    LoadRun.Snapshot off;
    try (DemoGateway baseline = DemoGateway.start(options.withOffloading(false)
        .withPorts(DemoGateway.Ports.ephemeral()))) {
      out.println("2/2 the same traffic with offloading off (every request forwarded to orders,"
          + " " + baseline.gatewayUri() + ")");
      off = LoadRun.run(baseline, plan, view::progress);
    }
    out.println();
    out.print(LoadView.summary(on, off));
    out.flush();
    return new LoadResult(on, off);
  }

  /**
   * The former demo: decisions explained in-process, then a few requests to a live gateway.
   *
   * @param out where to print
   * @throws IOException if a server cannot start
   * @throws InterruptedException if interrupted
   */
  static void tour(PrintStream out) throws IOException, InterruptedException {
    out.println("=== 1. decisions, in-process (what your unit tests see) ===");
    out.println();
    DecisionsDemo.run(out);
    out.println();
    out.println("=== 2. a live gateway on loopback (JDK HttpServer + offload) ===");
    out.println();
    GatewayDemo.run(out);
  }

  /**
   * The two runs of {@code --load}.
   *
   * @param on with the demo's route table
   * @param off the same traffic, every request forwarded to orders
   */
  public record LoadResult(LoadRun.Snapshot on, LoadRun.Snapshot off) {}

  /** The command line. */
  static final class Args {
    static final String USAGE = String.join("\n",
        "usage: java -jar offload-demo.jar [--port P] [--redis URI] [--load [--duration S]]"
            + " | --tour | --replay FILE [--scale X] | --help",
        "  --port P      gateway on P (default 8080), demo CDN P+10, orders P+11, replica P+12;"
            + " 0: free ports",
        "  --load        drive a traffic mix with a spike, show it live, compare with offloading"
            + " off, exit",
        "  --redis URI   share the rate limit and edge-cache purges with every demo on that Redis"
            + " (redis://127.0.0.1:6379)",
        "  --duration S  seconds of each load run, 1..60 (default 18)",
        "  --tour        decisions explained in-process, then a few live requests",
        "  --replay FILE replay an access log through the demo's router (simulated; no server)",
        "  --scale X     with --replay: X times the log's traffic (default 1)");

    DemoGateway.Ports ports = DemoGateway.Ports.from(DemoGateway.DEFAULT_PORT);
    LoadRun.Plan plan = LoadRun.Plan.DEFAULT;
    boolean load;
    boolean tour;
    boolean help;
    Path replay;
    double scale = 1;
    Optional<URI> redis = Optional.empty();

    DemoGateway.Options options() {
      DemoGateway.Options options = DemoGateway.Options.defaults().withPorts(ports);
      return redis.map(options::withRedis).orElse(options);
    }

    static Args parse(String... args) {
      Args a = new Args();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--port" -> a.ports = DemoGateway.Ports.from(number(args, ++i, "--port"));
          case "--load" -> a.load = true;
          case "--duration" -> a.plan = new LoadRun.Plan(
              Duration.ofSeconds(number(args, ++i, "--duration")), a.plan.rate());
          case "--tour" -> a.tour = true;
          case "--help", "-h" -> a.help = true;
          case "--replay" -> {
            if (++i >= args.length) {
              throw new IllegalArgumentException("--replay needs a log file");
            }
            a.replay = Path.of(args[i]);
          }
          case "--scale" -> a.scale = scale(args, ++i);
          case "--redis" -> {
            if (++i >= args.length) {
              throw new IllegalArgumentException("--redis needs a URI, e.g. redis://127.0.0.1:6379");
            }
            a.redis = Optional.of(redisUri(args[i]));
          }
          default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
        }
      }
      return a;
    }

    private static URI redisUri(String text) {
      try {
        URI uri = new URI(text);
        RedisURI.create(uri); // a scheme Lettuce does not know fails here
        if (uri.getHost() == null) {
          throw new IllegalArgumentException("no host");
        }
        return uri;
      } catch (URISyntaxException | IllegalArgumentException e) {
        throw new IllegalArgumentException("--redis must be a URI like redis://127.0.0.1:6379,"
            + " was '" + text + "'");
      }
    }

    private static double scale(String[] args, int i) {
      if (i >= args.length) {
        throw new IllegalArgumentException("--scale needs a number");
      }
      try {
        double scale = Double.parseDouble(args[i]);
        if (scale > 0 && scale <= 1000) {
          return scale;
        }
      } catch (NumberFormatException e) {
        // named below
      }
      throw new IllegalArgumentException("--scale must be a number in (0, 1000], was '" + args[i]
          + "'");
    }

    private static int number(String[] args, int i, String option) {
      if (i >= args.length) {
        throw new IllegalArgumentException(option + " needs a number");
      }
      try {
        return Integer.parseInt(args[i]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(option + " must be a number, was '" + args[i] + "'");
      }
    }
  }
}
