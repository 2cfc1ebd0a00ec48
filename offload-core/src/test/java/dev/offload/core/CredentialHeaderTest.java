package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class CredentialHeaderTest {

  private static OffloadRouter guardedBy(Guard guard) {
    return OffloadRouter.builder()
        .guard("credential", guard)
        .otherwise(OffloadStrategy.passThrough())
        .build();
  }

  @Test
  void requireHeaderRefusesARepeatedHeaderWith400() {
    OffloadRouter router = guardedBy(Guard.requireHeader("X-Api-Key"));
    OffloadRequest twice = OffloadRequest.get("/a")
        .header("X-Api-Key", "k-good")
        .header("x-api-key", "k-other")
        .build();
    assertThat(router.decide(twice)).isInstanceOfSatisfying(Decision.Reject.class, r -> {
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.reason()).isEqualTo("repeated X-Api-Key header");
    });
  }

  @Test
  void requireHeaderAdmitsASingleHeaderEvenWhenItsValueIsACommaList() {
    OffloadRouter router = guardedBy(Guard.requireHeader("X-Api-Key"));
    assertThat(router.decide(OffloadRequest.get("/a").header("X-Api-Key", "k-good").build()))
        .isInstanceOf(Decision.PassThrough.class);
    assertThat(router.decide(OffloadRequest.get("/a").header("X-Api-Key", "k1, k2").build()))
        .isInstanceOf(Decision.PassThrough.class);
  }

  @Test
  void requireHeaderDeniesAMissingHeaderWith401() {
    OffloadRouter router = guardedBy(Guard.requireHeader("X-Api-Key"));
    assertThat(router.decide(OffloadRequest.get("/a").header("X-Other", "1").build()))
        .isInstanceOfSatisfying(Decision.Reject.class, r -> {
          assertThat(r.status()).isEqualTo(401);
          assertThat(r.reason()).isEqualTo("missing X-Api-Key header");
        });
  }

  @Test
  void checkHandsTheOneValueOnAndNeverARepeatedOne() {
    CredentialHeader apiKey = CredentialHeader.named("X-Api-Key");
    List<String> seen = new ArrayList<>();
    Function<String, GuardVerdict> lookup = key -> {
      seen.add(key);
      return key.equals("k-good") ? GuardVerdict.admit() : GuardVerdict.deny(401, "unknown key");
    };
    OffloadRequest once = OffloadRequest.get("/a").header("X-API-KEY", "k-good").build();
    OffloadRequest twice = OffloadRequest.get("/a")
        .header("X-Api-Key", "k-good")
        .header("X-Api-Key", "k-evil")
        .build();
    OffloadRequest none = OffloadRequest.get("/a").build();

    assertThat(apiKey.check(once, lookup).admitted()).isTrue();
    assertThat(apiKey.check(twice, lookup).rejection()).hasValueSatisfying(r -> {
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.reason()).isEqualTo("repeated X-Api-Key header");
    });
    assertThat(apiKey.check(none, lookup).rejection())
        .hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(401));
    assertThat(seen).containsExactly("k-good");

    assertThat(apiKey.value(once)).hasValue("k-good");
    assertThat(apiKey.value(twice)).isEmpty();
    assertThat(apiKey.value(none)).isEmpty();
  }

  @Test
  void aRepeatedAuthorizationHeaderIsRefusedBeforeTheTokenIsRead() {
    CredentialHeader authorization = CredentialHeader.named("Authorization");
    OffloadRouter router = guardedBy((request, context) -> authorization.check(request,
        token -> token.equals("Bearer good") ? GuardVerdict.admit() : GuardVerdict.deny(401, "no")));
    OffloadRequest smuggled = OffloadRequest.get("/a")
        .header("Authorization", "Bearer good")
        .header("Authorization", "Bearer other-user")
        .build();
    assertThat(router.decide(smuggled)).isInstanceOfSatisfying(Decision.Reject.class,
        r -> assertThat(r.reason()).isEqualTo("repeated Authorization header"));
  }

  @Test
  void nameMustNotBeBlank() {
    assertThatThrownBy(() -> CredentialHeader.named(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("name");
    assertThatThrownBy(() -> Guard.requireHeader(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("headerName");
  }

  @Test
  void headersCountFieldsCaseInsensitively() {
    Headers headers = Headers.of("X-Api-Key", "a", "Accept", "*/*", "x-api-key", "b");
    assertThat(headers.count("X-API-KEY")).isEqualTo(2);
    assertThat(headers.count("accept")).isEqualTo(1);
    assertThat(headers.count("Authorization")).isZero();
  }
}
