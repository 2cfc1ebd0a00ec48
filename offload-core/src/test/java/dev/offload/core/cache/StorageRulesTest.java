package dev.offload.core.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Headers;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** RFC 9111 section 3 for a shared cache without heuristic freshness: what is stored and why not. */
class StorageRulesTest {
  private static final Headers NONE = Headers.empty();
  private static final Headers AUTH = Headers.of("Authorization", "Bearer x");
  private static final long MAX = 1000;

  static Stream<Arguments> responses() {
    return Stream.of(
        // name, method, request, status, response, length, refusal (null: stored)
        row("max-age", "GET", NONE, 200, cc("max-age=60"), 10, null),
        row("s-maxage", "GET", NONE, 200, cc("s-maxage=60"), 10, null),
        row("Expires with Date", "GET", NONE, 200, Headers.of(
            "Date", "Sat, 28 Nov 2026 10:00:00 GMT", "Expires", "Sat, 28 Nov 2026 10:01:00 GMT"),
            10, null),
        row("no explicit freshness", "GET", NONE, 200, Headers.of("ETag", "\"a\""), 10,
            "no explicit freshness"),
        row("Expires without Date", "GET", NONE, 200,
            Headers.of("Expires", "Sat, 28 Nov 2026 10:01:00 GMT"), 10, "no explicit freshness"),
        row("404 with max-age", "GET", NONE, 404, cc("max-age=60"), 10, null),
        row("301 with max-age", "GET", NONE, 301, cc("max-age=60"), 0, null),
        row("204 with max-age", "GET", NONE, 204, cc("max-age=60"), 0, null),
        row("206 partial", "GET", NONE, 206, cc("max-age=60"), 10, "status 206"),
        row("302", "GET", NONE, 302, cc("max-age=60"), 0, "status 302"),
        row("500", "GET", NONE, 500, cc("max-age=60"), 10, "status 500"),
        row("HEAD response", "HEAD", NONE, 200, cc("max-age=60"), 10, "only GET"),
        row("POST response", "POST", NONE, 200, cc("max-age=60"), 10, "only GET"),
        row("no-store", "GET", NONE, 200, cc("max-age=60, no-store"), 10, "no-store"),
        row("request no-store", "GET", Headers.of("Cache-Control", "no-store"), 200,
            cc("max-age=60"), 10, "request Cache-Control: no-store"),
        row("private", "GET", NONE, 200, cc("private, max-age=60"), 10, "private"),
        row("private with field names", "GET", NONE, 200,
            cc("private=\"Set-Cookie\", max-age=60"), 10, "private"),
        row("no-cache", "GET", NONE, 200, cc("no-cache, max-age=60"), 10, "no-cache"),
        row("Set-Cookie", "GET", NONE, 200,
            Headers.of("Cache-Control", "public, max-age=60", "Set-Cookie", "s=1"), 10,
            "Set-Cookie"),
        row("Authorization, max-age only", "GET", AUTH, 200, cc("max-age=60"), 10,
            "Authorization"),
        row("Authorization, public", "GET", AUTH, 200, cc("public, max-age=60"), 10, null),
        row("Authorization, s-maxage", "GET", AUTH, 200, cc("s-maxage=60"), 10, null),
        row("Authorization, must-revalidate", "GET", AUTH, 200,
            cc("must-revalidate, max-age=60"), 10, null),
        row("Vary: *", "GET", NONE, 200,
            Headers.of("Cache-Control", "max-age=60", "Vary", "Accept, *"), 10, "Vary: *"),
        row("Content-Range", "GET", NONE, 200,
            Headers.of("Cache-Control", "max-age=60", "Content-Range", "bytes 0-1/2"), 2,
            "Content-Range"),
        row("too large", "GET", NONE, 200, cc("max-age=60"), MAX + 1, "maxObjectBytes"),
        row("unknown length", "GET", NONE, 200, cc("max-age=60"), -1, null),
        // cacheability never comes from the path's extension: the fields decide
        row("an image without freshness", "GET", NONE, 200,
            Headers.of("Content-Type", "image/png"), 10, "no explicit freshness"));
  }

  private static Headers cc(String value) {
    return Headers.of("Cache-Control", value);
  }

  private static Arguments row(String name, String method, Headers request, int status,
      Headers response, long length, String refusal) {
    return Arguments.of(name, method, request, status, response, length, refusal);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("responses")
  void storesOnlyWhatRfc9111AllowsASharedCache(String name, String method, Headers request,
      int status, Headers response, long length, String refusal) {
    String actual = StoredResponse.responseRefusal(method, request, status, response, length, MAX);
    if (refusal == null) {
      assertThat(actual).as(name).isNull();
    } else {
      assertThat(actual).as(name).contains(refusal);
    }
  }

  static Stream<Arguments> requests() {
    return Stream.of(
        Arguments.of("GET", NONE, null),
        Arguments.of("HEAD", NONE, null),
        Arguments.of("POST", NONE, "method POST"),
        Arguments.of("GET", Headers.of("Range", "bytes=0-1"), "Range"),
        Arguments.of("GET", Headers.of("X-Forwarded-Host", "evil.example"), "X-Forwarded-Host"),
        Arguments.of("GET", Headers.of("X-Original-URL", "/admin"), "X-Original-URL"),
        Arguments.of("GET", Headers.of("X-Rewrite-URL", "/admin"), "X-Rewrite-URL"),
        Arguments.of("GET", Headers.of("X-HTTP-Method-Override", "DELETE"),
            "X-HTTP-Method-Override"));
  }

  @ParameterizedTest(name = "[{index}] {0} {1}")
  @MethodSource("requests")
  void neverFillsFromRequestsWithUnkeyedReflectedFields(String method, Headers request,
      String refusal) {
    String actual = StoredResponse.requestRefusal(method, request);
    if (refusal == null) {
      assertThat(actual).isNull();
    } else {
      assertThat(actual).contains(refusal);
    }
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("freshness")
  void freshnessPrefersSMaxAgeThenMaxAgeThenExpires(String name, Headers response,
      long seconds) {
    CacheControl cc = CacheControl.parse(response.all("Cache-Control"));
    assertThat(StoredResponse.freshnessSeconds(cc, response)).as(name).isEqualTo(seconds);
  }

  static Stream<Arguments> freshness() {
    String date = "Sat, 28 Nov 2026 10:00:00 GMT";
    String expires = "Sat, 28 Nov 2026 10:02:00 GMT";
    return Stream.of(
        Arguments.of("s-maxage over max-age", Headers.of("Cache-Control",
            "max-age=60, s-maxage=30", "Expires", expires, "Date", date), 30L),
        Arguments.of("max-age over Expires", Headers.of("Cache-Control", "max-age=60",
            "Expires", expires, "Date", date), 60L),
        Arguments.of("Expires minus Date", Headers.of("Expires", expires, "Date", date), 120L),
        Arguments.of("invalid Expires is stale", Headers.of("Expires", "0", "Date", date), 0L),
        Arguments.of("Expires before Date", Headers.of("Expires", date, "Date", expires), 0L),
        Arguments.of("nothing", Headers.empty(), -1L));
  }
}
