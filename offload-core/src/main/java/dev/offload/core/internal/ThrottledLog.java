package dev.offload.core.internal;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A log that does not flood: per key (a route, a backend instance and failure kind), the first
 * occurrence is logged in full, with its stack trace; later ones are counted, and at most once
 * per interval a one-line summary says how many there were and what the latest was. The summary
 * is written by the occurrence that finds the interval over (no thread of its own), so a key that
 * stops failing writes no last summary.
 *
 * <p>Time is read from the ticker given (the router's). Keys must come from configuration (route
 * and backend names, instances), never from requests: one entry is kept per key. Thread-safe.
 */
public final class ThrottledLog {
  /** Default time between two summaries of one key: one minute. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);

  private final System.Logger logger;
  private final Ticker ticker;
  private final long intervalNanos;
  private final ConcurrentMap<String, Window> windows = new ConcurrentHashMap<>();

  /**
   * Creates a log writing to {@code logger}.
   *
   * @param logger where entries go
   * @param ticker the clock the interval is measured on
   * @param interval the shortest time between two entries of one key
   * @throws IllegalArgumentException naming {@code interval} if it is not positive
   */
  public ThrottledLog(System.Logger logger, Ticker ticker, Duration interval) {
    this.logger = requireNonNull(logger, "logger");
    this.ticker = requireNonNull(ticker, "ticker");
    this.intervalNanos = Settings.positive("interval", interval).toNanos();
  }

  /**
   * Logs an occurrence under {@code key}: in full the first time, then as a counted summary at
   * most once per interval.
   *
   * @param level the level of the entry
   * @param key what is counted together; from configuration, not from a request
   * @param message what happened, without the exception
   * @param thrown the cause, or null
   */
  public void log(System.Logger.Level level, String key, String message, Throwable thrown) {
    if (!logger.isLoggable(level)) {
      return;
    }
    long now = ticker.read();
    Window window = windows.get(key);
    if (window == null) {
      Window created = new Window(now);
      window = windows.putIfAbsent(key, created);
      if (window == null) {
        logger.log(level, message + " (logged once in full; repeats are summarized at most every "
            + Duration.ofNanos(intervalNanos) + ")", thrown);
        return;
      }
    }
    long suppressed;
    synchronized (window) {
      window.count++;
      if (now - window.lastLogged < intervalNanos) {
        return;
      }
      suppressed = window.count;
      window.count = 0;
      window.lastLogged = now;
    }
    logger.log(level, message + " (" + suppressed + " times since the last entry"
        + (thrown == null ? "" : "; latest: " + thrown) + ")");
  }

  private static final class Window {
    long lastLogged; // guarded by this
    long count; // guarded by this

    Window(long now) {
      this.lastLogged = now;
    }
  }
}
