package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Reads an access log one request at a time, streaming (a log of millions of lines is never held
 * in memory). A line that cannot be read (a bad date, a missing quote, a line longer than {@link
 * #maxLineChars}, a target that is not UTF-8) is counted and kept with its line number in {@link
 * #malformed()}, never silently dropped; blank lines and a CSV header are skipped.
 *
 * <pre>{@code
 * try (AccessLogReader log = AccessLogReader.open(Path.of("access.log"))) {
 *   ReplayReport report = replay.run(log);
 *   report.malformed().forEach(System.err::println);
 * }
 * }</pre>
 *
 * <p>Common and Combined logs record whole seconds: the requests of one second (consecutive
 * lines with the same timestamp) are spread evenly over it, in log order, so that a replay does
 * not see each second's traffic arrive as one burst.
 *
 * <p>Bytes that are not UTF-8 are decoded as U+FFFD, so a user agent in Latin-1 does not spoil
 * its line; a request target holding one is malformed. Not thread-safe.
 */
public final class AccessLogReader implements Closeable {
  /** Lines longer than this many characters are malformed, by default. */
  public static final int DEFAULT_MAX_LINE_CHARS = 16 * 1024;
  /** How many malformed lines are kept with their reasons; all are counted. */
  public static final int KEPT_MALFORMED_LINES = 1000;

  private final Reader in;
  private final int maxLineChars;
  private final char[] buffer = new char[64 * 1024];
  private final StringBuilder line = new StringBuilder(256);
  private final List<MalformedLine> malformed = new ArrayList<>();
  private LogFormat format;
  private final ArrayDeque<LogEntry> spread = new ArrayDeque<>();
  private LogEntry lookahead;
  private int position;
  private int limit;
  private boolean eof;
  private long lineNumber;
  private long entries;
  private long malformedCount;
  private long charsRead;

  private AccessLogReader(Reader in, LogFormat format, int maxLineChars) {
    this.in = in;
    this.format = format;
    if (maxLineChars < 16) {
      throw new IllegalArgumentException("maxLineChars must be at least 16, got " + maxLineChars);
    }
    this.maxLineChars = maxLineChars;
  }

  /**
   * Opens a log file in {@code format}.
   *
   * @param file the log
   * @param format its format
   * @return a reader positioned before the first line
   * @throws IOException if the file cannot be opened
   */
  public static AccessLogReader open(Path file, LogFormat format) throws IOException {
    requireNonNull(format, "format");
    return new AccessLogReader(utf8(file), format, DEFAULT_MAX_LINE_CHARS);
  }

  /**
   * Opens a log file whose format is detected from its first line ({@link LogFormat#detect}).
   *
   * @param file the log
   * @return a reader positioned before the first line
   * @throws IOException if the file cannot be opened
   */
  public static AccessLogReader open(Path file) throws IOException {
    return new AccessLogReader(utf8(file), null, DEFAULT_MAX_LINE_CHARS);
  }

  /**
   * Reads a log from {@code reader}; closing this closes it.
   *
   * @param reader the log's text
   * @param format its format
   * @param maxLineChars longer lines are malformed
   * @return a reader positioned before the first line
   * @throws IllegalArgumentException if {@code maxLineChars} is below 16
   */
  public static AccessLogReader of(Reader reader, LogFormat format, int maxLineChars) {
    return new AccessLogReader(requireNonNull(reader, "reader"), requireNonNull(format, "format"),
        maxLineChars);
  }

  /**
   * Reads a log held in a string (tests, small samples).
   *
   * @param text the log's lines
   * @param format its format
   * @return a reader positioned before the first line
   */
  public static AccessLogReader of(String text, LogFormat format) {
    return of(new StringReader(requireNonNull(text, "text")), format, DEFAULT_MAX_LINE_CHARS);
  }

  private static Reader utf8(Path file) throws IOException {
    requireNonNull(file, "file");
    return new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE));
  }

  /**
   * Returns the next request of the log, skipping (and recording) malformed lines.
   *
   * @return the next entry, or empty at the end of the log
   * @throws IOException if reading fails
   */
  public Optional<LogEntry> next() throws IOException {
    if (format == LogFormat.CSV) {
      return nextParsed();
    }
    // Common/Combined timestamps have whole seconds: the requests logged in one second are
    // spread evenly over it (in log order), so a second's traffic does not arrive as one burst
    if (!spread.isEmpty()) {
      return Optional.of(spread.poll());
    }
    LogEntry first = lookahead != null ? lookahead : nextParsed().orElse(null);
    lookahead = null;
    if (first == null) {
      return Optional.empty();
    }
    if (format == LogFormat.CSV) {
      return Optional.of(first);
    }
    List<LogEntry> second = new ArrayList<>();
    second.add(first);
    for (Optional<LogEntry> e = nextParsed(); e.isPresent(); e = nextParsed()) {
      if (e.get().timestampNanos() != first.timestampNanos()) {
        lookahead = e.get();
        break;
      }
      second.add(e.get());
    }
    int n = second.size();
    for (int i = 0; i < n; i++) {
      LogEntry e = second.get(i);
      spread.add(new LogEntry(e.lineNumber(), e.timestampNanos() + i * 1_000_000_000L / n,
          e.client(), e.method(), e.target(), e.status(), e.bytes(), e.durationNanos()));
    }
    return Optional.of(spread.poll());
  }

  private Optional<LogEntry> nextParsed() throws IOException {
    while (true) {
      int state = readLine();
      if (state == END) {
        return Optional.empty();
      }
      lineNumber++;
      if (state == TOO_LONG) {
        malformed(new MalformedLine(lineNumber, "line longer than " + maxLineChars
            + " characters"));
        continue;
      }
      String text = line.toString();
      if (text.isBlank()) {
        continue;
      }
      if (format == null) {
        format = LogFormat.detect(text);
      }
      if (format.isHeader(text)) {
        continue;
      }
      try {
        LogEntry entry = format.parse(text, lineNumber);
        entries++;
        return Optional.of(entry);
      } catch (IllegalArgumentException e) {
        malformed(new MalformedLine(lineNumber, e.getMessage()));
      }
    }
  }

  /**
   * Records that the entry read from {@code lineNumber} could not be replayed after all (the
   * replay could not build a request from it).
   *
   * @param lineNumber the entry's line
   * @param reason why, naming the bad value
   */
  public void reject(long lineNumber, String reason) {
    requireNonNull(reason, "reason");
    entries--;
    malformed(new MalformedLine(lineNumber, reason));
  }

  private void malformed(MalformedLine bad) {
    malformedCount++;
    if (malformed.size() < KEPT_MALFORMED_LINES) {
      malformed.add(bad);
    }
  }

  private static final int END = 0;
  private static final int LINE = 1;
  private static final int TOO_LONG = 2;

  /** Reads up to the next '\n' into {@link #line}, dropping a '\r' before it. */
  private int readLine() throws IOException {
    line.setLength(0);
    boolean tooLong = false;
    boolean any = false;
    while (true) {
      if (position == limit) {
        if (eof) {
          return any ? (tooLong ? TOO_LONG : LINE) : END;
        }
        int n = in.read(buffer, 0, buffer.length);
        if (n < 0) {
          eof = true;
          continue;
        }
        position = 0;
        limit = n;
        charsRead += n;
      }
      any = true;
      int start = position;
      while (position < limit && buffer[position] != '\n') {
        position++;
      }
      boolean newline = position < limit;
      if (!tooLong) {
        int length = position - start;
        if (line.length() + length > maxLineChars + 1) {
          tooLong = true;
          line.setLength(0);
        } else {
          line.append(buffer, start, length);
        }
      }
      if (newline) {
        position++;
        if (!tooLong && line.length() > 0 && line.charAt(line.length() - 1) == '\r') {
          line.setLength(line.length() - 1);
        }
        if (!tooLong && line.length() > maxLineChars) {
          tooLong = true;
        }
        return tooLong ? TOO_LONG : LINE;
      }
    }
  }

  /**
   * Returns the format being read: the one given, or the one detected from the first line.
   *
   * @return the format, empty before the first line of a log opened without one
   */
  public Optional<LogFormat> format() {
    return Optional.ofNullable(format);
  }

  /**
   * Returns the number of lines read so far, blank and malformed ones included.
   *
   * @return lines read
   */
  public long linesRead() {
    return lineNumber;
  }

  /**
   * Returns the number of requests read so far.
   *
   * @return entries returned by {@link #next()} and not {@linkplain #reject rejected}
   */
  public long entriesRead() {
    return entries;
  }

  /**
   * Returns the number of characters read from the source so far (for a progress bar).
   *
   * @return characters decoded so far
   */
  public long charsRead() {
    return charsRead;
  }

  /**
   * Returns the number of malformed lines so far.
   *
   * @return every malformed line counted
   */
  public long malformedCount() {
    return malformedCount;
  }

  /**
   * Returns the first {@value #KEPT_MALFORMED_LINES} malformed lines with their reasons.
   *
   * @return malformed lines in the order read
   */
  public List<MalformedLine> malformed() {
    return Collections.unmodifiableList(new ArrayList<>(malformed));
  }

  /**
   * Closes the source.
   *
   * @throws IOException if closing it fails
   */
  @Override
  public void close() throws IOException {
    in.close();
  }
}
