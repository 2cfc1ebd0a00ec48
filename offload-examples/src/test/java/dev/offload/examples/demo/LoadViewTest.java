package dev.offload.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadViewTest {
  private static final LoadRun.Plan PLAN = new LoadRun.Plan(Duration.ofSeconds(9), 10);

  @Test
  void onATerminalTheTableIsRedrawnInPlaceAndElsewhereNoEscapeCodesArePrinted() {
    ByteArrayOutputStream tty = new ByteArrayOutputStream();
    ByteArrayOutputStream pipe = new ByteArrayOutputStream();
    LoadView terminal = new LoadView(new PrintStream(tty, true, StandardCharsets.UTF_8), true);
    LoadView plain = new LoadView(new PrintStream(pipe, true, StandardCharsets.UTF_8), false);

    for (LoadView view : new LoadView[] {terminal, plain}) {
      view.live(snapshot(Duration.ofSeconds(1), 10));
      view.live(snapshot(Duration.ofSeconds(4), 60));
    }

    String lines = LoadView.table(snapshot(Duration.ofSeconds(1), 10));
    long height = lines.chars().filter(c -> c == '\n').count();
    assertThat(tty.toString(StandardCharsets.UTF_8))
        .startsWith(lines)
        .contains("\033[" + height + "F\033[J");
    assertThat(pipe.toString(StandardCharsets.UTF_8))
        .doesNotContain("\033")
        .contains("spike x3  sent 60");
  }

  @Test
  void theTableShowsTheOffloadRatioFromWhatOrdersReceived() {
    String table = LoadView.table(snapshot(Duration.ofSeconds(1), 10));

    assertThat(table)
        .contains("[###...........................]  1.0/9 s  steady  sent 10")
        .contains("offload ratio  70.0% (never reached orders)")
        .contains("cache hits  75.0%")
        .contains("429s 2");
  }

  private static LoadRun.Snapshot snapshot(Duration elapsed, long sent) {
    return new LoadRun.Snapshot(true, PLAN, elapsed, false, sent, sent, 0,
        Map.of(200, sent - 2, 429, 2L), Map.of("forward", 3L, "reject", 2L, "redirect", sent - 5),
        Map.of("hit", 3L, "miss", 1L), Map.of("submitted", 2L, "succeeded", 1L), 0,
        new LoadRun.BackendStats("orders", 3, 1, 2, Duration.ofMillis(45)),
        new LoadRun.BackendStats("orders-replica", 0, 0, 0, Duration.ZERO));
  }
}
