package dev.offload.http.cdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.cdn.CdnPurgeException;
import dev.offload.core.cdn.PurgeResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link HttpCdnPurger} against a fake CDN on loopback. */
class HttpCdnPurgerTest {
  private static final String SECRET = "s3cr3t-key";

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final RecordingScheduler scheduler = new RecordingScheduler();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    scheduler.shutdownNow();
  }

  /**
   * Runs scheduled retries at once (no waiting in tests) and records the delays asked for, so
   * the backoff is asserted without sleeping.
   */
  static final class RecordingScheduler extends ScheduledThreadPoolExecutor {
    final List<Long> delaysNanos = Collections.synchronizedList(new ArrayList<>());

    RecordingScheduler() {
      super(1);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      delaysNanos.add(unit.toNanos(delay));
      return super.schedule(command, 0, TimeUnit.NANOSECONDS);
    }
  }

  private FakeCdn cdn(int failures, int status, String body) throws IOException {
    FakeCdn cdn = new FakeCdn(failures, status, body);
    closeables.add(cdn);
    return cdn;
  }

  private HttpCdnPurger.Builder purger(URI endpoint) {
    return HttpCdnPurger.builder(endpoint)
        .authHeader("X-Purge-Key", SECRET)
        .scheduler(scheduler)
        .meterRegistry(registry);
  }

  private double count(String kind, String result) {
    var counter = registry.find(HttpCdnPurger.PURGES_METER).tag("kind", kind)
        .tag("result", result).counter();
    return counter == null ? 0 : counter.count();
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(10, TimeUnit.SECONDS);
  }

  private static CdnPurgeException failure(CompletableFuture<?> future) {
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> future.get(10, TimeUnit.SECONDS));
    assertThat(e.getCause()).isInstanceOf(CdnPurgeException.class);
    return (CdnPurgeException) e.getCause();
  }

  @Test
  void postsUrlsAsJsonWithTheAuthHeaderAndCompletesOn2xx() throws Exception {
    FakeCdn cdn = cdn(0, 200, "");
    HttpCdnPurger purger = purger(cdn.endpoint()).build();

    PurgeResult result = await(purger.purgeUrls(List.of(
        URI.create("https://cdn.example.com/docs/intro"),
        URI.create("https://cdn.example.com/docs/caf%C3%A9?v=1"),
        URI.create("https://cdn.example.com/docs/intro"))));

    FakeCdn.Purge purge = cdn.take();
    assertThat(purge.method()).isEqualTo("POST");
    assertThat(purge.path()).isEqualTo("/v1/purge");
    assertThat(purge.contentType()).startsWith("application/json");
    assertThat(purge.auth()).isEqualTo(SECRET);
    assertThat(purge.body()).isEqualTo("{\"urls\":[\"https://cdn.example.com/docs/intro\","
        + "\"https://cdn.example.com/docs/caf%C3%A9?v=1\"]}");
    assertThat(result).isEqualTo(new PurgeResult(PurgeResult.Kind.URL, List.of(
        "https://cdn.example.com/docs/intro", "https://cdn.example.com/docs/caf%C3%A9?v=1"), 1, 200));
    assertThat(count("url", "success")).isEqualTo(1);
    assertThat(scheduler.delaysNanos).isEmpty();
  }

  @Test
  void postsTagsAsJson() throws Exception {
    FakeCdn cdn = cdn(0, 200, "");
    PurgeResult result = await(purger(cdn.endpoint()).build().purgeTags(List.of("docs", "docs-guide")));
    assertThat(cdn.take().body()).isEqualTo("{\"tags\":[\"docs\",\"docs-guide\"]}");
    assertThat(result.kind()).isEqualTo(PurgeResult.Kind.TAG);
    assertThat(result.attempts()).isEqualTo(1);
    assertThat(count("tag", "success")).isEqualTo(1);
  }

  @Test
  void retries5xxWithExponentialJitteredBackoffThenSucceeds() throws Exception {
    FakeCdn cdn = cdn(2, 503, "busy");
    HttpCdnPurger purger = purger(cdn.endpoint()).maxAttempts(3)
        .backoff(Duration.ofMillis(100)).build();

    PurgeResult result = await(purger.purgeTags(List.of("docs")));

    assertThat(result.attempts()).isEqualTo(3);
    assertThat(result.status()).isEqualTo(200);
    for (int i = 0; i < 3; i++) {
      assertThat(cdn.take().body()).isEqualTo("{\"tags\":[\"docs\"]}");
    }
    assertThat(scheduler.delaysNanos).hasSize(2);
    assertThat(scheduler.delaysNanos.get(0))
        .isBetween(Duration.ofMillis(50).toNanos(), Duration.ofMillis(100).toNanos());
    assertThat(scheduler.delaysNanos.get(1))
        .isBetween(Duration.ofMillis(100).toNanos(), Duration.ofMillis(200).toNanos());
    assertThat(count("tag", "retried")).isEqualTo(2);
    assertThat(count("tag", "success")).isEqualTo(1);
    assertThat(count("tag", "failure")).isZero();
  }

  @Test
  void backoffIsCappedAtMaxBackoff() throws Exception {
    FakeCdn cdn = cdn(4, 500, "");
    HttpCdnPurger purger = purger(cdn.endpoint()).maxAttempts(5)
        .backoff(Duration.ofMillis(100)).maxBackoff(Duration.ofMillis(150)).build();
    await(purger.purgeTags(List.of("docs")));
    assertThat(scheduler.delaysNanos).hasSize(4)
        .allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(Duration.ofMillis(150).toNanos()));
    assertThat(scheduler.delaysNanos.get(3)).isGreaterThanOrEqualTo(Duration.ofMillis(75).toNanos());
  }

  @Test
  void a4xxFailsAtOnceWithAClearMessageAndIsLogged() throws Exception {
    FakeCdn cdn = cdn(1, 403, "{\"error\":\"bad key\"}");
    HttpCdnPurger purger = purger(cdn.endpoint()).maxAttempts(5).build();
    List<LogRecord> logged = Collections.synchronizedList(new ArrayList<>());
    Logger logger = Logger.getLogger(HttpCdnPurger.class.getName());
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        logged.add(record);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    logger.addHandler(handler);
    try {
      CdnPurgeException e = failure(purger.purgeUrls(List.of(URI.create("https://cdn.example.com/a"))));

      assertThat(e.status()).isEqualTo(403);
      assertThat(e.attempts()).isEqualTo(1);
      assertThat(e.kind()).isEqualTo(PurgeResult.Kind.URL);
      assertThat(e.getMessage())
          .contains("CDN purge of 1 url [https://cdn.example.com/a]")
          .contains("failed after 1 attempt: HTTP 403, body: {\"error\":\"bad key\"}")
          .doesNotContain(SECRET);
      assertThat(cdn.receivedCount()).isEqualTo(1);
      assertThat(scheduler.delaysNanos).isEmpty();
      assertThat(count("url", "failure")).isEqualTo(1);
      assertThat(count("url", "retried")).isZero();
      assertThat(logged).anySatisfy(r -> {
        assertThat(r.getLevel()).isEqualTo(Level.WARNING);
        assertThat(r.getMessage()).isEqualTo(e.getMessage());
      });
    } finally {
      logger.removeHandler(handler);
    }
    assertThat(purger.toString()).doesNotContain(SECRET).contains("X-Purge-Key: ***");
  }

  @Test
  void givesUpAfterMaxAttemptsOf5xx() throws Exception {
    FakeCdn cdn = cdn(Integer.MAX_VALUE, 502, "");
    HttpCdnPurger purger = purger(cdn.endpoint()).maxAttempts(3).backoff(Duration.ofMillis(1)).build();

    CdnPurgeException e = failure(purger.purgeTags(List.of("a", "b")));

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.attempts()).isEqualTo(3);
    assertThat(e.getMessage()).contains("CDN purge of 2 tags [a, b]")
        .contains("failed after 3 attempts: HTTP 502");
    for (int i = 0; i < 3; i++) {
      cdn.take();
    }
    assertThat(count("tag", "retried")).isEqualTo(2);
    assertThat(count("tag", "failure")).isEqualTo(1);
    assertThat(count("tag", "success")).isZero();
  }

  @Test
  void ioFailuresAreRetriedAndReportedWithTheirCause() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    HttpCdnPurger purger = purger(URI.create("http://127.0.0.1:" + closedPort))
        .maxAttempts(2).backoff(Duration.ofMillis(1)).build();

    CdnPurgeException e = failure(purger.purgeTags(List.of("docs")));

    assertThat(e.status()).isZero();
    assertThat(e.attempts()).isEqualTo(2);
    assertThat(e.getCause()).isInstanceOf(IOException.class);
    assertThat(e.getMessage()).contains("failed after 2 attempts").contains("ConnectException");
    assertThat(count("tag", "retried")).isEqualTo(1);
    assertThat(count("tag", "failure")).isEqualTo(1);
  }

  @Test
  void ownRetryThreadWorksWithoutAnInjectedScheduler() throws Exception {
    FakeCdn cdn = cdn(1, 500, "");
    try (HttpCdnPurger purger = HttpCdnPurger.builder(cdn.endpoint())
        .backoff(Duration.ofMillis(1)).build()) {
      assertThat(await(purger.purgeTags(List.of("docs"))).attempts()).isEqualTo(2);
    }
  }

  @Test
  void nothingToPurgeCompletesWithoutARequest() throws Exception {
    FakeCdn cdn = cdn(0, 200, "");
    PurgeResult result = await(purger(cdn.endpoint()).build().purgeUrls(List.of()));
    assertThat(result.attempts()).isZero();
    assertThat(cdn.receivedCount()).isZero();
  }

  @Test
  void refusesWhatItCannotPurge() throws Exception {
    HttpCdnPurger purger = purger(cdn(0, 200, "").endpoint()).build();
    assertThatThrownBy(() -> purger.purgeTags(List.of("ok", "two words")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'two words'");
    assertThatThrownBy(() -> purger.purgeTags(List.of("a,b")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a,b'");
    assertThatThrownBy(() -> purger.purgeUrls(List.of(URI.create("/relative"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'/relative'");
    assertThatThrownBy(() -> purger.purgeUrls(List.of(URI.create("ftp://cdn.example.com/a"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ftp://cdn.example.com/a");
  }

  @Test
  void builderRefusesBadSettingsNamingThem() {
    assertThatThrownBy(() -> HttpCdnPurger.builder(URI.create("https://user:pw@purge.example.com")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpoint");
    assertThatThrownBy(() -> HttpCdnPurger.builder(URI.create("https://purge.example.com/?x=1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpoint");
    HttpCdnPurger.Builder b = HttpCdnPurger.builder(URI.create("https://purge.example.com"));
    assertThatThrownBy(() -> b.maxAttempts(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxAttempts must be at least 1, got 0");
    assertThatThrownBy(() -> b.backoff(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("backoff must be positive, got PT-0.001S");
    assertThatThrownBy(() -> b.maxBackoff(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBackoff");
    assertThatThrownBy(() -> b.callTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("callTimeout");
    assertThatThrownBy(() -> b.authHeader("Bad Name", "x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'Bad Name'");
    assertThatThrownBy(() -> b.authHeader("Authorization", "Bearer " + SECRET + "\r\nX: y"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("authHeader")
        .hasMessageNotContaining(SECRET);
    assertThatThrownBy(() -> b.backoff(Duration.ofSeconds(20)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBackoff");
  }
}
