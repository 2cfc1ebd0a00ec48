package dev.offload.redis;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} for a test: on a free loopback port, in its own temporary
 * directory, stopped by {@link #close}. Tests that need Redis call {@link #start}: when no
 * {@code redis-server} can be started they are skipped with the reason, unless the environment
 * variable {@code OFFLOAD_REQUIRE_REDIS} is set (CI sets it), and then they fail.
 */
public final class RedisServer implements AutoCloseable {
  private static final String BINARY = System.getenv().getOrDefault("REDIS_SERVER", "redis-server");
  private static final long START_TIMEOUT_SECONDS = 30;

  private final Path dir;
  private final boolean appendOnly;
  private final int port;
  private Process process;

  private RedisServer(Path dir, boolean appendOnly, int port) {
    this.dir = dir;
    this.appendOnly = appendOnly;
    this.port = port;
  }

  /**
   * Starts a server without persistence.
   *
   * @return the running server
   */
  public static RedisServer start() {
    return start(false);
  }

  /**
   * Starts a server; with {@code appendOnly}, every write is in the AOF (fsync always) before it
   * is acknowledged, so {@link #restart} loses nothing that was acknowledged.
   *
   * @param appendOnly whether writes are persisted to the append-only file
   * @return the running server
   */
  public static RedisServer start(boolean appendOnly) {
    String failure;
    try {
      Path dir = Files.createTempDirectory("offload-redis");
      IOException last = null;
      for (int attempt = 0; attempt < 3; attempt++) {
        RedisServer server = new RedisServer(dir, appendOnly, freePort());
        try {
          server.launch();
          return server;
        } catch (IOException e) {
          last = e; // most likely the port was taken between choosing and binding it: again
        }
      }
      failure = last.getMessage();
    } catch (IOException e) {
      failure = e.toString();
    }
    String message = "redis-server could not start (" + failure + "); install it with"
        + " `apt-get install redis-server` to run the Redis tests";
    if (System.getenv("OFFLOAD_REQUIRE_REDIS") != null) {
      throw new IllegalStateException(message + " (OFFLOAD_REQUIRE_REDIS is set: not skipping)");
    }
    assumeTrue(false, message);
    throw new AssertionError("unreachable");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private void launch() throws IOException {
    List<String> command = new ArrayList<>(List.of(BINARY,
        "--port", Integer.toString(port), "--bind", "127.0.0.1", "--dir", dir.toString(),
        "--save", "", "--protected-mode", "yes", "--logfile", "", "--daemonize", "no"));
    if (appendOnly) {
      command.addAll(List.of("--appendonly", "yes", "--appendfsync", "always"));
    }
    Process started;
    try {
      started = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException(BINARY + " not runnable: " + e.getMessage(), e);
    }
    CompletableFuture<Void> ready = new CompletableFuture<>();
    StringBuilder log = new StringBuilder();
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(
          new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = lines.readLine()) != null; ) {
          if (!ready.isDone()) {
            log.append(line).append('\n');
            if (line.contains("Ready to accept connections")) {
              ready.complete(null);
            }
          }
        }
        ready.completeExceptionally(new IOException("redis-server exited:\n" + log));
      } catch (IOException e) {
        ready.completeExceptionally(e);
      }
    }, "redis-server-" + port + "-log");
    reader.setDaemon(true);
    reader.start();
    try {
      ready.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      started.destroyForcibly();
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (TimeoutException e) {
      started.destroyForcibly();
      throw new IOException("redis-server not ready in " + START_TIMEOUT_SECONDS + " s:\n" + log);
    } catch (InterruptedException e) {
      started.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting redis-server", e);
    }
    process = started;
  }

  /**
   * Returns the server's port on 127.0.0.1.
   *
   * @return the port
   */
  public int port() {
    return port;
  }

  /**
   * Returns the URI to give Lettuce.
   *
   * @return {@code redis://127.0.0.1:port}
   */
  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Kills the server at once (SIGKILL): what a crash looks like to its clients. */
  public void kill() {
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      waitFor(p);
      process = null;
    }
  }

  /** Starts the server again on the same port and directory (after {@link #kill}). */
  public void restart() {
    kill();
    try {
      launch();
    } catch (IOException e) {
      throw new UncheckedIOException("redis-server did not restart on port " + port, e);
    }
  }

  private static void waitFor(Process p) {
    try {
      if (!p.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException("redis-server did not exit");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping redis-server", e);
    }
  }

  @Override
  public void close() {
    kill();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
