package dev.offload.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.testing.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ThrottledLogTest {
  private final FakeTicker ticker = new FakeTicker();
  private final RecordingLogger logger = new RecordingLogger();
  private final ThrottledLog log = new ThrottledLog(logger, ticker, Duration.ofMinutes(1));

  @Test
  void logsTheFirstOccurrenceOfAKeyInFullAndCountsTheRestUntilTheIntervalIsOver() {
    RuntimeException boom = new IllegalStateException("boom");
    for (int i = 0; i < 1000; i++) {
      log.log(System.Logger.Level.WARNING, "route-a", "strategy of route 'a' threw", boom);
    }
    assertThat(logger.entries).hasSize(1);
    assertThat(logger.entries.get(0).thrown()).isSameAs(boom);
    assertThat(logger.entries.get(0).message()).startsWith("strategy of route 'a' threw");

    ticker.advance(Duration.ofSeconds(61));
    log.log(System.Logger.Level.WARNING, "route-a", "strategy of route 'a' threw", boom);
    assertThat(logger.entries).hasSize(2);
    Entry summary = logger.entries.get(1);
    assertThat(summary.thrown()).as("a summary is one line, no stack trace").isNull();
    assertThat(summary.message()).contains("1000 times since the last entry")
        .contains("java.lang.IllegalStateException: boom");
  }

  @Test
  void eachKeyHasItsOwnFirstEntry() {
    log.log(System.Logger.Level.WARNING, "a", "a failed", null);
    log.log(System.Logger.Level.WARNING, "b", "b failed", null);
    log.log(System.Logger.Level.WARNING, "a", "a failed", null);
    assertThat(logger.entries).extracting(Entry::message)
        .hasSize(2).anySatisfy(m -> assertThat(m).startsWith("a failed"))
        .anySatisfy(m -> assertThat(m).startsWith("b failed"));
  }

  @Test
  void writesNothingAtALevelTheLoggerIgnores() {
    logger.minimum = System.Logger.Level.ERROR;
    log.log(System.Logger.Level.WARNING, "a", "a failed", null);
    logger.minimum = System.Logger.Level.ALL;
    log.log(System.Logger.Level.WARNING, "a", "a failed", null);
    assertThat(logger.entries).hasSize(1);
    assertThat(logger.entries.get(0).message()).doesNotContain("times since");
  }

  @Test
  void refusesAnIntervalThatIsNotPositive() {
    assertThatThrownBy(() -> new ThrottledLog(logger, ticker, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interval");
  }

  private record Entry(System.Logger.Level level, String message, Throwable thrown) {}

  private static final class RecordingLogger implements System.Logger {
    final List<Entry> entries = new ArrayList<>();
    Level minimum = Level.ALL;

    @Override
    public String getName() {
      return "recording";
    }

    @Override
    public boolean isLoggable(Level level) {
      return level.getSeverity() >= minimum.getSeverity();
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
      entries.add(new Entry(level, msg, thrown));
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
      entries.add(new Entry(level, format, null));
    }

    @Override
    public void log(Level level, Supplier<String> msgSupplier, Throwable thrown) {
      entries.add(new Entry(level, msgSupplier.get(), thrown));
    }
  }
}
