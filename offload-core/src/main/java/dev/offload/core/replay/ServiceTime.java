package dev.offload.core.replay;

import dev.offload.core.internal.Settings;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * How long a simulated backend instance works on one request, once it has a free slot (the
 * waiting for a slot is simulated separately).
 *
 * <pre>{@code
 * ServiceTime.fromLog(Duration.ofMillis(40))   // the log's duration, 40 ms where it has none
 * ServiceTime.exponential(Duration.ofMillis(40))
 * (entry, random) -> entry.target().startsWith("/api/reports") ? 900_000_000L : 20_000_000L
 * }</pre>
 *
 * <p>Must be a pure function of its arguments: the replay's determinism rests on it.
 */
@FunctionalInterface
public interface ServiceTime {
  /**
   * Returns the service time of one request.
   *
   * @param entry the request as logged
   * @param random the replay's seeded source of randomness
   * @return nanoseconds of work, not negative
   */
  long nanos(LogEntry entry, SplittableRandom random);

  /**
   * The same time for every request.
   *
   * @param time the service time
   * @return the service time
   * @throws IllegalArgumentException if {@code time} is negative
   */
  static ServiceTime fixed(Duration time) {
    long nanos = checked(time, "time");
    return (entry, random) -> nanos;
  }

  /**
   * Exponentially distributed times with {@code mean}, drawn from the replay's seeded random.
   *
   * @param mean the mean service time
   * @return the service time
   * @throws IllegalArgumentException if {@code mean} is negative
   */
  static ServiceTime exponential(Duration mean) {
    long nanos = checked(mean, "mean");
    return (entry, random) -> Math.round(-Math.log(1 - random.nextDouble()) * nanos);
  }

  /**
   * The duration the log recorded for the request (CSV's {@code duration_ms}, Combined's
   * trailing {@code $request_time}), or {@code fallback} where it recorded none. A logged
   * duration includes the queueing the backend did then; the replay queues again on top, so a
   * log of a saturated backend overstates its service time.
   *
   * @param fallback the time of requests the log gives no duration for
   * @return the service time
   * @throws IllegalArgumentException if {@code fallback} is negative
   */
  static ServiceTime fromLog(Duration fallback) {
    long nanos = checked(fallback, "fallback");
    return (entry, random) -> entry.hasDuration() ? entry.durationNanos() : nanos;
  }

  private static long checked(Duration time, String name) {
    return Settings.notNegative(name, time).toNanos();
  }
}
