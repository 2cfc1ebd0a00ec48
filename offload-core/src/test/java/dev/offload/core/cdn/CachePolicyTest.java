package dev.offload.core.cdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Decision;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import java.time.Duration;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CachePolicyTest {
  private static final OffloadRequest DOC = OffloadRequest.get("/docs/guide/intro").build();

  @Test
  void rendersOneCacheControlInAFixedOrder() {
    CachePolicy policy = CachePolicy.builder()
        .noTransform()
        .staleIfError(Duration.ofDays(1))
        .staleWhileRevalidate(Duration.ofSeconds(30))
        .sMaxAge(Duration.ofHours(1))
        .maxAge(Duration.ofMillis(300_999))
        .publicCache()
        .build();
    assertThat(policy.cacheControl()).hasValue(
        "public, max-age=300, s-maxage=3600, stale-while-revalidate=30, stale-if-error=86400, "
            + "no-transform");
    assertThat(policy.headers(DOC)).isEqualTo(Headers.of("Cache-Control", policy.cacheControl().get()));
  }

  @Test
  void privateReplacesPublicAndZeroIsAValue() {
    assertThat(CachePolicy.builder().publicCache().privateCache().maxAge(Duration.ZERO).build()
        .cacheControl()).hasValue("private, max-age=0");
  }

  @Test
  void immutablePresetIsForFingerprintedFiles() {
    assertThat(CachePolicy.immutable().cacheControl())
        .hasValue("public, max-age=31536000, immutable");
  }

  @Test
  void nothingSetWritesNothing() {
    assertThat(CachePolicy.builder().build().cacheControl()).isEmpty();
    assertThat(CachePolicy.builder().build().headers(DOC).size()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"maxAge", "sMaxAge", "staleWhileRevalidate", "staleIfError"})
  void negativeDurationsAreRefusedNamingTheSetting(String setting) {
    Duration negative = Duration.ofSeconds(-5);
    BiFunction<CachePolicy.Builder, Duration, CachePolicy.Builder> setter = switch (setting) {
      case "maxAge" -> CachePolicy.Builder::maxAge;
      case "sMaxAge" -> CachePolicy.Builder::sMaxAge;
      case "staleWhileRevalidate" -> CachePolicy.Builder::staleWhileRevalidate;
      default -> CachePolicy.Builder::staleIfError;
    };
    assertThatThrownBy(() -> setter.apply(CachePolicy.builder(), negative))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(setting + " must not be negative, got PT-5S");
    assertThatThrownBy(() -> setter.apply(CachePolicy.builder(), null))
        .isInstanceOf(NullPointerException.class).hasMessage(setting);
  }

  @Test
  void privateWithSMaxAgeIsRefused() {
    assertThatThrownBy(() -> CachePolicy.builder().privateCache().sMaxAge(Duration.ofMinutes(1))
        .build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sMaxAge");
  }

  @Test
  void varyIsWrittenOnceCaseInsensitivelyAndMustBeTokens() {
    CachePolicy policy = CachePolicy.builder().vary("Accept-Encoding", "accept-encoding")
        .vary("Accept-Language").build();
    assertThat(policy.headers(DOC).first("Vary")).hasValue("Accept-Encoding, Accept-Language");
    assertThatThrownBy(() -> CachePolicy.builder().vary("Accept Encoding"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'Accept Encoding'");
  }

  @Test
  void tagsAreWrittenAsSurrogateKeyAndCacheTagAndInvalidOnesDropped() {
    CachePolicy policy = CachePolicy.builder().publicCache().maxAge(Duration.ofMinutes(1))
        .tags(request -> List.of("docs", "docs-" + request.path().split("/")[2], "docs",
            "two words", "a,b", "x\"y", ""))
        .build();
    Headers headers = policy.headers(DOC);
    assertThat(headers.first("Surrogate-Key")).hasValue("docs docs-guide");
    assertThat(headers.first("Cache-Tag")).hasValue("docs,docs-guide");
    assertThat(policy.tags(DOC).dropped()).containsExactly("two words", "a,b", "x\"y", "");

    CachePolicy none = CachePolicy.builder().tags(request -> List.of("bad tag")).build();
    assertThat(none.headers(DOC).contains("Surrogate-Key")).isFalse();
    assertThat(none.headers(DOC).contains("Cache-Tag")).isFalse();
  }

  @Test
  void cacheHeadersPassesThroughWithTheHeadersOnTheHandleAndExplainsThem() {
    CachePolicy policy = CachePolicy.builder().publicCache().sMaxAge(Duration.ofHours(1))
        .vary("Accept-Encoding").tags(request -> List.of("docs", "not a tag")).build();
    OffloadRouter router = OffloadRouter.builder()
        .route("docs", Route.get("/docs/**"), CdnStrategy.cacheHeaders(policy))
        .build();

    Decision decision = router.decide(DOC);
    assertThat(decision).isInstanceOfSatisfying(Decision.PassThrough.class, p -> {
      assertThat(p.handle().responseHeaders()).isEqualTo(Headers.of(
          "Cache-Control", "public, s-maxage=3600",
          "Vary", "Accept-Encoding",
          "Surrogate-Key", "docs",
          "Cache-Tag", "docs"));
      p.handle().onSuccess();
    });
    String explained = router.explain(DOC).toString();
    assertThat(explained)
        .contains("CdnStrategy.cacheHeaders(CachePolicy(public, s-maxage=3600; Vary: Accept-Encoding; tagged))")
        .contains("cdn.headers={Cache-Control: public, s-maxage=3600, Vary: Accept-Encoding, "
            + "Surrogate-Key: docs, Cache-Tag: docs}")
        .contains("cdn.tags.dropped=[not a tag]");
  }

  @Test
  void aThrowingTaggingFunctionBecomesA500() {
    OffloadRouter router = OffloadRouter.builder()
        .route(Route.get("/docs/**"), CdnStrategy.cacheHeaders(CachePolicy.builder()
            .tags(request -> { throw new IllegalStateException("boom"); }).build()))
        .build();
    assertThat(router.decide(DOC)).isInstanceOfSatisfying(Decision.Reject.class,
        r -> assertThat(r.status()).isEqualTo(500));
  }

  @Test
  void toBuilderStartsFromThePolicy() {
    CachePolicy longer = CachePolicy.immutable().toBuilder().noTransform().build();
    assertThat(longer.cacheControl()).hasValue("public, max-age=31536000, immutable, no-transform");
    assertThat(CachePolicy.immutable().cacheControl()).hasValue("public, max-age=31536000, immutable");
  }
}
