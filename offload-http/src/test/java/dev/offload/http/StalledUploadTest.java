package dev.offload.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * A client that announces a body and then holds it back (or trickles it) must not hold a
 * gateway thread and a backend connection forever: the forwarder's body deadlines end it, on
 * both servers.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class StalledUploadTest {
  private static final Duration IDLE = Duration.ofSeconds(1);
  private static final Duration TOTAL = Duration.ofSeconds(2);
  /** Well past both deadlines, well under the raw client's own read timeout. */
  private static final int WITHIN_MS = 6_000;

  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  /** Counted down when the backend saw its connection from the gateway end (EOF or reset). */
  private final CountDownLatch backendReleased = new CountDownLatch(1);
  private Backend backend;


  private Gateway.Running gateway() throws Exception {
    ServerSocket raw = new ServerSocket(0, 50, Loopback.LOCALHOST);
    closer.add(raw);
    Thread acceptor = new Thread(() -> {
      try (Socket socket = raw.accept()) {
        socket.setSoTimeout(Loopback.TIMEOUT_MS);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[1024];
        for (int i = 0; i < 1_000_000 && in.read(buffer) >= 0; i++) {
          // the head and the body, as much as the gateway sends
        }
        backendReleased.countDown();
      } catch (SocketTimeoutException e) {
        // the gateway kept the connection open: the latch stays up and the test fails
      } catch (IOException e) {
        backendReleased.countDown(); // reset by the gateway, or the test ended
      }
    });
    acceptor.setDaemon(true);
    acceptor.start();
    backend = Backend.of("b", URI.create("http://127.0.0.1:" + raw.getLocalPort()));
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(backend)).build();
    OffloadExecutor executor = OffloadExecutor.builder(router)
        .forwarding(f -> f.requestBodyIdleTimeout(IDLE).requestBodyTimeout(TOTAL))
        .meterRegistry(registry)
        .build();
    Gateway.Running gw = server.start(executor, Gateway.Host.answering("host"));
    closer.add(gw);
    return gw;
  }

  private double timedOut() {
    var timer = registry.find("offload.forward.requests").tag("outcome", "client_timeout").timer();
    return timer == null ? 0 : timer.count();
  }

  /**
   * A 408 then the close; on the JDK server, where the watchdog's interrupt closes the
   * connection, no response at all may come before the close.
   */
  private void assertAnswered408OrClosed(RawClient client) throws IOException {
    Response response;
    try {
      response = client.readOrClosed();
    } catch (java.io.EOFException e) {
      response = null;
    }
    if (server == Gateway.JETTY) {
      assertThat(response).as("Jetty keeps the connection open for the 408").isNotNull();
    }
    if (response != null) {
      assertThat(response.status()).isEqualTo(408);
      assertThat(client.closedByServer()).isTrue();
    }
  }

  @Test
  void aStalledUploadIsEndedWithinTheIdleTimeoutAndTheBackendConnectionReleased()
      throws Exception {
    Gateway.Running gw = gateway();
    try (RawClient client = new RawClient(gw.port())) {
      client.socket.setSoTimeout(WITHIN_MS);
      client.send("POST /api/upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000\r\n\r\n"
          + "0123456789"); // 10 of 1000 octets, then nothing
      assertAnswered408OrClosed(client);
      assertThat(backendReleased.await(WITHIN_MS, TimeUnit.MILLISECONDS))
          .as("the backend's connection was closed, not left waiting for the body").isTrue();
    }
    gw.awaitHandled(1);
    assertThat(BackendLoad.of(backend).inFlight()).isZero();
    assertThat(timedOut()).isEqualTo(1);
  }

  @Test
  void aTrickledUploadIsEndedAtTheOverallTimeout() throws Exception {
    Gateway.Running gw = gateway();
    ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
    closer.add(trickle::shutdownNow);
    try (RawClient client = new RawClient(gw.port())) {
      client.socket.setSoTimeout(WITHIN_MS);
      client.send("POST /api/upload HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n");
      // one octet every 200 ms: never idle for 1 s, and 60 of them would take 12 s
      for (int i = 1; i <= 60; i++) {
        trickle.schedule(() -> {
          try {
            client.send("1\r\nx\r\n");
          } catch (IOException e) {
            // the gateway closed the connection
          }
        }, 200L * i, TimeUnit.MILLISECONDS);
      }
      long start = System.nanoTime();
      assertAnswered408OrClosed(client);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("ended by the overall timeout, not by the idle one")
          .isGreaterThanOrEqualTo(TOTAL.minusMillis(300));
      assertThat(backendReleased.await(WITHIN_MS, TimeUnit.MILLISECONDS)).isTrue();
    }
    gw.awaitHandled(1);
    assertThat(BackendLoad.of(backend).inFlight()).isZero();
    assertThat(timedOut()).isEqualTo(1);
  }
}
