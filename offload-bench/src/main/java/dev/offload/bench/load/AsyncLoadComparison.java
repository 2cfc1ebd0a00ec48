package dev.offload.bench.load;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.async.TaskPool;
import dev.offload.core.async.TaskResult;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.async.TaskEndpoint;
import dev.offload.http.jdk.OffloadHttpHandler;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import org.HdrHistogram.Recorder;

/**
 * Cheap requests next to CPU-heavy ones on one server, under the same offered load, in two arms:
 * the heavy work (resize a 2-megapixel PNG to 320x240) <b>inline</b> on the server's request
 * threads, or <b>offloaded</b> to a 1-worker {@link TaskPool} (202 + status URL; 503 when its
 * queue of 4 is full). Cheap requests are sent at a fixed rate and their latency is measured from
 * when each was due (no coordinated omission), into an HdrHistogram. Arms alternate for several
 * rounds; the result is each round's p99 ratio and their median.
 *
 * <pre>
 * java -Djava.awt.headless=true -cp offload-bench/target/benchmarks.jar \
 *     dev.offload.bench.load.AsyncLoadComparison [seconds] [rounds] [heavy load in cores]
 * </pre>
 */
public final class AsyncLoadComparison {
  private static final int REQUEST_THREADS = 4;
  private static final int CHEAP_PER_SECOND = 100;
  private static final byte[] OK = "ok".getBytes(StandardCharsets.US_ASCII);

