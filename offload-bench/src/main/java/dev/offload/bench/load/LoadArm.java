package dev.offload.bench.load;

import com.sun.net.httpserver.HttpExchange;
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
import dev.offload.http.servlet.OffloadFilter;
import dev.offload.netty.OffloadServer;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * One arm of {@link LoadComparison}, served by a JVM of its own so that the CPU time of that
 * process is the arm's CPU time: starts the arm's server on 127.0.0.1, prints {@code port=N},
 * and runs until its standard input closes (the driver closes it, or dies).
 *
 * <pre>
 * java -cp benchmarks.jar dev.offload.bench.load.LoadArm ARM BACKEND_URL
 * </pre>
 *
 * <p>Every JDK-server and Jetty arm gets the same {@value #SERVER_THREADS} request threads, and
 * every OkHttp arm the same client sizing, so that offload and the minimal proxies differ only
 * in what they do per request.
 */
public final class LoadArm {
  /** Request threads of the JDK-server and Jetty arms, and the base of the OkHttp pool size. */
  static final int SERVER_THREADS = 64;
  private static final byte[] BODY = "x".repeat(1024).getBytes(StandardCharsets.US_ASCII);
  static final byte[] ASSET = ("body{margin:0}\n" + "p{color:#333}\n".repeat(300))
      .substring(0, 4096).getBytes(StandardCharsets.US_ASCII);
  private static final boolean VIRTUAL = Boolean.getBoolean("offload.bench.virtualThreads");
  /** Event loops of the Netty gateway and the minimal Netty proxy alike; 0: Netty's default. */
  private static final int EVENT_LOOPS = Integer.getInteger("offload.bench.eventLoops", 0);

  private LoadArm() {}

  /**
   * Starts one arm.
   *
   * @param args the arm's name and the backend's base URL
   * @throws Exception when the arm cannot start
   */
  public static void main(String[] args) throws Exception {
    // Without TCP_NODELAY the JDK server's separate header and body writes meet the client's
    // delayed ACK and every response waits ~40 ms: measure the server, not Nagle.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    String arm = args[0];
    URI backend = URI.create(args[1]);
    int port = start(arm, backend);
    System.out.println("port=" + port);
    System.out.flush();
    // until the driver lets go: each line it sends asks for the bytes allocated so far
    BufferedReader in = new BufferedReader(
        new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    while (in.readLine() != null) {
      System.out.println("allocated=" + allocatedBytes());
      System.out.flush();
    }
    System.exit(0);
  }

  /**
   * Bytes allocated so far by the live threads (HotSpot's per-thread counters); threads that
   * ended are not counted, so this is exact only while the arm's pools keep their threads.
   */
  private static long allocatedBytes() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long total = 0;
    for (long bytes : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
      total += Math.max(0, bytes);
    }
    return total;
  }

  private static int start(String arm, URI backendUri) throws Exception {
    Backend backend = Backend.of("backend", backendUri);
    OffloadRouter forwarding = OffloadRouter.builder()
        .route("all", Route.any(), FailoverStrategy.to(backend))
        .build();
    // a host's router in which nothing matches /hello: every request passes through
    OffloadRouter passThrough = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(backend))
        .route("static", Route.get("/static/**"),
            CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
        .build();
    OkHttpClient client = proxyClient();
    switch (arm) {
      case "jdk gateway":
        return jdk(OffloadHttpHandler.wrap(OffloadExecutor.builder(forwarding)
            .forwarding(f -> f.okHttpClient(client)).build(), LoadArm::answer1KiB));
      case "minimal jdk+okhttp":
        return jdk(new MinimalProxy(client, backendUri.toString()));
      case "jetty gateway":
        return jetty(new OffloadFilter(OffloadExecutor.builder(forwarding)
            .forwarding(f -> f.okHttpClient(client)).build()));
      case "netty gateway":
        return OffloadServer.builder(OffloadExecutor.builder(forwarding)
            .forwarding(f -> f.okHttpClient(client)).build())
            .eventLoops(EVENT_LOOPS).port(0).start().port();
      case "minimal netty":
        return MinimalNettyProxy.start(backendUri, EVENT_LOOPS);
      case "host":
        return jdk(LoadArm::answer1KiB);
      case "host+offload":
        return jdk(OffloadHttpHandler.wrap(passThrough, LoadArm::answer1KiB));
      case "netty host":
        return NettyHost.start(null);
      case "netty host+offload":
        return NettyHost.start(OffloadExecutor.of(passThrough));
      case "asset host":
        return jdk(LoadArm::answerAsset);
      case "asset edge": {
        // the first request fills the cache from the handler, every later one is a hit
        EdgeCache cache = EdgeCache.builder().maximumBytes(16 << 20).build();
        OffloadRouter edge = OffloadRouter.builder()
            .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(cache))
            .build();
        return jdk(OffloadHttpHandler.wrap(edge, LoadArm::answerAsset));
      }
      default:
        throw new IllegalArgumentException("unknown arm: " + arm);
    }
  }

  private static int jdk(HttpHandler handler) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    server.setExecutor(serverThreads());
    server.createContext("/", handler);
    server.start();
    return server.getAddress().getPort();
  }

  /** Embedded Jetty 12 (ee10), the filter in front of a servlet that answers 404. */
  private static int jetty(OffloadFilter filter) throws Exception {
    Server server = new Server(new QueuedThreadPool(SERVER_THREADS, 8));
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    connector.setAcceptQueueSize(1024);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    context.addFilter(new FilterHolder(filter), "/*", EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new NotFound()), "/");
    server.setHandler(context);
    server.start();
    return connector.getLocalPort();
  }

  /** What the Jetty gateway passes through (nothing, with its route for every request). */
  private static final class NotFound extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      response.sendError(404);
    }
  }

  /**
   * The JDK servers' handler threads: a fixed pool of platform threads, or, with {@code
   * -Doffload.bench.virtualThreads=true} on JDK 21+, a virtual thread per request (looked up
   * reflectively: this module compiles for Java 17).
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

  /** A client sized for a proxy: OkHttp's defaults keep only 5 idle connections. */
  static OkHttpClient proxyClient() {
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(SERVER_THREADS * 4);
    dispatcher.setMaxRequestsPerHost(SERVER_THREADS * 4);
    return new OkHttpClient.Builder()
        .dispatcher(dispatcher)
        .connectionPool(new ConnectionPool(SERVER_THREADS, Forwarder.DEFAULT_KEEP_ALIVE_SECONDS,
            TimeUnit.SECONDS))
        .build();
  }

  private static void answer1KiB(HttpExchange exchange) throws IOException {
    answer(exchange, "text/plain", null, BODY);
  }

  /** A 4 KiB stylesheet from memory, cacheable for an hour: what a host serves as static. */
  private static void answerAsset(HttpExchange exchange) throws IOException {
    answer(exchange, "text/css", "public, max-age=3600", ASSET);
  }

  private static void answer(HttpExchange exchange, String type, String cacheControl,
      byte[] body) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    exchange.getResponseHeaders().set("Content-Type", type);
    if (cacheControl != null) {
      exchange.getResponseHeaders().set("Cache-Control", cacheControl);
    }
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
