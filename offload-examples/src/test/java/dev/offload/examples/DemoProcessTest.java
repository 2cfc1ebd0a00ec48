package dev.offload.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo as a user runs it: its own JVM, a {@code ready} line, SIGTERM, a drained exit. */
class DemoProcessTest {
  private static final Pattern READY = Pattern.compile("ready: (http://127\\.0\\.0\\.1:\\d+)");

  @TempDir
  Path dir;

  @Test
  void printsReadyOnceItAcceptsAnswersAndStopsCleanlyOnSigterm() throws Exception {
    // output to a file, not a pipe: when a child exits, the JDK's process reaper takes over
    // its pipe and a concurrent reader can lose the last lines (here, the shutdown hook's)
    Path output = dir.resolve("demo.out");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process demo = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Demo.class.getName(), "--port", "0")
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      URI gateway = URI.create(awaitReady(output, Duration.ofSeconds(30)));
      HttpResponse<String> hello = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(gateway.resolve("/hello")).timeout(Duration.ofSeconds(10))
              .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(hello.body()).isEqualTo("hello from the host application\n");

      demo.destroy(); // SIGTERM

      assertThat(demo.waitFor(20, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
      String out = Files.readString(output, StandardCharsets.UTF_8);
      assertThat(out)
          .contains("demo CDN       http://127.0.0.1:")
          .contains("stopping: draining requests in flight\nstopped\n");
      assertThat(demo.exitValue()).isEqualTo(143); // 128 + SIGTERM
    } finally {
      demo.destroyForcibly();
    }
  }

  /** Waits for the ready line, woken by file changes (inotify), at most {@code max}. */
  private static String awaitReady(Path output, Duration max)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    try (WatchService watcher = FileSystems.getDefault().newWatchService()) {
      output.getParent().register(watcher, StandardWatchEventKinds.ENTRY_MODIFY);
      while (true) {
        Matcher m = READY.matcher(Files.readString(output, StandardCharsets.UTF_8));
        if (m.find()) {
          return m.group(1);
        }
        long left = deadline - System.nanoTime();
        assertThat(left).as("ready within %s: %s", max, Files.readString(output)).isPositive();
        var key = watcher.poll(Math.min(left, TimeUnit.SECONDS.toNanos(1)),
            TimeUnit.NANOSECONDS);
        if (key != null) {
          key.pollEvents();
          key.reset();
        }
      }
    }
  }
}
