package dev.offload.core.cdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Decision;
import dev.offload.core.GuardVerdict;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CdnRedirectTest {
  private static final URI BASE = URI.create("https://cdn.example.com/assets");
  private static final String UNDER_BASE = "https://cdn.example.com/assets/";

  private static OffloadRouter router(CdnStrategy strategy) {
    return OffloadRouter.builder().route("cdn", Route.prefix("/"), strategy).build();
  }

  /**
   * Hostile targets: each is refused by the router (400) or redirected under the base, never to
   * another host, another scheme, user info, or above the base's path.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      "//evil.com/x",
      "///evil.com/x",
      "/\\evil.com",
      "/%5cevil.com",
      "/%5Cevil.com/x",
      "/..%2fevil.com",
      "/..%2f..%2fetc/passwd",
      "/%2e%2e/%2e%2e/x",
      "/%2e%2e%2f%2e%2e%2fx",
      "/../../x",
      "/./../evil.com",
      "/a/%2f%2fevil.com",
      "/a%0d%0aSet-Cookie:%20x=1",
      "/a\r\nSet-Cookie: x=1",
      "/a%00.css",
      "/a%09b",
      "/@evil.com",
      "/:@evil.com",
      "/%40evil.com/x",
      "http://evil.com/x",
      "https://evil.com//evil.com",
      "//user:pass@evil.com/",
      "/x?next=//evil.com/%0d%0a",
      "/x?a=\"><script>",
      "/%c0%ae%c0%ae/x",
      "/caf\u00e9.css",
      "/x;jsessionid=1",
  })
  void locationOnlyEverPointsUnderTheBase(String target) {
    OffloadRouter router = router(CdnStrategy.redirect(BASE));
    OffloadRequest request = OffloadRequest.get(target).build();
    Decision decision = router.decide(request);
    if (decision instanceof Decision.Reject reject) {
      assertThat(reject.status()).as(target).isEqualTo(400);
      return;
    }
    assertThat(decision).as(target).isInstanceOf(Decision.Redirect.class);
    Decision.Redirect redirect = (Decision.Redirect) decision;
    assertThat(redirect.location()).as(target).startsWith(UNDER_BASE)
        .doesNotContain("\r", "\n", "\\", " ", "\"", "<");
    assertThat(redirect.location().substring(UNDER_BASE.length())).as(target)
        .doesNotStartWith("/");
    URI location = redirect.locationUri();
    assertThat(location.getScheme()).isEqualTo("https");
    assertThat(location.getRawAuthority()).as(target).isEqualTo("cdn.example.com");
    assertThat(location.normalize().getRawPath()).as(target).startsWith("/assets/");
  }

  @Test
  void theRouterRefusesTheTargetsItCannotNormalizeSafely() {
    OffloadRouter router = router(CdnStrategy.redirect(BASE));
    for (String target : List.of("/..%2fevil.com", "/%5cevil.com", "/a%0d%0aSet-Cookie:%20x=1",
        "/%2e%2e/x", "/\\evil.com")) {
      assertThat(router.decide(OffloadRequest.get(target).build())).as(target)
          .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.status()).isEqualTo(400));
    }
  }

  @Test
  void repeatedSlashesAreMergedUnderTheBase() {
    Decision.Redirect r = (Decision.Redirect) router(CdnStrategy.redirect(BASE))
        .decide(OffloadRequest.get("//evil.com/x.css?v=1").build());
    assertThat(r.location()).isEqualTo("https://cdn.example.com/assets/evil.com/x.css?v=1");
  }

  @Test
  void keepsTheClientsEscapesAndEncodesNonAscii() {
    Decision.Redirect r = (Decision.Redirect) router(CdnStrategy.redirect(BASE))
        .decide(OffloadRequest.get("/img/a%20b%2Cc/caf\u00e9.png").build());
    assertThat(r.location()).isEqualTo("https://cdn.example.com/assets/img/a%20b%2Cc/caf%C3%A9.png");
  }

  @Test
  void defaultsTo302WithAShortPublicCacheControl() {
    Decision.Redirect r = (Decision.Redirect) router(CdnStrategy.redirect(BASE))
        .decide(OffloadRequest.get("/app.css").build());
    assertThat(r.status()).isEqualTo(302);
    assertThat(r.headers()).isEqualTo(Headers.of("Cache-Control", "public, max-age=300"));
  }

  @ParameterizedTest
  @ValueSource(ints = {301, 302, 307, 308})
  void answersWithTheConfiguredStatus(int status) {
    Decision.Redirect r = (Decision.Redirect) router(CdnStrategy.redirect(BASE).status(status))
        .decide(OffloadRequest.get("/app.css").build());
    assertThat(r.status()).isEqualTo(status);
  }

  @ParameterizedTest
  @ValueSource(ints = {200, 300, 303, 304, 399, 404})
  void refusesOtherStatusesNamingThem(int status) {
    assertThatThrownBy(() -> CdnStrategy.redirect(BASE).status(status))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("status").hasMessageContaining(String.valueOf(status));
  }

  @Test
  void settersReturnNewInstancesAndLeaveTheOriginalAlone() {
    CdnRedirect plain = CdnStrategy.redirect(BASE);
    CdnRedirect moved = plain.status(301);
    assertThat(moved).isNotSameAs(plain);
    Decision.Redirect r = (Decision.Redirect) router(plain).decide(OffloadRequest.get("/a").build());
    assertThat(r.status()).isEqualTo(302);
  }

  @Test
  void cachePolicyOfTheRedirectIsConfigurableAndCanBeNone() {
    CachePolicy minute = CachePolicy.builder().publicCache().maxAge(Duration.ofMinutes(1)).build();
    Decision.Redirect r = (Decision.Redirect) router(CdnStrategy.redirect(BASE).cachePolicy(minute))
        .decide(OffloadRequest.get("/a").build());
    assertThat(r.headers().first("Cache-Control")).hasValue("public, max-age=60");

    Decision.Redirect none = (Decision.Redirect) router(
        CdnStrategy.redirect(BASE).cachePolicy(CachePolicy.builder().build()))
        .decide(OffloadRequest.get("/a").build());
    assertThat(none.headers().size()).isZero();
  }

  @Test
  void guardHeadersAreKeptNextToTheCacheControl() {
    OffloadRouter router = OffloadRouter.builder()
        .guard("id", (request, context) -> GuardVerdict.admit()
            .withResponseHeaders(Headers.of("X-Request-Id", "7")))
        .route(Route.prefix("/"), CdnStrategy.redirect(BASE))
        .build();
    Decision.Redirect r = (Decision.Redirect) router.decide(OffloadRequest.get("/a").build());
    assertThat(r.headers().first("Cache-Control")).hasValue("public, max-age=300");
    assertThat(r.headers().first("X-Request-Id")).hasValue("7");
  }

  @Test
  void fingerprintedRedirectsAManifestEntryToItsImmutableUrl() {
    AssetManifest manifest = AssetManifest.of(Map.of(
        "/assets/app.css", "/assets/app.3f2a9c1b.css",
        "/assets/my logo.png", "/assets/my logo.0badcafe.png"));
    OffloadRouter router = router(
        CdnStrategy.redirect(URI.create("https://cdn.example.com")).fingerprinted(manifest));

    Decision.Redirect css = (Decision.Redirect) router.decide(
        OffloadRequest.get("/assets/app.css?v=2").build());
    assertThat(css.location()).isEqualTo("https://cdn.example.com/assets/app.3f2a9c1b.css?v=2");
    assertThat(css.headers().first("Cache-Control")).hasValue("public, max-age=300");

    Decision.Redirect logo = (Decision.Redirect) router.decide(
        OffloadRequest.get("/assets/my%20logo.png").build());
    assertThat(logo.location()).isEqualTo("https://cdn.example.com/assets/my%20logo.0badcafe.png");
  }

  @Test
  void pathNotInTheManifestIsRedirectedToThePlainPath() {
    AssetManifest manifest = AssetManifest.of(Map.of("/assets/app.css", "/assets/app.3f2a9c1b.css"));
    OffloadRouter router = router(CdnStrategy.redirect(BASE).fingerprinted(manifest));
    Decision.Redirect r = (Decision.Redirect) router.decide(OffloadRequest.get("/assets/new.js").build());
    assertThat(r.location()).isEqualTo("https://cdn.example.com/assets/assets/new.js");
    assertThat(router.explain(OffloadRequest.get("/assets/new.js").build()).toString())
        .contains("cdn.fingerprinted=false");
    assertThat(router.explain(OffloadRequest.get("/assets/app.css").build()).toString())
        .contains("cdn.fingerprinted=true");
  }

  @Test
  void baseWithUserInfoIsRefusedAtBuild() {
    assertThatThrownBy(() -> CdnStrategy.redirect(URI.create("https://user:secret@cdn.example.com")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CDN base").hasMessageContaining("user info");
    assertThatThrownBy(() -> CdnStrategy.redirectTo(URI.create("https://u@cdn.example.com")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AssetManifest.of(Map.of()).urls(URI.create("https://u@cdn.example.com")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void baseMustBeAbsoluteHttpWithoutQueryOrFragment() {
    for (String bad : List.of("/relative", "ftp://cdn.example.com", "https://cdn.example.com/?x=1",
        "https://cdn.example.com/#f", "javascript:alert(1)")) {
      assertThatThrownBy(() -> CdnStrategy.redirect(URI.create(bad))).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bad);
    }
  }

  @Test
  void redirectToStillWorksAndDescribesItself() {
    CdnRedirect legacy = CdnStrategy.redirectTo(URI.create("https://cdn.example.com/"));
    Decision.Redirect r = (Decision.Redirect) router(legacy).decide(OffloadRequest.get("/a.css").build());
    assertThat(r.location()).isEqualTo("https://cdn.example.com/a.css");
    assertThat(legacy.describe()).isEqualTo("CdnStrategy.redirectTo(https://cdn.example.com/)");
    assertThat(CdnStrategy.redirect(BASE).status(301).describe())
        .isEqualTo("CdnStrategy.redirect(https://cdn.example.com/assets).status(301)");
  }
}
