package dev.offload.bench.load;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The side-by-side load comparison on loopback. An nginx backend answers 1 KiB; nginx {@code
 * proxy_pass} (upstream keep-alive) is the reference; every JVM-served arm runs in a JVM process
 * of its own ({@link LoadArm}), so that its CPU time is that process's. wrk ({@code -t1}) measures
 * each arm between two runs of the reference, and each arm is reported as a ratio to the mean of
 * the two reference runs around it: at 32 connections the reference is nginx {@code proxy_pass}
 * (requests/s, p50, p99, CPU per request), at one connection the direct backend (added p50).
 * Every figure is the median over the rounds; the arms' order rotates each round.
 *
 * <p>CPU per request is the serving process's user + system time during the wrk run (from
 * {@code /proc/PID/stat}: the arm's JVM, or nginx's master and workers) divided by the requests
 * wrk completed. The backend's CPU is not in a proxy's figure.
 *
 * <pre>
 * java -cp offload-bench/target/benchmarks.jar dev.offload.bench.load.LoadComparison [seconds] [rounds] [quick|full]
 * </pre>
 *
 * <p>System properties: {@code offload.bench.armJvmArgs} (extra JVM options for every arm's
 * JVM, space-separated, {@code {arm}} replaced by the arm's name, e.g. a JFR recording's file),
 * {@code offload.bench.virtualThreads} and {@code offload.bench.eventLoops} (passed on), {@code
 * offload.bench.arms} (only these JVM arms, comma-separated, besides nginx and direct).
 */
public final class LoadComparison {
  private static final String NGINX = "nginx";
  private static final String DIRECT = "direct";
  /** The JVM-served forwarding arms: what quick mode runs (with nginx and direct). */
  private static final List<String> FORWARDING = List.of("jdk gateway", "jetty gateway",
      "netty gateway", "minimal jdk+okhttp", "minimal netty");
  /** The full mode's further arms: pass-through wrappers and static content. */
  private static final List<String> HOSTS = List.of("host", "host+offload", "netty host",
      "netty host+offload", "asset host", "asset edge");
  private static final String ASSET_NGINX = "asset nginx";

  private LoadComparison() {}

