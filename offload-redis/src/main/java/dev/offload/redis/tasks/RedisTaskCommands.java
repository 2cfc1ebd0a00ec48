package dev.offload.redis.tasks;

import com.google.common.base.Ticker;
import dev.offload.core.internal.ThrottledLog;
import io.lettuce.core.RedisCommandTimeoutException;
import dev.offload.redis.internal.RedisMeters;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.Supplier;

/**
 * Runs the Redis commands of the task store and queue: counts each in {@code
 * offload.redis.commands} (tags {@code operation}, e.g. {@code task.put}, and {@code outcome}:
 * {@code success}, {@code timeout}, {@code error}) and logs failures without flooding (once in
 * full, then a summary per operation at most once a minute). Failures are rethrown. Thread-safe.
 */
final class RedisTaskCommands {
  /** The meter counting Redis commands. */
  static final String METER = RedisMeters.COMMANDS;

  private static final System.Logger LOG = System.getLogger(RedisTaskCommands.class.getName());

  private final MeterRegistry registry;
  private final ThrottledLog log;

  /** With {@code registry} null, nothing is counted. */
  RedisTaskCommands(MeterRegistry registry, Ticker ticker) {
    this.registry = registry;
    this.log = new ThrottledLog(LOG, ticker, ThrottledLog.DEFAULT_INTERVAL);
  }

  <T> T call(String operation, Supplier<T> command) {
    try {
      T result = command.get();
      count(operation, "success");
      return result;
    } catch (RedisCommandTimeoutException e) {
      count(operation, "timeout");
      log.log(System.Logger.Level.WARNING, operation, "Redis command " + operation
          + " timed out", e);
      throw e;
    } catch (RuntimeException e) {
      count(operation, "error");
      log.log(System.Logger.Level.WARNING, operation, "Redis command " + operation + " failed: "
          + e, e);
      throw e;
    }
  }

  void run(String operation, Runnable command) {
    call(operation, () -> {
      command.run();
      return null;
    });
  }

  /** Logs a problem that is not a failed command (a malformed entry), under {@code key}. */
  void warn(String key, String message, Throwable thrown) {
    log.log(System.Logger.Level.ERROR, key, message, thrown);
  }

  private void count(String operation, String outcome) {
    RedisMeters.command(registry, operation, outcome);
  }
}
