package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

import dev.offload.core.replay.internal.LineParsers;

/**
 * The access-log formats a replay reads.
 *
 * <ul>
 *   <li>{@link #COMMON}: the Common Log Format, Apache's {@code %h %l %u %t "%r" %>s %b} and
 *       nginx's default without the last two fields: {@code 10.0.0.7 - - [28/Nov/2026:06:00:00
 *       +0000] "GET /api/orders/7 HTTP/1.1" 200 512}.
 *   <li>{@link #COMBINED}: the Combined Log Format (nginx's and Apache's default {@code combined}),
 *       Common plus {@code "referer" "user-agent"}; a last field after them is read as the
 *       request's duration: with a decimal point in seconds (nginx's {@code $request_time}),
 *       without in microseconds (Apache's {@code %D}).
 *   <li>{@link #CSV}: {@code timestamp,method,path,status,duration_ms}, the timestamp ISO-8601
 *       ({@code 2026-11-28T06:00:00.250Z}, or with an offset) or epoch milliseconds, the
 *       duration in milliseconds (a fraction allowed); RFC 4180 quoting; a first line naming the
 *       columns is a header.
 * </ul>
 */
public enum LogFormat {
  /** The Common Log Format. */
  COMMON,
  /** The Combined Log Format, with an optional trailing duration. */
  COMBINED,
  /** {@code timestamp,method,path,status,duration_ms}. */
  CSV;

  /**
   * Parses one line.
   *
   * @param line the line, without its line terminator
   * @param lineNumber its number, 1-based, for the entry and error messages
   * @return the request the line records
   * @throws IllegalArgumentException if the line is malformed; the message names the bad field
   */
  public LogEntry parse(String line, long lineNumber) {
    requireNonNull(line, "line");
    return switch (this) {
      case COMMON -> LineParsers.common(line, lineNumber, false);
      case COMBINED -> LineParsers.common(line, lineNumber, true);
      case CSV -> LineParsers.csv(line, lineNumber);
    };
  }

  /**
   * Returns whether {@code line} is this format's header line (only {@link #CSV} has one).
   *
   * @param line a line of the log
   * @return true for a CSV line naming the columns
   */
  public boolean isHeader(String line) {
    requireNonNull(line, "line");
    return this == CSV && line.strip().toLowerCase(java.util.Locale.ROOT).startsWith("timestamp,");
  }

  /**
   * Guesses the format of a log from its first line, by its shape (a malformed first line still
   * tells): Common or Combined when it holds a {@code [timestamp] "request"}, Combined when it
   * has three quoted fields; CSV otherwise.
   *
   * @param firstLine the first line of the log
   * @return the format to read it with
   */
  public static LogFormat detect(String firstLine) {
    requireNonNull(firstLine, "firstLine");
    if (CSV.isHeader(firstLine)) {
      return CSV;
    }
    if (!firstLine.contains("] \"")) {
      return CSV;
    }
    // Combined has three quoted fields (request, referer, user agent), Common one: count the
    // quotes that are not escaped, so a malformed first line still tells the format
    int quotes = 0;
    for (int i = 0; i < firstLine.length(); i++) {
      char ch = firstLine.charAt(i);
      if (ch == '\\') {
        i++;
      } else if (ch == '"') {
        quotes++;
      }
    }
    return quotes >= 6 ? COMBINED : COMMON;
  }
}
