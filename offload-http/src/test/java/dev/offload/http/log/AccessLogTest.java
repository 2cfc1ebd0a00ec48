package dev.offload.http.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AccessLogTest {
  private static AccessLogEntry entry(String path, int status) {
    return new AccessLogEntry(Instant.parse("2026-11-28T07:00:00Z"), "203.0.113.7", "GET", path,
        "forward", Optional.of("orders"), Optional.of("http://10.0.0.5:8080"), status, 12,
        3_172_456, Optional.of("MISS"), Optional.of("req-1"));
  }

  @Test
  void aFullQueueDropsAndCountsWithoutBlockingTheCaller() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> written = new CopyOnWriteArrayList<>();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AccessLog log = AccessLog.builder()
        .queueCapacity(1)
        .meterRegistry(registry)
        .sink(line -> {
          entered.countDown();
          if (!release.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not released");
          }
          written.add(line);
        })
        .build();
    try {
      assertThat(log.record(entry("/1", 200))).isTrue();
      assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue(); // the writer holds /1
      assertThat(log.record(entry("/2", 200))).isTrue();          // queued
      assertThat(log.record(entry("/3", 200))).isFalse();         // full: dropped at once
      assertThat(log.dropped()).isEqualTo(1);
      assertThat(registry.get("offload.access_log.dropped").counter().count()).isEqualTo(1.0);
    } finally {
      release.countDown();
      log.close();
    }
    assertThat(written).hasSize(2);
    assertThat(written.get(1)).contains("\"path\":\"/2\"");
    assertThat(log.record(entry("/4", 200))).isFalse(); // closed
  }

  @Test
  void samplingKeepsTheChosenFractionAndAlwaysServerErrors() {
    double[] draw = {0.7};
    AccessLog log = AccessLog.builder().sampleRate(0.5).random(() -> draw[0])
        .sink(line -> { }).build();
    try {
      assertThat(log.record(entry("/a", 200))).isFalse();
      assertThat(log.record(entry("/b", 503))).isTrue();
      draw[0] = 0.2;
      assertThat(log.record(entry("/c", 200))).isTrue();
      assertThat(log.dropped()).isZero();
    } finally {
      log.close();
    }
  }

  @Test
  void aThrowingSinkIsCountedAndTheNextLineStillWritten() {
    List<String> written = new CopyOnWriteArrayList<>();
    AccessLog log = AccessLog.builder().sink(line -> {
      if (line.contains("/boom")) {
        throw new IllegalStateException("disk full");
      }
      written.add(line);
    }).build();
    log.record(entry("/boom", 200));
    log.record(entry("/fine", 200));
    log.close();
    assertThat(log.sinkErrors()).isEqualTo(1);
    assertThat(written).singleElement().asString().contains("/fine");
  }

  @Test
  void hostileStringsStayOneEscapedBoundedLine() throws Exception {
    String path = "/\"},\"status\":1,\n\u0000\u2028" + "x".repeat(5000);
    String line = AccessLog.format(entry(path, 200));
    assertThat(line).doesNotContain("\n").doesNotContain("\u0000");
    JsonNode parsed = new ObjectMapper().readTree(line);
    assertThat(parsed.get("status").asInt()).isEqualTo(200);
    assertThat(parsed.get("path").asText()).startsWith("/\"},\"status\":1,\n").endsWith("...")
        .hasSize(AccessLog.MAX_PATH + 3);
    assertThat(parsed.get("duration_ms").asDouble()).isEqualTo(3.172);
  }

  @Test
  void builderRefusesBadSettingsNamingThem() {
    assertThatThrownBy(() -> AccessLog.builder().sampleRate(0))
        .hasMessage("sampleRate must be in (0, 1], got 0.0");
    assertThatThrownBy(() -> AccessLog.builder().sampleRate(Double.NaN))
        .hasMessageContaining("sampleRate");
    assertThatThrownBy(() -> AccessLog.builder().queueCapacity(0))
        .hasMessage("queueCapacity must be at least 1, got 0");
  }
}
