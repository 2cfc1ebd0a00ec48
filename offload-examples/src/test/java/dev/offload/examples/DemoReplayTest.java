package dev.offload.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Decision;
import dev.offload.core.replay.BackendReport;
import dev.offload.core.replay.ReplayReport;
import dev.offload.core.replay.TrafficReplay;
import dev.offload.examples.demo.DemoReplay;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DemoReplayTest {
  private static final Path SAMPLE = Path.of("replay/sample-access.log");

  @Test
  void replaysTheSampleLogThroughTheDemoRouterAndPrintsTheTable() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ReplayReport report = Demo.replay(SAMPLE, 1,
        new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
    String table = bytes.toString(StandardCharsets.UTF_8);

    assertThat(report.malformedCount()).isEqualTo(3);
    assertThat(report.requests()).isEqualTo(4621);
    // every route of the demo is exercised: CDN redirect, edge cache, orders, thumbnails, host
    assertThat(report.count(Decision.Kind.REDIRECT)).isPositive();
    assertThat(report.count(Decision.Kind.SERVE_CACHED)).isPositive();
    assertThat(report.count(Decision.Kind.OFFLOAD)).isPositive();
    assertThat(report.cacheHitRatio()).isGreaterThan(0.9);
    // order reads fail over to the replica while orders is saturated; writes never do
    BackendReport orders = report.backend("orders").orElseThrow();
    long replica = report.backend("orders-replica").map(BackendReport::requests).orElse(0L);
    assertThat(orders.requests() + replica).isEqualTo(report.count(Decision.Kind.FORWARD));
    assertThat(table)
        .contains("replayed 4,621 requests from 4,624 lines (3 malformed")
        .containsPattern("orders +1,\\d{3} +\\d+\\.\\d%")
        .contains("malformed line 101: timestamp")
        .contains("cache hit ratio");
  }

  @Test
  void tripleTheTrafficRunsIntoTheDemoRateLimitAndIsDeterministic() throws IOException {
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8);
    ReplayReport once = Demo.replay(SAMPLE, 1, quiet, false);
    ReplayReport tripled = Demo.replay(SAMPLE, 3, quiet, false);

    assertThat(tripled.rateLimited()).isGreaterThan(once.rateLimited());
    assertThat(Demo.replay(SAMPLE, 3, quiet, false)).isEqualTo(tripled);
  }

  @Test
  void theProgressBarRedrawsInPlaceWithPercentAndLines() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    TrafficReplay.Progress bar = DemoReplay.bar(
        new PrintStream(bytes, true, StandardCharsets.UTF_8), 1000);
    bar.onProgress(16_384, 500);
    bar.onProgress(32_768, 1000);
    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(
        "\r[###############               ]  50%  16,384 lines"
            + "\r[##############################] 100%  32,768 lines");
  }

  @Test
  void replayOptionsAreParsedAndBadScalesRefused() {
    Demo.Args args = Demo.Args.parse("--replay", "x.log", "--scale", "2.5");
    assertThat(args.replay).isEqualTo(Path.of("x.log"));
    assertThat(args.scale).isEqualTo(2.5);
    assertThatThrownBy(() -> Demo.Args.parse("--replay")).hasMessageContaining("--replay");
    assertThatThrownBy(() -> Demo.Args.parse("--scale", "0")).hasMessageContaining("'0'");
    assertThatThrownBy(() -> Demo.Args.parse("--scale", "fast")).hasMessageContaining("'fast'");
  }
}
