package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouteTest {

  private static boolean matches(Route route, OffloadRequest request) {
    return route.matcher.matches(request);
  }

  private static boolean matches(Route route, String method, String target) {
    return matches(route, OffloadRequest.builder(method, target).build());
  }

  @Test
  void methodMatchesExactTokens() {
    Route route = Route.method("GET", "DELETE");
    assertThat(matches(route, "GET", "/")).isTrue();
    assertThat(matches(route, "DELETE", "/")).isTrue();
    assertThat(matches(route, "POST", "/")).isFalse();
    assertThat(matches(route, "get", "/")).isFalse();
  }

  @Test
  void getAlsoTakesHead() {
    assertThat(matches(Route.get("/a"), "HEAD", "/a")).isTrue();
    assertThat(matches(Route.get("/a"), "POST", "/a")).isFalse();
    assertThat(matches(Route.post("/a"), "POST", "/a")).isTrue();
    assertThat(matches(Route.put("/a"), "PUT", "/a")).isTrue();
    assertThat(matches(Route.patch("/a"), "PATCH", "/a")).isTrue();
    assertThat(matches(Route.delete("/a"), "DELETE", "/a")).isTrue();
  }

  @ParameterizedTest(name = "exact {0} vs {1}: {2}")
  @CsvSource({
    "/health, /health, true",
    "/health, /health/, false",
    "/health, /healthz, false",
    "/health, /x/../health, true",
    "/, /, true",
  })
  void exactPath(String pattern, String path, boolean expected) {
    assertThat(matches(Route.exact(pattern), "GET", path)).isEqualTo(expected);
    assertThat(matches(Route.path(pattern), "GET", path)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "prefix {0} vs {1}: {2}")
  @CsvSource({
    "/api/, /api/orders, true",
    "/api/, /api, true",
    "/api, /api/, true",
    "/api, /apiary, false",
    "/api/, /API/orders, false",
    "/api/v1, /api/v1/x, true",
    "/api/v1, /api/v2/x, false",
    "/, /anything, true",
    "/api/, /static/../api/x, true",
  })
  void prefixIsSegmentAware(String prefix, String path, boolean expected) {
    assertThat(matches(Route.prefix(prefix), "GET", path)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "glob {0} vs {1}: {2}")
  @CsvSource({
    "/static/**, /static/app.css, true",
    "/static/**, /static/css/deep/app.css, true",
    "/static/**, /static, true",
    "/static/**, /static/, true",
    "/static/**, /staticx/a, false",
    "/static/**, /other/static/a, false",
    "*.css, /static/app.css, true",
    "*.css, /app.css, true",
    "*.css, /app.css/x, false",
    "*.css, /app.cssx, false",
    "/*/img/*.png, /u1/img/a.png, true",
    "/*/img/*.png, /u1/img/sub/a.png, false",
    "/**/img/*.png, /a/b/c/img/a.png, true",
    "/**/img/*.png, /img/a.png, true",
    "/a/**/z, /a/z, true",
    "/a/**/z, /a/b/c/z, true",
    "/a/**/z, /a/b/c/y, false",
    "/app-*.js, /app-123.js, true",
    "/app-*.js, /app-.js, true",
    "/app-*.js, /ap-1.js, false",
    "/a*b*c, /aXXbYYc, true",
    "/a*b*c, /aXXbYY, false",
  })
  void glob(String pattern, String path, boolean expected) {
    assertThat(matches(Route.path(pattern), "GET", path)).isEqualTo(expected);
  }

  @Test
  void globRejectsPartialDoubleStar() {
    assertThatThrownBy(() -> Route.path("/a/x**"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/a/x**");
  }

  @ParameterizedTest(name = "extensions css,js vs {0}: {1}")
  @CsvSource({
    "/a.css, true",
    "/dir/a.JS, true",
    "/a.css.map, false",
    "/dir.css/a, false",
    "/a, false",
    "/.css, true",
  })
  void extensionSet(String path, boolean expected) {
    assertThat(matches(Route.extensions("css", "js"), "GET", path)).isEqualTo(expected);
  }

  @Test
  void hostIgnoresCaseAndPort() {
    Route route = Route.host("API.example.com");
    assertThat(matches(route, OffloadRequest.get("/").header("Host", "api.example.com:8443").build()))
        .isTrue();
    assertThat(matches(route, OffloadRequest.get("/").header("Host", "www.example.com").build()))
        .isFalse();
    assertThat(matches(route, OffloadRequest.get("/").build())).isFalse();
  }

  @Test
  void headerPresentAndEquals() {
    OffloadRequest canary = OffloadRequest.get("/").header("x-canary", "1").build();
    OffloadRequest other = OffloadRequest.get("/").header("X-Canary", "0").build();
    OffloadRequest none = OffloadRequest.get("/").build();
    assertThat(matches(Route.header("X-Canary"), canary)).isTrue();
    assertThat(matches(Route.header("X-Canary"), none)).isFalse();
    assertThat(matches(Route.header("X-Canary", "1"), canary)).isTrue();
    assertThat(matches(Route.header("X-Canary", "1"), other)).isFalse();
  }

  @Test
  void queryParameterPresentAndEquals() {
    assertThat(matches(Route.query("format"), "GET", "/r?format=csv")).isTrue();
    assertThat(matches(Route.query("format"), "GET", "/r?other=1")).isFalse();
    assertThat(matches(Route.query("format"), "GET", "/r")).isFalse();
    assertThat(matches(Route.query("format", "csv"), "GET", "/r?format=json&format=csv")).isTrue();
    assertThat(matches(Route.query("format", "csv"), "GET", "/r?format=json")).isFalse();
    assertThat(matches(Route.query("q", "a b"), "GET", "/r?q=a+b")).isTrue();
  }

  @Test
  void contentTypeIgnoresParametersAndCase() {
    OffloadRequest json = OffloadRequest.post("/").header("Content-Type", "Application/JSON; charset=utf-8").build();
    OffloadRequest png = OffloadRequest.post("/").header("Content-Type", "image/png").build();
    assertThat(matches(Route.contentType("application/json"), json)).isTrue();
    assertThat(matches(Route.contentType("application/json"), png)).isFalse();
    assertThat(matches(Route.contentType("image/*"), png)).isTrue();
    assertThat(matches(Route.contentType("image/*"), json)).isFalse();
    assertThat(matches(Route.contentType("application/json"), OffloadRequest.post("/").build()))
        .isFalse();
    assertThat(matches(Route.contentType("application/json"),
        OffloadRequest.post("/").header("Content-Type", "application/jsonx").build())).isFalse();
  }

  @Test
  void andOrNotCombine() {
    Route route = Route.prefix("/api/").and(Route.not(Route.method("DELETE")))
        .or(Route.header("X-Admin"));
    assertThat(matches(route, "GET", "/api/x")).isTrue();
    assertThat(matches(route, "DELETE", "/api/x")).isFalse();
    assertThat(matches(route, OffloadRequest.delete("/api/x").header("X-Admin", "1").build()))
        .isTrue();
    assertThat(matches(route, "GET", "/other")).isFalse();
    assertThat(route.toString()).isEqualTo("(/api/** not(DELETE)) or header x-admin");
  }

  @Test
  void anyMatchesEverything() {
    assertThat(matches(Route.any(), "OPTIONS", "/x")).isTrue();
  }

  @Test
  void badPatternsAreRefusedWithTheValue() {
    assertThatThrownBy(() -> Route.prefix("api")).hasMessageContaining("'api'");
    assertThatThrownBy(() -> Route.exact("health")).hasMessageContaining("'health'");
    assertThatThrownBy(() -> Route.path("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> Route.path("/a?b")).hasMessageContaining("/a?b");
    assertThatThrownBy(() -> Route.extensions()).hasMessageContaining("at least one");
    assertThatThrownBy(() -> Route.extensions(".css")).hasMessageContaining(".css");
    assertThatThrownBy(() -> Route.method("G T")).hasMessageContaining("G T");
    assertThatThrownBy(() -> Route.contentType("json")).hasMessageContaining("json");
    assertThatThrownBy(() -> Route.header("Bad Header")).hasMessageContaining("Bad Header");
    assertThatThrownBy(() -> Route.host(" ")).hasMessageContaining("blank");
    assertThatThrownBy(() -> Route.exact("/caf%C3%A9")).hasMessageContaining("decoded path");
    assertThatThrownBy(() -> Route.method("get")).hasMessageContaining("GET");
    assertThatThrownBy(() -> Route.get(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("pattern");
  }

  @Test
  void descriptionsReadLikeTheTable() {
    assertThat(Route.get("/static/**")).hasToString("GET|HEAD /static/**");
    assertThat(Route.prefix("/api/")).hasToString("/api/**");
    assertThat(Route.prefix("/api")).hasToString("/api/**");
  }
}
