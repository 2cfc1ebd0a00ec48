package dev.offload.redis.internal;

import io.lettuce.core.RedisCommandTimeoutException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/** {@code offload.redis.commands}, one counter for every part of offload-redis. */
public final class RedisMeters {
  /** The meter counting Redis commands: tags {@code operation} and {@code outcome}. */
  public static final String COMMANDS = "offload.redis.commands";

  private RedisMeters() {}

  /**
   * Counts one command.
   *
   * @param registry the registry, or null for none
   * @param operation what the command did, e.g. {@code task.put}, {@code ratelimit.consume}
   * @param outcome {@code success}, {@code timeout} or {@code error}
   */
  public static void command(MeterRegistry registry, String operation, String outcome) {
    if (registry != null) {
      Counter.builder(COMMANDS).description("Redis commands sent by offload, by outcome")
          .tag("operation", operation).tag("outcome", outcome).register(registry).increment();
    }
  }

  /**
   * Returns the outcome of a failed command: {@code timeout} or {@code error}.
   *
   * @param failure what the command failed with
   * @return the outcome tag
   */
  public static String outcome(Throwable failure) {
    Throwable t = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    return t instanceof RedisCommandTimeoutException || t instanceof TimeoutException
        || t instanceof io.github.bucket4j.TimeoutException ? "timeout" : "error";
  }
}
