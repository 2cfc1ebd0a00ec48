package dev.offload.examples.demo;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.replay.AccessLogReader;
import dev.offload.core.replay.LogEntry;
import dev.offload.core.replay.ReplayReport;
import dev.offload.core.replay.ServiceTime;
import dev.offload.core.replay.SimulatedBackend;
import dev.offload.core.replay.TrafficReplay;
import dev.offload.core.testing.FakeTicker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * {@code --replay FILE}: replays an access log through the demo's router ({@link
 * DemoGateway#replayRouter}) on a simulated clock, against backends simulated like the demo's
 * ({@code orders} and {@code orders-replica}: one instance with {@value
 * DemoGateway#DEFAULT_ORDERS_WORKERS} workers of 40 ms where the log gives no duration; the host
 * application: 64 threads of 1 ms). Requests under {@code /api/} carry the demo's API key (an
 * access log does not record it), so the per-key rate limit applies to all of them together;
 * the host's static files answer with the same {@code Cache-Control} as live, so the edge cache
 * fills.
 */
public final class DemoReplay {
  /** The p99 latency target of the capacity answer. */
  public static final Duration P99_TARGET = Duration.ofMillis(250);

  private DemoReplay() {}

  /**
   * Replays {@code file}.
   *
   * @param file a Common, Combined or CSV access log (detected from its first line)
   * @param timeScale 1 for the log's pace, 3 for three times its traffic
   * @param progress told how far the replay got
   * @return the report
   * @throws IOException if the log cannot be read
   */
  public static ReplayReport replay(Path file, double timeScale, TrafficReplay.Progress progress)
      throws IOException {
    requireNonNull(file, "file");
    FakeTicker ticker = new FakeTicker();
    HostApplication host = new HostApplication("hello", DemoGateway.hostFiles(),
        new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
            io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT));
    ServiceTime orders = ServiceTime.fromLog(DemoGateway.DEFAULT_SERVICE_TIME);
    TrafficReplay replay = TrafficReplay.builder(
            DemoGateway.replayRouter(ticker, new SimpleMeterRegistry()), ticker)
        .backend(SimulatedBackend.of("orders", 1, DemoGateway.DEFAULT_ORDERS_WORKERS, orders))
        .backend(SimulatedBackend.of("orders-replica", 1, DemoGateway.DEFAULT_ORDERS_WORKERS,
            orders))
        .host(SimulatedBackend.of(TrafficReplay.HOST, 1, 64,
            ServiceTime.fromLog(Duration.ofMillis(1))))
        .timeScale(timeScale)
        .p99Target(P99_TARGET)
        .window(Duration.ofSeconds(1))
        .requests(DemoReplay::request)
        .responseHeaders(entry -> {
          HostApplication.Answer answer = host.answer(OffloadRequest.get(entry.target()).build()
              .path());
          Headers.Builder headers = Headers.builder().add("Content-Type", answer.contentType());
          answer.headers().forEach(headers::add);
          return headers.build();
        })
        .build();
    try (AccessLogReader log = AccessLogReader.open(file)) {
      return replay.run(log, progress);
    }
  }

  private static OffloadRequest request(LogEntry entry) {
    OffloadRequest plain = TrafficReplay.defaultRequest(entry);
    if (!plain.path().startsWith("/api/")) {
      return plain;
    }
    OffloadRequest.Builder builder = OffloadRequest.builder(entry.method(), entry.target())
        .clientAddress(plain.clientAddress())
        .header(DemoGateway.API_KEY_HEADER, DemoGateway.API_KEY);
    return builder.build();
  }

  /**
   * A progress bar on {@code out} for a log of {@code totalBytes}, redrawn in place with a
   * carriage return; for a terminal only.
   *
   * @param out where to draw it
   * @param totalBytes the log's size
   * @return the progress listener
   */
  public static TrafficReplay.Progress bar(PrintStream out, long totalBytes) {
    requireNonNull(out, "out");
    return (lines, chars) -> {
      double done = totalBytes <= 0 ? 1 : Math.min(1, (double) chars / totalBytes);
      int width = 30;
      int filled = (int) Math.round(done * width);
      out.printf(Locale.ROOT, "\r[%s%s] %3d%%  %,d lines", "#".repeat(filled),
          " ".repeat(width - filled), Math.round(done * 100), lines);
      out.flush();
    };
  }

  /**
   * Returns the size of {@code file}, for {@link #bar}.
   *
   * @param file the log
   * @return its size in bytes
   * @throws IOException if it cannot be read
   */
  public static long size(Path file) throws IOException {
    return Files.size(file);
  }
}
