package dev.offload.examples.demo;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A demo backend service ({@code orders}, {@code orders-replica}) on loopback, with a small fixed
 * capacity: a bounded pool of workers, each request taking a fixed service time. It counts what
 * it sees itself (requests received, in flight now, the peak), so the demo can show what reached
 * it independently of the gateway's own figures.
 *
 * <p>Answers: {@code GET /api/echo} with JSON holding the method, path, query and every header
 * received (what a backend sees behind the gateway); {@code /api/orders...} with a small order
 * document; anything else with a JSON note naming the service (with offloading off, the demo
 * sends everything here, as if the backend served the static files and resized images itself).
 * Thread-safe; {@link #close()} drains in-flight requests.
 */
public final class DemoBackend implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Duration serviceTime;
  private final DemoServer server;
  private final AtomicLong received = new AtomicLong();

  private DemoBackend(String name, int port, int workers, Duration serviceTime)
      throws IOException {
    this.serviceTime = serviceTime;
    this.server = DemoServer.start(name, port, workers, this::handle);
  }

  /**
   * Starts a backend on {@code 127.0.0.1:port} ({@code 0}: a free port).
   *
   * @param name the service name, in its answers and thread names
   * @param port the port, or 0 for a free one
   * @param workers how many requests it serves at once (its capacity)
   * @param serviceTime how long each request takes to serve
   * @return the started backend
   * @throws IOException if the port cannot be bound
   * @throws IllegalArgumentException if {@code workers} is not positive or {@code serviceTime}
   *     is negative
   */
  public static DemoBackend start(String name, int port, int workers, Duration serviceTime)
      throws IOException {
    requireNonNull(name, "name");
    requireNonNull(serviceTime, "serviceTime");
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be positive, was " + workers);
    }
    if (serviceTime.isNegative()) {
      throw new IllegalArgumentException("serviceTime must not be negative, was " + serviceTime);
    }
    return new DemoBackend(name, port, workers, serviceTime);
  }

  /**
   * Returns the service's name.
   *
   * @return the name given at start
   */
  public String name() {
    return server.name();
  }

  /**
   * Returns the base URI the backend listens on.
   *
   * @return {@code http://127.0.0.1:port}
   */
  public URI uri() {
    return server.uri();
  }

  /**
   * Returns the requests received so far (each counted when its handler starts).
   *
   * @return the count since start or the last {@link #resetCounts()}
   */
  public long received() {
    return received.get();
  }

  /**
   * Returns the requests queued or being served now.
   *
   * @return the in-flight count
   */
  public int inFlight() {
    return server.inFlight();
  }

  /**
   * Returns the most requests that were in flight at once.
   *
   * @return the peak since start or the last {@link #resetCounts()}
   */
  public int peakInFlight() {
    return server.peakInFlight();
  }

  /** Resets the received count and the peak in flight (the peak restarts from now's count). */
  public void resetCounts() {
    received.set(0);
    server.resetCounts();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange; InputStream body = exchange.getRequestBody()) {
      received.incrementAndGet();
      body.transferTo(OutputStream.nullOutputStream());
      serve();
      URI uri = exchange.getRequestURI();
      String path = uri.getRawPath();
      ObjectNode answer = JSON.createObjectNode();
      int status = 200;
      if (path.equals("/api/echo")) {
        answer.put("method", exchange.getRequestMethod());
        answer.put("path", path);
        answer.put("query", uri.getRawQuery());
        ObjectNode headers = answer.putObject("headers");
        Map<String, List<String>> sorted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        sorted.putAll(exchange.getRequestHeaders());
        sorted.forEach((field, values) -> {
          ArrayNode list = headers.putArray(field.toLowerCase(Locale.ROOT));
          values.forEach(list::add);
        });
      } else if (path.startsWith("/api/orders")) {
        boolean create = exchange.getRequestMethod().equals("POST");
        status = create ? 201 : 200;
        answer.put("order", create ? "created" : path.substring("/api/orders".length()));
        answer.put("status", "confirmed");
      } else {
        answer.put("note", "served by the backend itself");
        answer.put("path", path);
      }
      answer.put("servedBy", server.name());
      byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(answer);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      exchange.sendResponseHeaders(status, bytes.length);
      exchange.getResponseBody().write(bytes);
    }
  }

  /** The fixed service time: this backend's work, done on one of its few workers. */
  private void serve() {
    if (serviceTime.isZero()) {
      return;
    }
    try {
      Thread.sleep(serviceTime.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops accepting and lets the requests in flight finish (at most 10 s). */
  @Override
  public void close() {
    server.close();
  }

  @Override
  public String toString() {
    return server.name() + " " + uri() + " (" + server.threads() + " workers, "
        + serviceTime.toMillis() + " ms each)";
  }
}
