package dev.offload.core.replay.internal;

import dev.offload.core.replay.LogEntry;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Hand-written parsers of access-log lines: one pass over the line, no regular expressions (a
 * replay reads millions of lines). Every failure is an {@link IllegalArgumentException} naming
 * the field and, shortened, the bad value.
 */
public final class LineParsers {
  private static final String[] MONTHS = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  private static final int SHOWN = 60;
  private static final char REPLACEMENT = '\uFFFD';

  private LineParsers() {}

  /**
   * Parses a Common or Combined Log Format line.
   *
   * @param line the line
   * @param lineNumber its number
   * @param combined whether referer and user agent follow
   * @return the entry
   * @throws IllegalArgumentException if the line is malformed, naming the field
   */
  public static LogEntry common(String line, long lineNumber, boolean combined) {
    Cursor c = new Cursor(line);
    String client = c.token("client");
    c.token("ident");
    c.token("user");
    long timestamp = clfTime(c.bracketed("timestamp"));
    String request = c.quoted("request line");
    int status = status(c.token("status"));
    String size = c.token("size");
    long bytes = size.equals("-") ? 0 : number(size, "size");
    long duration = LogEntry.UNKNOWN_DURATION;
    if (combined) {
      c.quoted("referer");
      c.quoted("user-agent");
      if (c.more()) {
        duration = trailingDuration(c.token("duration"));
      }
    }
    if (c.more()) {
      throw new IllegalArgumentException("unexpected text after the "
          + (combined ? "user-agent" : "size") + " field: '" + shorten(c.rest()) + "'");
    }
    int firstSpace = request.indexOf(' ');
    int lastSpace = request.lastIndexOf(' ');
    if (firstSpace <= 0) {
      throw new IllegalArgumentException("request line is not 'METHOD TARGET [PROTOCOL]': '"
          + shorten(request) + "'");
    }
    String method = request.substring(0, firstSpace);
    String target = lastSpace > firstSpace && request.startsWith("HTTP/", lastSpace + 1)
        ? request.substring(firstSpace + 1, lastSpace) : request.substring(firstSpace + 1);
    return entry(lineNumber, timestamp, client, method, target, status, bytes, duration);
  }

  /**
   * Parses a CSV line {@code timestamp,method,path,status,duration_ms}.
   *
   * @param line the line
   * @param lineNumber its number
   * @return the entry
   * @throws IllegalArgumentException if the line is malformed, naming the field
   */
  public static LogEntry csv(String line, long lineNumber) {
    List<String> fields = csvFields(line);
    if (fields.size() != 5) {
      throw new IllegalArgumentException("expected 5 fields (timestamp,method,path,status,"
          + "duration_ms), got " + fields.size());
    }
    long timestamp = isoOrEpochMillis(fields.get(0).strip());
    int status = status(fields.get(3).strip());
    String ms = fields.get(4).strip();
    long duration;
    if (ms.isEmpty() || ms.equals("-")) {
      duration = LogEntry.UNKNOWN_DURATION;
    } else {
      double millis = decimal(ms, "duration_ms");
      duration = Math.round(millis * 1_000_000d);
    }
    return entry(lineNumber, timestamp, "", fields.get(1).strip(), fields.get(2).strip(), status,
        0, duration);
  }

  private static LogEntry entry(long lineNumber, long timestamp, String client, String method,
      String target, int status, long bytes, long duration) {
    if (method.isEmpty() || !method.chars().allMatch(ch -> ch > ' ' && ch < 0x7f)) {
      throw new IllegalArgumentException("method is not a token: '" + shorten(method) + "'");
    }
    if (target.isEmpty()) {
      throw new IllegalArgumentException("request target is empty");
    }
    if (target.indexOf(REPLACEMENT) >= 0) {
      throw new IllegalArgumentException("request target is not valid UTF-8: '"
          + shorten(target) + "'");
    }
    return new LogEntry(lineNumber, timestamp, client, method, target, status, bytes, duration);
  }