  /**
   * Runs the comparison.
   *
   * @param args seconds per run at 32 connections, rounds, and {@code quick} or {@code full}
   * @throws Exception when a tool is missing or an arm fails
   */
  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    boolean quick = args.length > 2 && args[2].equals("quick");
    int c1Seconds = Math.max(1, seconds / 2);
    String wrkTool = requireTool("wrk");
    String nginxTool = requireTool(NGINX);
    List<AutoCloseable> closers = new ArrayList<>();
    String lastLine;
    try {
      Path www = Files.createTempDirectory("offload-www");
      Files.createDirectories(www.resolve("static"));
      Files.write(www.resolve("static").resolve("asset.css"), LoadArm.ASSET);
      Nginx backend = Nginx.backend(nginxTool, closers);
      Nginx proxy = Nginx.proxy(nginxTool, backend.port, www, closers);
      String backendUrl = "http://127.0.0.1:" + backend.port;

      Map<String, Arm> arms = new LinkedHashMap<>();
      arms.put(NGINX, new Arm(proxy.url("/hello"), proxy.pids, null));
      arms.put(DIRECT, new Arm(backend.url("/hello"), backend.pids, null));
      List<String> jvmArms = new ArrayList<>(FORWARDING);
      if (!quick) {
        jvmArms.addAll(HOSTS);
      }
      String only = System.getProperty("offload.bench.arms", "").trim();
      if (!only.isEmpty()) { // a subset, e.g. while profiling one forwarder against its floor
        jvmArms = List.of(only.split("\\s*,\\s*"));
      }
      // start every arm's JVM at once, then wait for each to say its port
      Map<String, CompletableFuture<Arm>> starting = new LinkedHashMap<>();
      for (String name : jvmArms) {
        starting.put(name, CompletableFuture.supplyAsync(() -> startJvm(name, backendUrl, closers)));
      }
      for (Map.Entry<String, CompletableFuture<Arm>> e : starting.entrySet()) {
        arms.put(e.getKey(), e.getValue().get(60, TimeUnit.SECONDS));
      }
      if (!quick) {
        arms.put(ASSET_NGINX, new Arm(proxy.url("/static/asset.css"), proxy.pids, null));
      }

      Wrk wrk = new Wrk(wrkTool);
      System.out.printf(Locale.ROOT, "java %s, %s, %d rounds, wrk -t1: -c32 %d s, -c1 %d s per run,"
              + " each arm between two runs of its reference%n",
          System.getProperty("java.version"), quick ? "quick" : "full", rounds, seconds,
          c1Seconds);
      for (Arm arm : arms.values()) { // warm up the JIT of every arm
        wrk.run(arm, 32, Math.max(3, seconds), true);
        wrk.run(arm, 1, 1, true);
      }
      Bracketed c32 = measure(wrk, arms, NGINX, 32, seconds, rounds);
      Bracketed c1 = measure(wrk, arms, DIRECT, 1, c1Seconds, rounds);
      report(arms.keySet(), c32, c1);
      // the three figures, when the arms they need ran (offload.bench.arms may leave some out)
      boolean figures = c32.has("netty gateway") && c32.has("jdk gateway")
          && c32.has("minimal jdk+okhttp");
      lastLine = !figures ? "" : String.format(Locale.ROOT,
          "netty_forward_vs_nginx=%.2f jdk_forward_vs_minimal=%.2f netty_added_p50_us=%.0f",
          c32.ratio("netty gateway", r -> r.rps),
          c32.ratio("jdk gateway", "minimal jdk+okhttp", r -> r.rps),
          c1.added("netty gateway", r -> r.p50us));
    } finally {
      for (int i = closers.size() - 1; i >= 0; i--) {
        closers.get(i).close();
      }
    }
    System.out.flush();
    System.err.flush();
    System.out.println(lastLine); // the last line, after the servers stopped
  }

  /**
   * Runs every arm but the reference between two runs of the reference, {@code rounds} times,
   * rotating the order each round.
   */
  private static Bracketed measure(Wrk wrk, Map<String, Arm> arms, String reference,
      int connections, int seconds, int rounds) throws Exception {
    Bracketed results = new Bracketed(reference);
    List<String> order = new ArrayList<>(arms.keySet());
    order.remove(reference);
    for (int round = 0; round < rounds; round++) {
      Result before = wrk.run(arms.get(reference), connections, seconds);
      results.add(reference, round, before, before);
      for (String name : order) {
        Result r = wrk.run(arms.get(name), connections, seconds);
        Result after = wrk.run(arms.get(reference), connections, seconds);
        Result bracket = Result.mean(before, after);
        results.add(name, round, r, bracket);
        results.add(reference, round, after, after);
        System.out.printf(Locale.ROOT,
            "  round %d -c%-2d %-20s %8.0f req/s (%.2fx) p50 %7.1f us p99 %8.1f us"
                + " cpu %6.1f us/req alloc %6.0f B/req   %s %8.0f req/s%n",
            round + 1, connections, name, r.rps, r.rps / bracket.rps, r.p50us, r.p99us,
            r.cpuUs, r.allocBytes, reference, bracket.rps);
        before = after;
      }
      Collections.rotate(order, 1);
    }
    return results;
  }

  private static void report(Iterable<String> names, Bracketed c32, Bracketed c1) {
    System.out.println();
    System.out.println("| arm | -c32 req/s / nginx | -c32 p50 / nginx | -c32 p99 / nginx"
        + " | CPU us/req | CPU / nginx | alloc B/req | -c1 added p50 |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (String name : names) {
      if (!c32.has(name)) {
        continue;
      }
      double alloc = c32.median(name, r -> r.allocBytes);
      System.out.printf(Locale.ROOT, "| %s | %.2fx | %.2fx | %.2fx | %.0f | %.2fx | %s | %s |%n",
          name, c32.ratio(name, r -> r.rps), c32.ratio(name, r -> r.p50us),
          c32.ratio(name, r -> r.p99us), c32.median(name, r -> r.cpuUs),
          c32.ratio(name, r -> r.cpuUs),
          Double.isNaN(alloc) ? "" : String.format(Locale.ROOT, "%.0f", alloc),
          String.format(Locale.ROOT, "%+.0f us", c1.added(name, r -> r.p50us)));
    }
    System.out.println();
    System.out.println("| comparison (median of per-round ratios) | -c32 req/s | CPU us/req"
        + " | alloc B/req | -c1 added p50 | target | met |");
    System.out.println("|---|---|---|---|---|---|---|");
    compare(c32, c1, "netty gateway / nginx proxy_pass", "netty gateway", NGINX,
        "req/s >= 0.9x, CPU <= 1.2x, added p50 <= nginx's + 20 us",
        () -> c32.ratio("netty gateway", r -> r.rps) >= 0.9
            && c32.ratio("netty gateway", r -> r.cpuUs) <= 1.2
            && c1.added("netty gateway", r -> r.p50us) - c1.added(NGINX, r -> r.p50us) <= 20);
    compare(c32, c1, "minimal netty / nginx proxy_pass (reference)", "minimal netty", NGINX, "",
        null);
    compare(c32, c1, "jdk gateway / minimal jdk+okhttp", "jdk gateway", "minimal jdk+okhttp",
        "req/s >= 0.95x", () -> c32.ratio("jdk gateway", "minimal jdk+okhttp", r -> r.rps) >= 0.95);
    compare(c32, c1, "jetty gateway / jdk gateway", "jetty gateway", "jdk gateway", "", null);
    compare(c32, c1, "netty gateway / minimal netty", "netty gateway", "minimal netty", "",
        null);
    compare(c32, c1, "netty host+offload / netty host", "netty host+offload", "netty host",
        "req/s >= 0.95x",
        () -> c32.ratio("netty host+offload", "netty host", r -> r.rps) >= 0.95);
    compare(c32, c1, "host+offload / host (JDK)", "host+offload", "host", "req/s >= 0.95x",
        () -> c32.ratio("host+offload", "host", r -> r.rps) >= 0.95);
    compare(c32, c1, "asset edge / asset host", "asset edge", "asset host", "req/s >= 0.9x",
        () -> c32.ratio("asset edge", "asset host", r -> r.rps) >= 0.9);
    compare(c32, c1, "asset edge / asset nginx", "asset edge", ASSET_NGINX, "", null);
  }

  private static void compare(Bracketed c32, Bracketed c1, String label, String a, String b,
      String target, java.util.function.BooleanSupplier met) {
    if (!c32.has(a) || !c32.has(b)) {
      return;
    }
    String added = String.format(Locale.ROOT, "%+.0f us",
        c1.added(a, r -> r.p50us) - c1.added(b, r -> r.p50us));
    double alloc = c32.median(a, r -> r.allocBytes) / c32.median(b, r -> r.allocBytes);
    System.out.printf(Locale.ROOT, "| %s | %.2fx | %.2fx | %s | %s | %s | %s |%n", label,
        c32.ratio(a, b, r -> r.rps), c32.ratio(a, b, r -> r.cpuUs),
        Double.isNaN(alloc) ? "" : String.format(Locale.ROOT, "%.2fx", alloc), added, target,
        met == null ? "" : met.getAsBoolean() ? "yes" : "**no**");
  }

  /**
   * One arm: where wrk sends its load, the processes whose CPU time is the arm's, and for a JVM
   * arm the bytes it allocated so far (null for nginx).
   */
  private record Arm(String url, long[] pids, LongSupplierIo allocated) {}

  /** A reading that may fail with an I/O error. */
  @FunctionalInterface
  private interface LongSupplierIo {
    long get() throws IOException;
  }

  /**
   * One wrk run: requests/s, latency percentiles, CPU of the serving process per request, and
   * bytes it allocated per request (NaN where not known).
   */
  private record Result(double rps, double p50us, double p99us, double cpuUs, double allocBytes) {
    static Result mean(Result a, Result b) {
      return new Result((a.rps + b.rps) / 2, (a.p50us + b.p50us) / 2, (a.p99us + b.p99us) / 2,
          (a.cpuUs + b.cpuUs) / 2, (a.allocBytes + b.allocBytes) / 2);
    }
  }

  /** Each arm's runs, each with the mean of the reference runs around it, by round. */
  private static final class Bracketed {
    private final String reference;
    private final Map<String, List<Result[]>> runs = new LinkedHashMap<>();

    Bracketed(String reference) {
      this.reference = reference;
    }

    void add(String arm, int round, Result result, Result bracket) {
      runs.computeIfAbsent(arm, k -> new ArrayList<>()).add(new Result[] {result, bracket});
    }

    boolean has(String arm) {
      return runs.containsKey(arm);
    }

    /** Median of the arm's value over the reference's around it (1 for the reference). */
    double ratio(String arm, ToDoubleFunction<Result> f) {
      return median(runs.get(arm), r -> f.applyAsDouble(r[0]) / f.applyAsDouble(r[1]));
    }

    /** Median of the arm's value (over every run of the reference, for the reference). */
    double median(String arm, ToDoubleFunction<Result> f) {
      return median(runs.get(arm), r -> f.applyAsDouble(r[0]));
    }

    /** Median over the rounds of arm a's bracketed ratio over arm b's, round by round. */
    double ratio(String a, String b, ToDoubleFunction<Result> f) {
      if (b.equals(reference)) {
        return ratio(a, f);
      }
      List<Result[]> ra = runs.get(a);
      List<Result[]> rb = runs.get(b);
      double[] ratios = new double[ra.size()];
      for (int i = 0; i < ratios.length; i++) {
        ratios[i] = (f.applyAsDouble(ra.get(i)[0]) / f.applyAsDouble(ra.get(i)[1]))
            / (f.applyAsDouble(rb.get(i)[0]) / f.applyAsDouble(rb.get(i)[1]));
      }
      return LoadComparison.median(ratios);
    }

    /** Median of the arm's value minus the reference's around it (0 for the reference). */
    double added(String arm, ToDoubleFunction<Result> f) {
      return median(runs.get(arm), r -> f.applyAsDouble(r[0]) - f.applyAsDouble(r[1]));
    }

    private static double median(List<Result[]> runs, ToDoubleFunction<Result[]> f) {
      return LoadComparison.median(runs.stream().mapToDouble(f).toArray());
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** wrk, and the CPU time of the arm's processes around each run. */
  private static final class Wrk {
    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern REQUESTS = Pattern.compile("([0-9]+) requests in");
    private static final Pattern SOCKET_ERRORS = Pattern.compile(
        "Socket errors: connect ([0-9]+ read [0-9]+ write [0-9]+), timeout ([0-9]+)");
    private static final Pattern PCT =
        Pattern.compile("^\\s+(50|99)(?:\\.000)?%\\s+([0-9.]+)(us|ms|s)\\s*$", Pattern.MULTILINE);
    private final String tool;
    private final double microsPerTick;

    Wrk(String tool) throws Exception {
      this.tool = tool;
      Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
      String hz = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      this.microsPerTick = 1_000_000.0 / Long.parseLong(hz);
    }

    Result run(Arm arm, int connections, int seconds) throws Exception {
      return run(arm, connections, seconds, false);
    }

    /**
     * Runs wrk on the arm. Any non-2xx answer, or a connect, read or write error, fails the
     * comparison; wrk's timeouts (no answer within 2 s: a stall of this shared machine) are
     * reported and kept in the figures, and ignored while warming up.
     */
    Result run(Arm arm, int connections, int seconds, boolean warmUp) throws Exception {
      long allocatedBefore = arm.allocated == null ? 0 : arm.allocated.get();
      long cpuBefore = cpuTicks(arm.pids);
      Process p = new ProcessBuilder(tool, "-t1", "-c" + connections, "-d" + seconds + "s",
          "--latency", arm.url).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("wrk failed on " + arm.url + ":\n" + out);
      }
      long cpu = cpuTicks(arm.pids) - cpuBefore;
      double allocated = arm.allocated == null ? Double.NaN
          : arm.allocated.get() - allocatedBefore;
      Matcher errors = SOCKET_ERRORS.matcher(out);
      boolean socketErrors = errors.find();
      if (out.contains("Non-2xx") || socketErrors && !errors.group(1).equals("0 read 0 write 0")) {
        throw new IllegalStateException("errors in the " + arm.url + " arm:\n" + out);
      }
      if (socketErrors && !warmUp) {
        System.out.printf("  (%s: %s timeouts in this run)%n", arm.url, errors.group(2));
      }
      Matcher rps = RPS.matcher(out);
      Matcher requests = REQUESTS.matcher(out);
      if (!rps.find() || !requests.find()) {
        throw new IllegalStateException("no Requests/sec in wrk output:\n" + out);
      }
      double p50 = Double.NaN;
      double p99 = Double.NaN;
      Matcher m = PCT.matcher(out);
      while (m.find()) {
        double v = Double.parseDouble(m.group(2));
        double us = switch (m.group(3)) {
          case "us" -> v;
          case "ms" -> v * 1_000;
          default -> v * 1_000_000;
        };
        if (m.group(1).equals("50")) {
          p50 = us;
        } else {
          p99 = us;
        }
      }
      long done = Long.parseLong(requests.group(1));
      return new Result(Double.parseDouble(rps.group(1)), p50, p99, cpu * microsPerTick / done,
          allocated / done);
    }

    /** User + system time of the processes, in clock ticks ({@code /proc/PID/stat}). */
    private static long cpuTicks(long[] pids) throws IOException {
      long ticks = 0;
      for (long pid : pids) {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        // the fields after the command's closing parenthesis: state is field 3, utime 14, stime 15
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
      }
      return ticks;
    }
  }

  /** Starts {@link LoadArm} in a JVM of its own, with this JVM's options and class path. */
  private static Arm startJvm(String name, String backendUrl, List<AutoCloseable> closers) {
    try {
      List<String> command = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xms256m", "-Xmx256m",
          "-Doffload.bench.virtualThreads=" + Boolean.getBoolean("offload.bench.virtualThreads"),
          "-Doffload.bench.eventLoops=" + Integer.getInteger("offload.bench.eventLoops", 0)));
      String extra = System.getProperty("offload.bench.armJvmArgs", "").trim();
      if (!extra.isEmpty()) {
        for (String option : extra.split("\\s+")) {
          command.add(option.replace("{arm}", name.replaceAll("[^a-z0-9]+", "-")));
        }
      }
      command.addAll(List.of("-cp", System.getProperty("java.class.path"),
          LoadArm.class.getName(), name, backendUrl));
      Path log = Files.createTempFile("offload-arm-", ".log");
      Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
      synchronized (closers) {
        closers.add(() -> {
          process.getOutputStream().close(); // LoadArm exits when its input closes
          if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroy();
          }
        });
      }
      BufferedReader out = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
      String line = out.readLine();
      while (line != null && !line.startsWith("port=")) {
        line = out.readLine(); // what the JVM itself says first (a JFR recording starting)
      }
      if (line == null) {
        throw new IllegalStateException("arm " + name + " did not start: " + line + "\n"
            + Files.readString(log));
      }
      int port = Integer.parseInt(line.substring("port=".length()));
      String path = name.startsWith("asset") ? "/static/asset.css" : "/hello";
      java.io.Writer ask = new java.io.OutputStreamWriter(process.getOutputStream(),
          StandardCharsets.US_ASCII);
      LongSupplierIo allocated = () -> {
        ask.write("allocated?\n");
        ask.flush();
        String answer = out.readLine();
        if (answer == null || !answer.startsWith("allocated=")) {
          throw new IOException("arm " + name + " answered " + answer);
        }
        return Long.parseLong(answer.substring("allocated=".length()));
      };
      return new Arm("http://127.0.0.1:" + port + path, new long[] {process.pid()}, allocated);
    } catch (IOException e) {
      throw new IllegalStateException("arm " + name + " did not start", e);
    }
  }

  /** An nginx of its own: the backend, or the reference proxy (which also serves the asset). */
  private record Nginx(int port, long[] pids) {
    String url(String path) {
      return "http://127.0.0.1:" + port + path;
    }

    static Nginx backend(String tool, List<AutoCloseable> closers) throws Exception {
      String body = "x".repeat(1024);
      return start(tool, """
          server {
            listen 127.0.0.1:%%PORT%%;
            keepalive_requests 1000000;
            location = /hello { default_type text/plain; return 200 '%s'; }
          }
          """.formatted(body), closers);
    }

    static Nginx proxy(String tool, int backendPort, Path www, List<AutoCloseable> closers)
        throws Exception {
      return start(tool, """
          upstream backend {
            server 127.0.0.1:%d;
            keepalive 64;
            keepalive_requests 1000000;
          }
          server {
            listen 127.0.0.1:%%PORT%%;
            keepalive_requests 1000000;
            location /static/ {
              root %s;
              add_header Cache-Control "public, max-age=3600";
            }
            location / {
              proxy_pass http://backend;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
            }
          }
          """.formatted(backendPort, www), closers);
    }

    private static Nginx start(String tool, String server, List<AutoCloseable> closers)
        throws Exception {
      int port;
      try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1,
          java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      Path dir = Files.createTempDirectory("offload-nginx");
      String conf = """
          worker_processes 1;
          daemon off;
          user root;
          pid %1$s/nginx.pid;
          error_log %1$s/error.log warn;
          events { worker_connections 4096; }
          http {
            access_log off;
            client_body_temp_path %1$s/body;
            proxy_temp_path %1$s/proxy;
            fastcgi_temp_path %1$s/fastcgi;
            uwsgi_temp_path %1$s/uwsgi;
            scgi_temp_path %1$s/scgi;
          %2$s
          }
          """.formatted(dir, server.replace("%PORT%", Integer.toString(port)));
      Path confFile = dir.resolve("nginx.conf");
      Files.writeString(confFile, conf);
      Process process = new ProcessBuilder(tool, "-c", confFile.toString(), "-p", dir.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
      closers.add(() -> {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
      });
      // an interrupted run (Ctrl-C) skips the closers: nginx must not outlive it (the arms' JVMs
      // end by themselves when their input closes)
      Runtime.getRuntime().addShutdownHook(new Thread(process::destroy));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline) {
        try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
          // nginx accepts: it is up; its worker is the master's child, once forked
          probe.shutdownOutput();
          List<Long> pids = new ArrayList<>();
          pids.add(process.pid());
          process.toHandle().children().forEach(c -> pids.add(c.pid()));
          if (pids.size() > 1) {
            return new Nginx(port, pids.stream().mapToLong(Long::longValue).toArray());
          }
        } catch (IOException notYet) {
          if (!process.isAlive()) {
            throw new IllegalStateException(
                "nginx exited: " + Files.readString(dir.resolve("stdout.log")));
          }
          Thread.onSpinWait();
        }
      }
      throw new IllegalStateException("nginx did not start listening on " + port);
    }
  }

  private static String requireTool(String name) {
    for (String dir : ("/usr/sbin:/usr/bin:" + System.getenv().getOrDefault("PATH", ""))
        .split(":")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new IllegalStateException(name + " not found: apt-get install " + name);
  }
}
