package dev.offload.bench.overload;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What one open-loop run saw, recorded from many threads: the answer time of every counted
 * request (from its intended send time, in microseconds) split by outcome, and how late the
 * generator itself sent them.
 */
public final class Tally {
  private static final long MAX_MICROS = TimeUnit.SECONDS.toMicros(60);

  private final Histogram ok = histogram();
  private final Histogram shed = histogram();
  private final Histogram sendLag = histogram();
  private final AtomicLong otherStatus = new AtomicLong();
  private final AtomicLong timeouts = new AtomicLong();
  private final AtomicLong ioErrors = new AtomicLong();
  private final AtomicLong counted = new AtomicLong();

  private static Histogram histogram() {
    return new ConcurrentHistogram(MAX_MICROS, 3);
  }

  /**
   * Records that a counted request was sent.
   *
   * @param lateNanos how long after its intended time the send call was made
   */
  public void sent(long lateNanos) {
    counted.incrementAndGet();
    sendLag.recordValue(micros(lateNanos));
  }

  /**
   * Records an answer.
   *
   * @param status the HTTP status
   * @param nanosSinceIntended from the intended send time to the answer
   */
  public void answered(int status, long nanosSinceIntended) {
    if (status == 200) {
      ok.recordValue(micros(nanosSinceIntended));
    } else if (status == 503) {
      shed.recordValue(micros(nanosSinceIntended));
    } else {
      otherStatus.incrementAndGet();
    }
  }

  /** Records a request that got no answer within the client's timeout. */
  public void timedOut() {
    timeouts.incrementAndGet();
  }

  /** Records a request that failed without an HTTP answer (reset, refused). */
  public void failed() {
    ioErrors.incrementAndGet();
  }

  private static long micros(long nanos) {
    return Math.min(MAX_MICROS, Math.max(0, nanos / 1_000));
  }

  /**
   * Returns the figures of the run.
   *
   * @param arm the arm's name
   * @param multiple the offered load as a multiple of the primary's capacity
   * @param schedule the run's schedule
   * @return the figures; requests neither answered nor failed by now count as lost
   */
  public RunResult result(String arm, double multiple, Schedule schedule) {
    long answered = ok.getTotalCount() + shed.getTotalCount() + otherStatus.get()
        + timeouts.get() + ioErrors.get();
    return new RunResult(arm, multiple, schedule.ratePerSecond(), counted.get(),
        ok.getTotalCount() / schedule.measuredSeconds(), millis(ok, 99), millis(ok, 50),
        shed.getTotalCount(), millis(shed, 99), otherStatus.get(), timeouts.get(), ioErrors.get(),
        Math.max(0, counted.get() - answered), millis(sendLag, 99), sendLag.getMaxValue() / 1e3);
  }

  private static double millis(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1e3;
  }
}
