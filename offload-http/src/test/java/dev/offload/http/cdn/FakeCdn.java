package dev.offload.http.cdn;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A CDN purge API on loopback: records every request it gets, answers the first {@code
 * failures} of them with {@code failureStatus}, then 200.
 */
final class FakeCdn implements AutoCloseable {
  /** One request as received. */
  record Purge(String method, String path, String contentType, String auth, String body) {}

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final BlockingQueue<Purge> received = new LinkedBlockingQueue<>();
  private final AtomicInteger remainingFailures;
  private final int failureStatus;
  private final String failureBody;

  FakeCdn(int failures, int failureStatus, String failureBody) throws IOException {
    this.remainingFailures = new AtomicInteger(failures);
    this.failureStatus = failureStatus;
    this.failureBody = failureBody;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      received.add(new Purge(ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
          ex.getRequestHeaders().getFirst("Content-Type"),
          ex.getRequestHeaders().getFirst("X-Purge-Key"), new String(body, UTF_8)));
      boolean fail = remainingFailures.getAndDecrement() > 0;
      byte[] answer = (fail ? failureBody : "{\"status\":\"ok\"}").getBytes(UTF_8);
      ex.sendResponseHeaders(fail ? failureStatus : 200, answer.length == 0 ? -1 : answer.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(answer);
      }
    });
    server.setExecutor(threads);
    server.start();
  }

  static FakeCdn healthy() throws IOException {
    return new FakeCdn(0, 200, "");
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/");
  }

  Purge take() throws InterruptedException {
    Purge purge = received.poll(10, TimeUnit.SECONDS);
    if (purge == null) {
      throw new AssertionError("the CDN received no purge");
    }
    return purge;
  }

  int receivedCount() {
    return received.size();
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
