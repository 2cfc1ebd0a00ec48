package dev.offload.examples.demo;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One JDK {@code HttpServer} of the demo on {@code 127.0.0.1} with a bounded pool of threads,
 * counting the exchanges it was handed (in flight now, the peak) and draining them on close. The
 * JDK server also hands over a connection that the client closed while idle (its exchange ends
 * at once without a request), so a count of requests belongs in the handler.
 */
final class DemoServer implements AutoCloseable {
  private final String name;
  private final HttpServer server;
  private final ThreadPoolExecutor threads;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger peakInFlight = new AtomicInteger();

  private DemoServer(String name, int port, int threads, HttpHandler handler) throws IOException {
    this.name = name;
    // a bounded queue: beyond it the server drops the connection, as a service at capacity does
    this.threads = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(1024), DemoThreads.named(name));
    try {
      this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 128);
    } catch (BindException e) {
      this.threads.shutdown();
      BindException named = new BindException(
          name + " cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
      named.initCause(e);
      throw named;
    }
    // in flight from the moment the server hands an exchange over (queued or served) until done
    Executor counting = task -> {
      peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      try {
        this.threads.execute(() -> {
          try {
            task.run();
          } finally {
            inFlight.decrementAndGet();
          }
        });
      } catch (RuntimeException e) {
        inFlight.decrementAndGet();
        throw e;
      }
    };
    server.setExecutor(counting);
    server.createContext("/", handler);
  }

  /** Binds {@code 127.0.0.1:port} (0: a free port) and starts serving with {@code threads}. */
  static DemoServer start(String name, int port, int threads, HttpHandler handler)
      throws IOException {
    DemoServer server = new DemoServer(name, port, threads, handler);
    server.server.start();
    return server;
  }

  String name() {
    return name;
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  int port() {
    return server.getAddress().getPort();
  }

  int threads() {
    return threads.getMaximumPoolSize();
  }

  int inFlight() {
    return inFlight.get();
  }

  int peakInFlight() {
    return peakInFlight.get();
  }

  void resetCounts() {
    peakInFlight.set(inFlight.get());
  }

  /**
   * Stops accepting and lets the exchanges in flight finish, waiting at most {@code max}.
   * (The JDK 17 server's {@code stop(delay)} returns when its last exchange ends, but waits the
   * whole delay when there is none, so the delay is given only when something is in flight.)
   */
  void drain(Duration max) {
    server.stop(inFlight.get() == 0 ? 0 : (int) Math.max(1, max.toSeconds()));
    threads.shutdown();
    try {
      if (!threads.awaitTermination(max.toMillis(), TimeUnit.MILLISECONDS)) {
        threads.shutdownNow();
      }
    } catch (InterruptedException e) {
      threads.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    drain(Duration.ofSeconds(10));
  }
}
