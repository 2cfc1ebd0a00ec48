package dev.offload.bench.load;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.forward.Forwarder;
import dev.offload.http.jdk.OffloadHttpHandler;
import dev.offload.netty.OffloadServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;

/**
 * The side-by-side load comparison on loopback: one JVM starts the servers, wrk measures each
 * arm in turn, interleaved, and the result is reported as medians of per-round ratios, since
 * absolute numbers on a shared machine mean little.
 *
 * <p>Arms: the backend called directly; our gateway (JDK HttpServer + OffloadHttpHandler
 * forwarding with OkHttp); nginx {@code proxy_pass} to the same backend (skipped when nginx is
 * missing); the host handler alone; the host handler wrapped with a router that passes the
 * request through.
 *
 * <pre>
 * java -cp offload-bench/target/benchmarks.jar dev.offload.bench.load.LoadComparison [seconds] [rounds]
 * </pre>
 */
public final class LoadComparison {
  private static final int SERVER_THREADS = 64;
  private static final byte[] BODY = "x".repeat(1024).getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ASSET = ("body{margin:0}\n" + "p{color:#333}\n".repeat(300))
      .substring(0, 4096).getBytes(StandardCharsets.US_ASCII);

  private LoadComparison() {}

  public static void main(String[] args) throws Exception {
    // Without TCP_NODELAY the JDK server's separate header and body writes meet the client's
    // delayed ACK and every response waits ~40 ms: measure the server, not Nagle.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    // quick: only the forwarding arms, and a last line with the three figures
    boolean quick = args.length > 2 && args[2].equals("quick");
    requireTool("wrk");
    List<AutoCloseable> closers = new ArrayList<>();
    String lastLine = null;
    try {
      HttpHandler host = LoadComparison::answer1KiB;
      HttpServer backend = start(host, closers);
      URI backendUri = URI.create("http://127.0.0.1:" + backend.getAddress().getPort());
      Backend upstream = Backend.of("backend", backendUri);

      OkHttpClient client = proxyClient();
      OffloadRouter forwarding = OffloadRouter.builder()
          .route("all", Route.any(), FailoverStrategy.to(upstream))
          .build();
      HttpServer gateway = start(OffloadHttpHandler.wrap(
          OffloadExecutor.builder(forwarding).forwarding(f -> f.okHttpClient(client)).build(), host), closers);

      HttpServer hostAlone = start(host, closers);
      OffloadRouter passThrough = OffloadRouter.builder()
          .route("api", Route.prefix("/api/"), FailoverStrategy.to(upstream))
          .route("static", Route.get("/static/**"),
              CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
          .build();
      HttpServer hostWrapped = start(OffloadHttpHandler.wrap(passThrough, host), closers);

      // static content: a 4 KiB asset from the host's memory, from our edge cache in front of
      // the same handler (filled by the first request, then hits), and from nginx's disk
      HttpServer assetHost = start(LoadComparison::answerAsset, closers);
      EdgeCache cache = EdgeCache.builder().maximumBytes(16 << 20).build();
      OffloadRouter edge = OffloadRouter.builder()
          .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(cache))
          .build();
      HttpServer assetEdge = start(OffloadHttpHandler.wrap(edge, LoadComparison::answerAsset),
          closers);

      Map<String, String> arms = new LinkedHashMap<>();
      arms.put("direct", url(backend));
      arms.put("gateway", url(gateway));
      arms.put("minimal jdk+okhttp",
          url(start(new MinimalProxy(client, backendUri.toString()), closers)));
      OffloadServer netty = OffloadServer.builder(
              OffloadExecutor.builder(forwarding).forwarding(f -> f.okHttpClient(client)).build())
          .port(0).start();
      closers.add(netty);
      arms.put("netty gateway", "http://127.0.0.1:" + netty.port() + "/hello");
      Path www = Files.createTempDirectory("offload-www");
      Files.createDirectories(www.resolve("static"));
      Files.write(www.resolve("static").resolve("asset.css"), ASSET);
      Integer nginxPort = startNginx(backend.getAddress().getPort(), www, closers);
      if (nginxPort != null) {
        arms.put("nginx", "http://127.0.0.1:" + nginxPort + "/hello");
      } else {
        System.out.println("nginx not found: skipping the nginx arm (apt-get install nginx)");
      }
      if (!quick) {
      arms.put("host", url(hostAlone));
      arms.put("host+offload", url(hostWrapped));
      arms.put("netty host", "http://127.0.0.1:" + NettyHost.start(null, closers) + "/hello");
      arms.put("netty host+offload",
          "http://127.0.0.1:" + NettyHost.start(OffloadExecutor.of(passThrough), closers) + "/hello");
      arms.put("asset host", assetUrl(assetHost.getAddress().getPort()));
      arms.put("asset edge", assetUrl(assetEdge.getAddress().getPort()));
      if (nginxPort != null) {
        arms.put("asset nginx", assetUrl(nginxPort));
      }
      }

      System.out.printf("java %s, %d rounds x %d s per arm, wrk -t1%n",
          System.getProperty("java.version"), rounds, seconds);
      for (String url : arms.values()) {
        wrk(url, 32, Math.max(3, seconds)); // warm up the JIT of every arm
        wrk(url, 1, 2);
      }
      Map<String, List<Result>> c32 = measure(arms, 32, seconds, rounds);
      Map<String, List<Result>> c1 = measure(arms, 1, seconds, rounds);
      report(c32, c1);
      if (quick) {
        lastLine = String.format(Locale.ROOT,
            "netty_forward_vs_nginx=%.2f jdk_forward_vs_minimal=%.2f netty_added_p50_us=%.0f",
            c32.containsKey("nginx")
                ? medianRatio(c32.get("netty gateway"), c32.get("nginx"), r -> r.rps) : Double.NaN,
            medianRatio(c32.get("gateway"), c32.get("minimal jdk+okhttp"), r -> r.rps),
            medianDifference(c1.get("netty gateway"), c1.get("direct")));
      }
    } finally {
      for (int i = closers.size() - 1; i >= 0; i--) {
        closers.get(i).close();
      }
    }
    if (lastLine != null) {
      System.out.flush();
      System.err.flush();
      System.out.println(lastLine); // the quick mode's last line, after the servers stopped
    }
  }

