package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.http.Loopback.RawClient;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients that stop in the middle of a header line must not stop a JDK gateway set up the
 * documented way ({@code JdkServerLimits}): the gateway runs in a forked JVM, since the JDK
 * reads its limits once per JVM and this one has created servers already.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JdkStalledClientsTest {
  /** Twice the gateway's threads: without a request deadline every thread is held. */
  private static final int STALLED = 2 * StalledHeadersGatewayMain.THREADS;
  private final List<RawClient> stalled = new ArrayList<>();
  private Process gateway;
  private int port;
  private boolean reportedSafe;

  @BeforeEach
  void start() throws Exception {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    gateway = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        StalledHeadersGatewayMain.class.getName())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    BufferedReader out = new BufferedReader(new InputStreamReader(gateway.getInputStream(),
        ISO_8859_1));
    String[] line = out.readLine().split(" ");
    port = Integer.parseInt(line[0]);
    reportedSafe = Boolean.parseBoolean(line[1]);
  }

  @AfterEach
  void stop() throws Exception {
    for (RawClient client : stalled) {
      client.close();
    }
    if (gateway != null) {
      gateway.getOutputStream().close();
      if (!gateway.waitFor(10, TimeUnit.SECONDS)) {
        gateway.destroyForcibly();
      }
    }
  }

  @Test
  void stalledHeaderLinesAreClosedAndAFreshClientIsAnswered() throws Exception {
    assertThat(reportedSafe).as("JdkServerLimits.unsafeSettings() in the gateway").isTrue();
    for (int i = 0; i < STALLED; i++) {
      RawClient client = new RawClient(port);
      client.send("GET / HTTP/1.1\r\nHost: gw\r\nX-A: "); // and nothing more
      stalled.add(client);
    }
    // Every stalled connection is closed by the request deadline. (A request that waits for a
    // thread is on the JDK's clock too: one queued behind the stalled ones may be closed with
    // them, so the fresh client comes once they are gone.)
    for (RawClient client : stalled) {
      client.socket.setSoTimeout(8_000);
      assertThat(client.closedByServer()).as("a stalled connection was closed").isTrue();
    }
    CompletableFuture<Integer> fresh = CompletableFuture.supplyAsync(() -> {
      try (RawClient client = new RawClient(port)) {
        return client.send("GET / HTTP/1.1\r\nHost: gw\r\n\r\n").read().status();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    assertThat(fresh.get(5, TimeUnit.SECONDS)).isEqualTo(200);
  }
}
