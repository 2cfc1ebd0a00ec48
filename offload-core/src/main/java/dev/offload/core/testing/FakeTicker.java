package dev.offload.core.testing;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ticker that moves only when told, for deterministic tests of anything time-based (rate
 * limits, timeouts, load windows).
 *
 * <pre>{@code
 * FakeTicker ticker = new FakeTicker();
 * OffloadRouter router = OffloadRouter.builder().ticker(ticker)...build();
 * ticker.advance(Duration.ofSeconds(1));
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class FakeTicker extends Ticker {
  private final AtomicLong nanos = new AtomicLong();

  /** Starts at zero. */
  public FakeTicker() {}

  /**
   * Moves the clock forward.
   *
   * @param duration the duration
   * @return this ticker
   * @throws IllegalArgumentException if {@code duration} is negative
   */
  public FakeTicker advance(Duration duration) {
    requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("cannot advance by a negative duration: " + duration);
    }
    nanos.addAndGet(duration.toNanos());
    return this;
  }

  /**
   * Moves the clock forward by {@code amount} of {@code unit}.
   *
   * @param amount the amount
   * @param unit the unit
   * @return this ticker
   */
  public FakeTicker advance(long amount, TimeUnit unit) {
    requireNonNull(unit, "unit");
    return advance(Duration.of(amount, unit.toChronoUnit()));
  }

  @Override
  public long read() {
    return nanos.get();
  }
}