  private static Map<String, List<Result>> measure(Map<String, String> arms, int connections,
      int seconds, int rounds) throws Exception {
    Map<String, List<Result>> results = new LinkedHashMap<>();
    List<String> order = new ArrayList<>(arms.keySet());
    for (int round = 0; round < rounds; round++) {
      for (String arm : order) {
        Result r = wrk(arms.get(arm), connections, seconds);
        results.computeIfAbsent(arm, k -> new ArrayList<>()).add(r);
        System.out.printf(Locale.ROOT, "  round %d -c%-2d %-13s %9.0f req/s  p50 %7.1f us  p99 %8.1f us%n",
            round + 1, connections, arm, r.rps, r.p50us, r.p99us);
      }
      java.util.Collections.rotate(order, 1); // interleave: each arm takes each slot in turn
    }
    return results;
  }

  private static void report(Map<String, List<Result>> c32, Map<String, List<Result>> c1) {
    System.out.println();
    System.out.println("| comparison (median of per-round ratios) | -c32 req/s | -c32 p50 | -c32 p99 | -c1 added p50 |");
    System.out.println("|---|---|---|---|---|");
    row("gateway / nginx proxy_pass", c32, c1, "gateway", "nginx");
    row("gateway / direct backend", c32, c1, "gateway", "direct");
    row("gateway / minimal JDK + OkHttp proxy", c32, c1, "gateway", "minimal jdk+okhttp");
    row("nginx proxy_pass / direct backend", c32, c1, "nginx", "direct");
    row("host+offload pass-through / host alone", c32, c1, "host+offload", "host");
    row("netty gateway (OkHttp forwarder) / nginx proxy_pass", c32, c1, "netty gateway", "nginx");
    row("netty gateway / JDK gateway", c32, c1, "netty gateway", "gateway");
    row("netty host+offload pass-through / netty host alone", c32, c1, "netty host+offload",
        "netty host");
    row("4 KiB asset: edge cache hit / host from memory", c32, c1, "asset edge", "asset host");
    row("4 KiB asset: edge cache hit / nginx static file", c32, c1, "asset edge", "asset nginx");
  }

  private static void row(String label, Map<String, List<Result>> c32, Map<String, List<Result>> c1,
      String a, String b) {
    if (!c32.containsKey(a) || !c32.containsKey(b)) {
      return;
    }
    double rps = medianRatio(c32.get(a), c32.get(b), r -> r.rps);
    double p50 = medianRatio(c32.get(a), c32.get(b), r -> r.p50us);
    double p99 = medianRatio(c32.get(a), c32.get(b), r -> r.p99us);
    double[] added = new double[c1.get(a).size()];
    for (int i = 0; i < added.length; i++) {
      added[i] = c1.get(a).get(i).p50us - c1.get(b).get(i).p50us;
    }
    System.out.printf(Locale.ROOT, "| %s | %.2fx | %.2fx | %.2fx | %+.0f us |%n",
        label, rps, p50, p99, median(added));
  }

  private static double medianDifference(List<Result> a, List<Result> b) {
    double[] added = new double[a.size()];
    for (int i = 0; i < added.length; i++) {
      added[i] = a.get(i).p50us - b.get(i).p50us;
    }
    return median(added);
  }

