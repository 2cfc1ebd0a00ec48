package dev.offload.core.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogReaderTest {
  private static final long T0 = Instant.parse("2026-11-28T06:00:00Z").toEpochMilli() * 1_000_000L;

  @Test
  void readsCommonLogFormatWithOffsetAndDashSize() {
    LogEntry e = LogFormat.COMMON.parse(
        "10.0.0.7 - frank [28/Nov/2026:07:00:00 +0100] \"GET /api/orders/7?x=1 HTTP/1.1\" 304 -",
        3);
    assertThat(e).isEqualTo(new LogEntry(3, T0, "10.0.0.7", "GET", "/api/orders/7?x=1", 304, 0,
        LogEntry.UNKNOWN_DURATION));
  }

  @Test
  void readsCombinedWithEscapedQuotesAndTrailingDurations() {
    String line = "::1 - - [28/Nov/2026:06:00:00 +0000] \"GET /a HTTP/1.1\" 200 512 "
        + "\"https://x/?q=\\\"hi\\\"\" \"curl/8 \\\"quoted\\\"\"";
    assertThat(LogFormat.COMBINED.parse(line, 1).durationNanos())
        .isEqualTo(LogEntry.UNKNOWN_DURATION);
    assertThat(LogFormat.COMBINED.parse(line + " 0.250", 1).durationNanos())
        .isEqualTo(250_000_000L);
    assertThat(LogFormat.COMBINED.parse(line + " 1500", 1).durationNanos()).isEqualTo(1_500_000L);
    assertThat(LogFormat.COMBINED.parse(line, 1).bytes()).isEqualTo(512);
  }

  @Test
  void readsCsvWithIsoOrEpochTimestampsAndQuotedPaths() {
    assertThat(LogFormat.CSV.parse("2026-11-28T06:00:00.250Z,GET,/a,200,12.5", 1))
        .isEqualTo(new LogEntry(1, T0 + 250_000_000L, "", "GET", "/a", 200, 0, 12_500_000L));
    assertThat(LogFormat.CSV.parse(
        (T0 / 1_000_000) + ",POST,\"/search?q=a,b&\"\"x\"\"\",201,3", 2).target())
        .isEqualTo("/search?q=a,b&\"x\"");
    assertThat(LogFormat.CSV.parse("2026-11-28T07:00:00+01:00,GET,/a,200,", 1))
        .extracting(LogEntry::timestampNanos, LogEntry::hasDuration)
        .containsExactly(T0, false);
  }

  @Test
  void namesTheBadFieldOfHostileLines() {
    assertThatThrownBy(() -> LogFormat.COMMON.parse(
        "1.2.3.4 - - [30/Feb/2026:06:00:00 +0000] \"GET / HTTP/1.1\" 200 1", 1))
        .hasMessageContaining("timestamp").hasMessageContaining("30/Feb/2026");
    assertThatThrownBy(() -> LogFormat.COMMON.parse(
        "1.2.3.4 - - [28/Nov/2026:06:00:00 +0000] \"GET / HTTP/1.1 200 1", 1))
        .hasMessageContaining("request line field is missing its closing quote");
    assertThatThrownBy(() -> LogFormat.COMMON.parse(
        "1.2.3.4 - - [28/Nov/2026:06:00:00 +0000] \"-\" 408 0", 1))
        .hasMessageContaining("request line");
    assertThatThrownBy(() -> LogFormat.COMMON.parse(
        "1.2.3.4 - - [28/Nov/2026:06:00:00 +0000] \"GET / HTTP/1.1\" 2000 1", 1))
        .hasMessageContaining("status");
    assertThatThrownBy(() -> LogFormat.CSV.parse("yesterday,GET,/,200,1", 1))
        .hasMessageContaining("timestamp").hasMessageContaining("yesterday");
    assertThatThrownBy(() -> LogFormat.CSV.parse("0,GET,/,200,1,extra", 1))
        .hasMessageContaining("5 fields");
    assertThatThrownBy(() -> LogFormat.CSV.parse("0,GET,\"/open,200,1", 1))
        .hasMessageContaining("unterminated");
    assertThatThrownBy(() -> LogFormat.CSV.parse("0,GET,/,200,-3", 1))
        .hasMessageContaining("duration_ms");
  }

  @Test
  void countsMalformedLinesWithLineNumbersAndSkipsHeaderAndBlanks() throws IOException {
    String log = String.join("\n",
        "timestamp,method,path,status,duration_ms",
        "2026-11-28T06:00:00Z,GET,/a,200,1",
        "",
        "not a line",
        "2026-11-28T06:00:01Z,GET,/b,200,1",
        "2026-11-28T06:00:02Z,GET,/c,999,1\r",
        "2026-11-28T06:00:03Z,GET,/d,200,1\r");
    try (AccessLogReader reader = AccessLogReader.of(log, LogFormat.CSV)) {
      assertThat(targets(reader)).containsExactly("/a", "/b", "/d");
      assertThat(reader.linesRead()).isEqualTo(7);
      assertThat(reader.malformedCount()).isEqualTo(2);
      assertThat(reader.malformed()).extracting(MalformedLine::lineNumber).containsExactly(4L, 6L);
      assertThat(reader.malformed().get(1).reason()).contains("status");
    }
  }

  @Test
  void aHugeLineIsMalformedWithoutEndingTheLog() throws IOException {
    String huge = "2026-11-28T06:00:00Z,GET,/" + "a".repeat(200_000) + ",200,1";
    String log = huge + "\n2026-11-28T06:00:01Z,GET,/after,200,1\n";
    try (AccessLogReader reader = AccessLogReader.of(new StringReader(log), LogFormat.CSV, 1024)) {
      assertThat(targets(reader)).containsExactly("/after");
      assertThat(reader.malformed()).containsExactly(
          new MalformedLine(1, "line longer than 1024 characters"));
    }
  }

  @Test
  void aTargetThatIsNotUtf8IsMalformedButALatin1UserAgentIsNot(@TempDir Path dir)
      throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    String prefix = "1.2.3.4 - - [28/Nov/2026:06:00:00 +0000] ";
    bytes.writeBytes((prefix + "\"GET /caf").getBytes(StandardCharsets.US_ASCII));
    bytes.write(0xE9); // Latin-1 'é', not UTF-8
    bytes.writeBytes(" HTTP/1.1\" 200 1 \"-\" \"ok\"\n".getBytes(StandardCharsets.US_ASCII));
    bytes.writeBytes((prefix + "\"GET /fine HTTP/1.1\" 200 1 \"-\" \"M").getBytes(
        StandardCharsets.US_ASCII));
    bytes.write(0xFC);
    bytes.writeBytes("ller\"\n".getBytes(StandardCharsets.US_ASCII));
    Path file = dir.resolve("access.log");
    Files.write(file, bytes.toByteArray());
    try (AccessLogReader reader = AccessLogReader.open(file)) {
      assertThat(targets(reader)).containsExactly("/fine");
      assertThat(reader.format()).contains(LogFormat.COMBINED);
      assertThat(reader.malformed()).singleElement()
          .satisfies(m -> assertThat(m.lineNumber()).isEqualTo(1))
          .satisfies(m -> assertThat(m.reason()).contains("not valid UTF-8"));
    }
  }

  @Test
  void spreadsTheRequestsOfOneLoggedSecondEvenlyOverIt() throws IOException {
    String line = "1.2.3.4 - - [28/Nov/2026:06:00:0%d +0000] \"GET /%s HTTP/1.1\" 200 1\n";
    String log = String.format(line, 0, "a") + String.format(line, 0, "b")
        + String.format(line, 0, "c") + String.format(line, 0, "d") + String.format(line, 1, "e");
    try (AccessLogReader reader = AccessLogReader.of(log, LogFormat.COMMON)) {
      List<Long> offsets = new ArrayList<>();
      for (Optional<LogEntry> e = reader.next(); e.isPresent(); e = reader.next()) {
        offsets.add((e.get().timestampNanos() - T0) / 1_000_000);
      }
      assertThat(offsets).containsExactly(0L, 250L, 500L, 750L, 1000L);
    }
  }

  @Test
  void detectsTheFormatFromTheFirstLine() {
    assertThat(LogFormat.detect("timestamp,method,path,status,duration_ms")).isEqualTo(LogFormat.CSV);
    assertThat(LogFormat.detect("0,GET,/,200,1")).isEqualTo(LogFormat.CSV);
    assertThat(LogFormat.detect(
        "h - - [28/Nov/2026:06:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\""))
        .isEqualTo(LogFormat.COMBINED);
    assertThat(LogFormat.detect("h - - [28/Nov/2026:06:00:00 +0000] \"GET / HTTP/1.1\" 200 1"))
        .isEqualTo(LogFormat.COMMON);
  }

  private static List<String> targets(AccessLogReader reader) throws IOException {
    List<String> targets = new ArrayList<>();
    for (Optional<LogEntry> e = reader.next(); e.isPresent(); e = reader.next()) {
      targets.add(e.get().target());
    }
    return targets;
  }
}
