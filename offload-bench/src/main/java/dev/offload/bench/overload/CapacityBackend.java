package dev.offload.bench.overload;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A backend on 127.0.0.1 with a known capacity: {@code workers} requests are served at a time,
 * each for {@code serviceTime} (waiting, as a backend waiting on its database does), so its
 * capacity is C = workers / serviceTime requests per second. At most {@code queue} more wait for
 * a worker, in arrival order; beyond that it answers 503 at once. Every answer names the backend
 * in {@code X-Served-By}. {@link #kill()} stops it: connections are closed and refused from then.
 */
public final class CapacityBackend implements AutoCloseable {
  /** The response header naming the backend that served a request. */
  public static final String SERVED_BY = "X-Served-By";

  private final String name;
  private final int workers;
  private final long serviceNanos;
  private final int queue;
  private final Semaphore workerSlots;
  private final AtomicInteger admitted = new AtomicInteger();
  private final HttpServer server;
  private final ExecutorService threads;
  private final byte[] body;

  /**
   * Starts a backend.
   *
   * @param name what it answers in {@link #SERVED_BY}
   * @param workers how many requests it serves at a time
   * @param serviceTime how long each takes
   * @param queue how many more may wait for a worker
   * @throws IOException if it cannot listen
   * @throws IllegalArgumentException if workers is not positive, the service time not positive
   *     or the queue negative
   */
  public CapacityBackend(String name, int workers, Duration serviceTime, int queue)
      throws IOException {
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be positive: " + workers);
    }
    if (serviceTime.isZero() || serviceTime.isNegative()) {
      throw new IllegalArgumentException("service time must be positive: " + serviceTime);
    }
    if (queue < 0) {
      throw new IllegalArgumentException("queue must not be negative: " + queue);
    }
    this.name = name;
    this.workers = workers;
    this.serviceNanos = serviceTime.toNanos();
    this.queue = queue;
    this.workerSlots = new Semaphore(workers, true);
    this.body = ("served by " + name + "\n").getBytes(StandardCharsets.US_ASCII);
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    // enough threads for every admitted request plus the refusals being written: the capacity is
    // the semaphore's, not the thread pool's
    this.threads = Executors.newFixedThreadPool(workers + queue + 32);
    server.setExecutor(threads);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Returns the capacity, requests per second. */
  public double capacity() {
    return workers * 1e9 / serviceNanos;
  }

  /** Returns its base URI. */
  public URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    exchange.getResponseHeaders().set(SERVED_BY, name);
    if (admitted.incrementAndGet() > workers + queue) {
      admitted.decrementAndGet();
      exchange.getResponseHeaders().set("Retry-After", "1");
      exchange.sendResponseHeaders(503, -1);
      exchange.close();
      return;
    }
    try {
      workerSlots.acquireUninterruptibly();
      try {
        long end = System.nanoTime() + serviceNanos;
        for (long left = serviceNanos; left > 0; left = end - System.nanoTime()) {
          LockSupport.parkNanos(left);
        }
      } finally {
        workerSlots.release();
      }
    } finally {
      admitted.decrementAndGet();
    }
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  /** Stops listening and closes every connection at once, as a crashed process would. */
  public void kill() {
    server.stop(0);
    threads.shutdownNow();
  }

  @Override
  public void close() {
    kill();
  }
}