  private static double medianRatio(List<Result> a, List<Result> b,
      java.util.function.ToDoubleFunction<Result> f) {
    double[] ratios = new double[a.size()];
    for (int i = 0; i < ratios.length; i++) {
      ratios[i] = f.applyAsDouble(a.get(i)) / f.applyAsDouble(b.get(i));
    }
    return median(ratios);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private record Result(double rps, double p50us, double p99us) {}

  private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
  private static final Pattern PCT =
      Pattern.compile("^\\s+(50|99)(?:\\.000)?%\\s+([0-9.]+)(us|ms|s)\\s*$", Pattern.MULTILINE);

  private static Result wrk(String url, int connections, int seconds) throws Exception {
    Process p = new ProcessBuilder("wrk", "-t1", "-c" + connections, "-d" + seconds + "s",
        "--latency", url).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("wrk failed on " + url + ":\n" + out);
    }
    if (out.contains("Non-2xx") || out.contains("Socket errors")) {
      throw new IllegalStateException("errors in the " + url + " arm:\n" + out);
    }
    Matcher rps = RPS.matcher(out);
    if (!rps.find()) {
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
    return new Result(Double.parseDouble(rps.group(1)), p50, p99);
  }

  private static void answer1KiB(com.sun.net.httpserver.HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    exchange.sendResponseHeaders(200, BODY.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(BODY);
    }
  }

  /** A 4 KiB stylesheet from memory, cacheable for an hour: what a host serves as static. */
  private static void answerAsset(com.sun.net.httpserver.HttpExchange exchange)
      throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    exchange.getResponseHeaders().set("Content-Type", "text/css");
    exchange.getResponseHeaders().set("Cache-Control", "public, max-age=3600");
    exchange.sendResponseHeaders(200, ASSET.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(ASSET);
    }
  }

  private static String assetUrl(int port) {
    return "http://127.0.0.1:" + port + "/static/asset.css";
  }

  private static HttpServer start(HttpHandler handler, List<AutoCloseable> closers)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    ExecutorService pool = serverThreads();
    server.setExecutor(pool);
    server.createContext("/", handler);
    server.start();
    closers.add(() -> {
      server.stop(0);
      pool.shutdownNow();
    });
    return server;
  }

  /**
   * The servers' handler threads: a fixed pool of platform threads, or, with {@code
   * -Doffload.bench.virtualThreads=true} on JDK 21+, a virtual thread per request (looked up
   * reflectively: this module compiles for Java 17). Every arm gets the same kind.
   */
  private static ExecutorService serverThreads() {
    if (VIRTUAL) {
      try {
        return (ExecutorService) Executors.class
            .getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("virtual threads need JDK 21+", e);
      }
    }
    return Executors.newFixedThreadPool(SERVER_THREADS);
  }

  private static final boolean VIRTUAL = Boolean.getBoolean("offload.bench.virtualThreads");

  private static String url(HttpServer server) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/hello";
  }

  /** A client sized for a proxy: OkHttp's defaults keep only 5 idle connections. */
  private static OkHttpClient proxyClient() {
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(SERVER_THREADS * 4);
    dispatcher.setMaxRequestsPerHost(SERVER_THREADS * 4);
    return new OkHttpClient.Builder()
        .dispatcher(dispatcher)
        // idle connections kept for less than the JDK server keeps them (30 s): the arms run in
        // turn, so the backend may sit idle between two gateway arms for longer than that
        .connectionPool(new ConnectionPool(SERVER_THREADS, Forwarder.DEFAULT_KEEP_ALIVE_SECONDS,
            TimeUnit.SECONDS))
        .build();
  }

  private static Integer startNginx(int backendPort, Path www, List<AutoCloseable> closers)
      throws Exception {
    String nginx = findTool("nginx", "/usr/sbin/nginx");
    if (nginx == null) {
      return null;
    }
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
          upstream backend { server 127.0.0.1:%2$d; keepalive 64; }
          server {
            listen 127.0.0.1:%3$d;
            location /static/ {
              root %4$s;
              add_header Cache-Control "public, max-age=3600";
            }
            location / {
              proxy_pass http://backend;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
            }
          }
        }
        """.formatted(dir, backendPort, port, www);
    Path confFile = dir.resolve("nginx.conf");
    Files.writeString(confFile, conf);
    Process process = new ProcessBuilder(nginx, "-c", confFile.toString(), "-p", dir.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
    closers.add(() -> {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
        probe.setSoTimeout(1); // nginx accepts: it is up
        return port;
      } catch (IOException notYet) {
        if (!process.isAlive()) {
          throw new IllegalStateException("nginx exited: " + Files.readString(dir.resolve("stdout.log")));
        }
        Thread.onSpinWait();
      }
    }
    throw new IllegalStateException("nginx did not start listening on " + port);
  }

  private static void requireTool(String name) {
    if (findTool(name, "/usr/bin/" + name) == null) {
      throw new IllegalStateException(name + " not found: apt-get install " + name);
    }
  }

  private static String findTool(String name, String usual) {
    if (Files.isExecutable(Path.of(usual))) {
      return usual;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }
}
