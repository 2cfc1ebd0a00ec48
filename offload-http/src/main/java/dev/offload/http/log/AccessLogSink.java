package dev.offload.http.log;

import static java.util.Objects.requireNonNull;

/**
 * Where access-log lines go: one JSON object per call, without a line terminator. Called on the
 * access log's own writer thread, one line at a time, never on a request's thread; it may block
 * (a file, a socket), which only fills the log's bounded queue. An exception it throws is logged
 * and counted, and the next line is written as usual.
 *
 * <pre>{@code
 * AccessLogSink toStdout = System.out::println;
 * }</pre>
 */
@FunctionalInterface
public interface AccessLogSink {
  /**
   * Writes one line.
   *
   * @param jsonLine a JSON object, on one line
   * @throws Exception if it could not be written (logged, counted, contained)
   */
  void write(String jsonLine) throws Exception;

  /**
   * Returns a sink that logs each line at {@code INFO} to the {@link System.Logger} named {@code
   * dev.offload.access}: the default.
   *
   * @return the sink
   */
  static AccessLogSink systemLogger() {
    return systemLogger(System.getLogger("dev.offload.access"));
  }

  /**
   * Returns a sink that logs each line at {@code INFO} to {@code logger}.
   *
   * @param logger the logger
   * @return the sink
   * @throws NullPointerException if {@code logger} is null
   */
  static AccessLogSink systemLogger(System.Logger logger) {
    requireNonNull(logger, "logger");
    return line -> logger.log(System.Logger.Level.INFO, line);
  }
}