  private static int status(String s) {
    if (s.length() != 3 || !allDigits(s)) {
      throw new IllegalArgumentException("status is not three digits: '" + shorten(s) + "'");
    }
    int status = Integer.parseInt(s);
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status is not in 100..599: " + status);
    }
    return status;
  }

  private static long number(String s, String field) {
    if (s.isEmpty() || s.length() > 18 || !allDigits(s)) {
      throw new IllegalArgumentException(field + " is not a number: '" + shorten(s) + "'");
    }
    return Long.parseLong(s);
  }

  private static double decimal(String s, String field) {
    boolean dot = false;
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch == '.' && !dot && i > 0) {
        dot = true;
      } else if (ch < '0' || ch > '9') {
        throw new IllegalArgumentException(field + " is not a non-negative decimal: '"
            + shorten(s) + "'");
      }
    }
    if (s.isEmpty() || s.length() > 24 || s.endsWith(".")) {
      throw new IllegalArgumentException(field + " is not a non-negative decimal: '"
          + shorten(s) + "'");
    }
    return Double.parseDouble(s);
  }

  /** nginx's {@code $request_time} (seconds, with a point) or Apache's {@code %D} (micros). */
  private static long trailingDuration(String s) {
    if (s.indexOf('.') >= 0) {
      return Math.round(decimal(s, "duration") * 1e9);
    }
    long micros = number(s, "duration");
    return Math.multiplyExact(micros, 1000L);
  }

  private static boolean allDigits(String s) {
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch < '0' || ch > '9') {
        return false;
      }
    }
    return true;
  }

  /** {@code 10/Oct/2000:13:55:36 -0700}. */
  static long clfTime(String s) {
    if (s.length() != 26 || s.charAt(2) != '/' || s.charAt(6) != '/' || s.charAt(11) != ':'
        || s.charAt(14) != ':' || s.charAt(17) != ':' || s.charAt(20) != ' '
        || (s.charAt(21) != '+' && s.charAt(21) != '-')) {
      throw badTime(s);
    }
    int month = -1;
    for (int m = 0; m < 12; m++) {
      if (s.regionMatches(3, MONTHS[m], 0, 3)) {
        month = m + 1;
      }
    }
    if (month < 0) {
      throw badTime(s);
    }
    try {
      int day = digits(s, 0, 2);
      int year = digits(s, 7, 11);
      int hour = digits(s, 12, 14);
      int minute = digits(s, 15, 17);
      int second = digits(s, 18, 20);
      int offsetHours = digits(s, 22, 24);
      int offsetMinutes = digits(s, 24, 26);
      int sign = s.charAt(21) == '-' ? -1 : 1;
      ZoneOffset offset = ZoneOffset.ofHoursMinutes(sign * offsetHours, sign * offsetMinutes);
      long epochSecond = LocalDateTime.of(year, month, day, hour, minute, second)
          .toEpochSecond(offset);
      return Math.multiplyExact(epochSecond, 1_000_000_000L);
    } catch (DateTimeException | NumberFormatException | ArithmeticException e) {
      throw badTime(s);
    }
  }

  private static int digits(String s, int from, int to) {
    int value = 0;
    for (int i = from; i < to; i++) {
      char ch = s.charAt(i);
      if (ch < '0' || ch > '9') {
        throw new NumberFormatException();
      }
      value = value * 10 + (ch - '0');
    }
    return value;
  }

  private static IllegalArgumentException badTime(String s) {
    return new IllegalArgumentException("timestamp is not 'dd/MMM/yyyy:HH:mm:ss +hhmm': '"
        + shorten(s) + "'");
  }

  private static long isoOrEpochMillis(String s) {
    if (!s.isEmpty() && s.length() <= 15 && allDigits(s)) {
      return Math.multiplyExact(Long.parseLong(s), 1_000_000L);
    }
    try {
      Instant instant = s.endsWith("Z") || s.endsWith("z") ? Instant.parse(s)
          : OffsetDateTime.parse(s).toInstant();
      return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L),
          instant.getNano());
    } catch (DateTimeParseException | ArithmeticException e) {
      throw new IllegalArgumentException("timestamp is neither ISO-8601 with an offset nor epoch "
          + "milliseconds: '" + shorten(s) + "'");
    }
  }

  /** RFC 4180 fields: quoted fields may hold commas and doubled quotes. */
  static List<String> csvFields(String line) {
    List<String> fields = new ArrayList<>(5);
    int i = 0;
    int n = line.length();
    while (true) {
      if (fields.size() > 5) {
        throw new IllegalArgumentException("expected 5 fields (timestamp,method,path,status,"
            + "duration_ms), got more");
      }
      if (i < n && line.charAt(i) == '"') {
        StringBuilder field = new StringBuilder();
        i++;
        while (true) {
          if (i >= n) {
            throw new IllegalArgumentException("unterminated quoted field " + (fields.size() + 1));
          }
          char ch = line.charAt(i++);
          if (ch == '"') {
            if (i < n && line.charAt(i) == '"') {
              field.append('"');
              i++;
            } else {
              break;
            }
          } else {
            field.append(ch);
          }
        }
        fields.add(field.toString());
        if (i == n) {
          return fields;
        }
        if (line.charAt(i) != ',') {
          throw new IllegalArgumentException("text after the closing quote of field "
              + fields.size());
        }
        i++;
      } else {
        int comma = line.indexOf(',', i);
        if (comma < 0) {
          fields.add(line.substring(i));
          return fields;
        }
        fields.add(line.substring(i, comma));
        i = comma + 1;
      }
    }
  }

  static String shorten(String s) {
    StringBuilder out = new StringBuilder(Math.min(s.length(), SHOWN) + 8);
    for (int i = 0; i < s.length() && i < SHOWN; i++) {
      char ch = s.charAt(i);
      out.append(ch < ' ' || ch == 0x7f ? '?' : ch);
    }
    return s.length() > SHOWN ? out.append("...").toString() : out.toString();
  }

  /** Walks a CLF line field by field. */
  private static final class Cursor {
    private final String line;
    private int i;

    Cursor(String line) {
      this.line = line;
    }

    boolean more() {
      skipSpaces();
      return i < line.length();
    }

    String rest() {
      return line.substring(i);
    }

    private void skipSpaces() {
      while (i < line.length() && line.charAt(i) == ' ') {
        i++;
      }
    }

    String token(String field) {
      skipSpaces();
      int start = i;
      while (i < line.length() && line.charAt(i) != ' ') {
        i++;
      }
      if (start == i) {
        throw new IllegalArgumentException(field + " field is missing");
      }
      return line.substring(start, i);
    }

    String bracketed(String field) {
      skipSpaces();
      if (i >= line.length() || line.charAt(i) != '[') {
        throw new IllegalArgumentException(field + " field is missing its '['");
      }
      int close = line.indexOf(']', i);
      if (close < 0) {
        throw new IllegalArgumentException(field + " field is missing its ']'");
      }
      String value = line.substring(i + 1, close);
      i = close + 1;
      return value;
    }

    /** A quoted field; {@code \"} and {@code \\} are escapes (nginx, Apache). */
    String quoted(String field) {
      skipSpaces();
      if (i >= line.length() || line.charAt(i) != '"') {
        throw new IllegalArgumentException(field + " field is missing its opening quote");
      }
      int start = ++i;
      boolean escaped = false;
      while (i < line.length()) {
        char ch = line.charAt(i);
        if (ch == '\\') {
          escaped = true;
          i += 2;
          continue;
        }
        if (ch == '"') {
          String value = line.substring(start, i);
          i++;
          if (i < line.length() && line.charAt(i) != ' ') {
            throw new IllegalArgumentException("text after the closing quote of the " + field
                + " field");
          }
          return escaped ? value.replace("\\\"", "\"").replace("\\\\", "\\") : value;
        }
        i++;
      }
      throw new IllegalArgumentException(field + " field is missing its closing quote");
    }
  }
}