  private AsyncLoadComparison() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    double cores = args.length > 2 ? Double.parseDouble(args[2]) : 2;
    ImageIO.setUseCache(false); // decode from memory, not through a temporary file
    byte[] image = png(1600, 1250);
    long resizeNanos = timeResize(image);
    // by default twice what one core resizes: more than the 1-worker pool can take
    double heavyPerSecond = cores * 1e9 / resizeNanos;
    System.out.printf(Locale.ROOT, "2 MP PNG %d KiB, one resize %.1f ms; offering %.1f heavy/s"
        + " and %d cheap/s for %d s per arm, %d rounds%n", image.length / 1024,
        resizeNanos / 1e6, heavyPerSecond, CHEAP_PER_SECOND, seconds, rounds);
    double[] ratios = new double[rounds];
    for (int round = 0; round < rounds; round++) {
      Result inline = run(false, image, heavyPerSecond, seconds);
      Result offloaded = run(true, image, heavyPerSecond, seconds);
      ratios[round] = inline.p99Ms / offloaded.p99Ms;
      System.out.printf(Locale.ROOT, "round %d: inline %s | offloaded %s | p99 ratio %.1fx%n",
          round + 1, inline, offloaded, ratios[round]);
    }
    java.util.Arrays.sort(ratios);
    System.out.printf(Locale.ROOT, "median cheap-request p99 ratio inline/offloaded: %.1fx%n",
        ratios[rounds / 2]);
    System.exit(0); // the HttpClient's selector thread is not a daemon
  }

  record Result(double p50Ms, double p99Ms, long cheap, Map<Integer, Long> heavyStatuses) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "cheap p50 %.1f ms p99 %.1f ms (n=%d), heavy %s", p50Ms,
          p99Ms, cheap, heavyStatuses);
    }
  }

  private static Result run(boolean offload, byte[] image, double heavyPerSecond, int seconds)
      throws Exception {
    HttpHandler host = exchange -> {
      byte[] body = exchange.getRequestURI().getPath().equals("/resize")
          ? resize(exchange.getRequestBody().readAllBytes()) : OK;
      exchange.getRequestBody().close();
      respond(exchange, 200, body);
    };
    TaskPool pool = TaskPool.builder("resize").workers(1).queueCapacity(4)
        .task(request -> TaskResult.of(200, "image/png", resize(request.body())))
        .build();
    TaskEndpoint tasks = TaskEndpoint.builder().pool(pool).build();
    OffloadRouter.Builder routes = OffloadRouter.builder();
    if (offload) {
      routes.route(Route.post("/resize"), AsyncTaskStrategy.to(pool))
          .route(tasks.statusRoute(), AsyncTaskStrategy.statusEndpoint());
    }
    OffloadRouter router = routes.otherwise(dev.offload.core.OffloadStrategy.passThrough())
        .build();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 256);
    ExecutorService requestThreads = Executors.newFixedThreadPool(REQUEST_THREADS);
    server.setExecutor(requestThreads);
    server.createContext("/", OffloadHttpHandler.wrap(
        OffloadExecutor.builder(router).offloadHandler(tasks).build(), host));
    server.start();
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    ExecutorService clientThreads = Executors.newFixedThreadPool(4);
    HttpClient client = HttpClient.newBuilder().executor(clientThreads)
        .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    ScheduledExecutorService clock = Executors.newScheduledThreadPool(2);
    Recorder cheap = new Recorder(3);
    AtomicLong cheapCount = new AtomicLong();
    Map<Integer, Long> heavy = new ConcurrentHashMap<>();
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    long warm = start + TimeUnit.SECONDS.toNanos(Math.max(1, seconds / 5));
    long cheapPeriod = 1_000_000_000L / CHEAP_PER_SECOND;
    long heavyPeriod = (long) (1e9 / heavyPerSecond);
    clock.scheduleAtFixedRate(() -> {
      long due = System.nanoTime();
      if (due > end) {
        return;
      }
      client.sendAsync(HttpRequest.newBuilder(base.resolve("/cheap")).GET().build(),
          HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
            long now = System.nanoTime();
            if (due >= warm && now <= end + TimeUnit.SECONDS.toNanos(60)) {
              cheap.recordValue(Math.max(1, (now - due) / 1000)); // micros
              cheapCount.incrementAndGet();
            }
          });
    }, 0, cheapPeriod, TimeUnit.NANOSECONDS);
    clock.scheduleAtFixedRate(() -> {
      if (System.nanoTime() > end) {
        return;
      }
      client.sendAsync(HttpRequest.newBuilder(base.resolve("/resize"))
              .POST(HttpRequest.BodyPublishers.ofByteArray(image)).build(),
          HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) ->
              heavy.merge(r == null ? -1 : r.statusCode(), 1L, Long::sum));
    }, heavyPeriod / 2, heavyPeriod, TimeUnit.NANOSECONDS);
    // wait for the run, then a bounded while for the cheap requests still queued behind heavy
    // ones (the inline arm's backlog): late answers are counted with their full latency
    clock.awaitTermination(seconds, TimeUnit.SECONDS);
    clock.shutdownNow();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    long expected = (long) ((seconds - Math.max(1, seconds / 5)) * (double) CHEAP_PER_SECOND);
    while (cheapCount.get() < expected - 2 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      Thread.yield();
    }
    var histogram = cheap.getIntervalHistogram();
    server.stop(0);
    requestThreads.shutdownNow();
    pool.shutdown(Duration.ZERO);
    clientThreads.shutdownNow();
    return new Result(histogram.getValueAtPercentile(50) / 1000.0,
        histogram.getValueAtPercentile(99) / 1000.0, histogram.getTotalCount(), Map.copyOf(heavy));
  }

  private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private static long timeResize(byte[] image) throws IOException {
    for (int i = 0; i < 5; i++) {
      resize(image);
    }
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      long t = System.nanoTime();
      resize(image);
      best = Math.min(best, System.nanoTime() - t);
    }
    return best;
  }

  /** Decodes a PNG, scales it to 320x240 (bilinear) and encodes it again. */
  static byte[] resize(byte[] png) throws IOException {
    BufferedImage source = ImageIO.read(new ByteArrayInputStream(png));
    BufferedImage thumb = new BufferedImage(320, 240, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = thumb.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION,
          RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(source, 0, 0, 320, 240, null);
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(thumb, "png", out);
    return out.toByteArray();
  }

  private static byte[] png(int width, int height) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    java.util.Random random = new java.util.Random(42);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, ((x * 255 / width) << 16) | ((y * 255 / height) << 8)
            | random.nextInt(64));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }
}
