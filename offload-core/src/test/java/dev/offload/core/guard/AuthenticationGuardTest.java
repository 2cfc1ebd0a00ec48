package dev.offload.core.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AuthenticationGuardTest {
  private static final Identity ALICE = Identity.of("alice", Set.of("orders:read"));
  private static final Identity ADMIN = Identity.of("root", Set.of("orders:read", "admin"));
  private static final Backend API = Backend.of("api", URI.create("http://127.0.0.1:9"));

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static ApiKeyAuthenticator keys() {
    return ApiKeyAuthenticator.inHeader("X-Api-Key")
        .key("k-alice", ALICE)
        .key("k-root", ADMIN)
        .build();
  }

  private OffloadRouter router(AuthenticationGuard guard) {
    return OffloadRouter.builder()
        .guard("auth", guard)
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(API))
        .otherwise(OffloadStrategy.passThrough())
        .build();
  }

  private AuthenticationGuard guard() {
    return AuthenticationGuard.builder(keys())
        .requireScopes(Route.prefix("/api/admin"), "admin")
        .meterRegistry(registry)
        .build();
  }

  private double count(String result) {
    var counter = registry.find("offload.guard.decisions").tag("guard", "auth")
        .tag("result", result).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void forwardCarriesTheIdentityHeadersAndTheIdentityAttribute() {
    Decision decision = router(guard()).decide(
        OffloadRequest.get("/api/orders").header("X-Api-Key", "k-alice").build());
    assertThat(decision).isInstanceOfSatisfying(Decision.Forward.class, f -> {
      assertThat(f.handle().requestHeaders().first("X-Auth-Subject")).hasValue("alice");
      assertThat(f.handle().requestHeaders().first("X-Auth-Scopes")).hasValue("orders:read");
      assertThat(f.handle().attributes()).containsEntry(Identity.KEY, ALICE);
    });
    assertThat(count("admitted")).isEqualTo(1);
  }

  @Test
  void passThroughCarriesTheIdentityAttributeForTheHost() {
    Decision decision = router(guard()).decide(
        OffloadRequest.get("/home").header("X-Api-Key", "k-root").build());
    assertThat(decision).isInstanceOfSatisfying(Decision.PassThrough.class,
        p -> assertThat(p.handle().attributes()).containsEntry(Identity.KEY, ADMIN));
  }

  @Test
  void missingKeyIs401WithAChallenge() {
    Decision decision = router(guard()).decide(OffloadRequest.get("/api/orders").build());
    assertThat(decision).isInstanceOfSatisfying(Decision.Reject.class, r -> {
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.headers().first("WWW-Authenticate"))
          .hasValue("ApiKey realm=\"api\", header=\"X-Api-Key\"");
    });
    assertThat(count("unauthenticated")).isEqualTo(1);
  }

  @Test
  void wrongKeyIs401AndNeverEchoesTheKey() {
    Decision decision = router(guard()).decide(
        OffloadRequest.get("/api/orders").header("X-Api-Key", "k-guess").build());
    assertThat(decision).isInstanceOfSatisfying(Decision.Reject.class, r -> {
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.reason()).doesNotContain("k-guess");
      assertThat(r.headers().contains("WWW-Authenticate")).isTrue();
    });
    assertThat(count("invalid")).isEqualTo(1);
  }

  @Test
  void repeatedKeyHeaderIs400() {
    Decision decision = router(guard()).decide(OffloadRequest.get("/api/orders")
        .header("X-Api-Key", "k-alice").header("x-api-key", "k-root").build());
    assertThat(decision).isInstanceOfSatisfying(Decision.Reject.class,
        r -> assertThat(r.status()).isEqualTo(400));
  }

  @Test
  void authenticatedWithoutTheRouteScopeIs403() {
    OffloadRouter router = router(guard());
    assertThat(router.decide(
        OffloadRequest.get("/api/admin/users").header("X-Api-Key", "k-alice").build()))
        .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.status()).isEqualTo(403));
    assertThat(router.decide(
        OffloadRequest.get("/api/admin/users").header("X-Api-Key", "k-root").build()))
        .isInstanceOf(Decision.Forward.class);
    assertThat(count("forbidden")).isEqualTo(1);
  }

  @Test
  void explainingCountsNothing() {
    router(guard()).explain(OffloadRequest.get("/api/orders").header("X-Api-Key", "k-alice")
        .build());
    assertThat(count("admitted")).isZero();
  }

  @Test
  void keyInAQueryParameterAndItsRepetition() {
    OffloadRouter router = router(AuthenticationGuard.of(
        ApiKeyAuthenticator.inQueryParameter("api_key").key("k-alice", ALICE).build()));
    assertThat(router.decide(OffloadRequest.get("/api/x?api_key=k-alice").build()))
        .isInstanceOf(Decision.Forward.class);
    assertThat(router.decide(OffloadRequest.get("/api/x?api_key=k-alice&api_key=x").build()))
        .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.status()).isEqualTo(400));
    assertThat(router.decide(OffloadRequest.get("/api/x").build()))
        .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.status()).isEqualTo(401));
  }

  @Test
  void keyDigestAcceptsTheKeyWhoseDigestIsConfigured() {
    ApiKeyAuthenticator keys = ApiKeyAuthenticator.inHeader("X-Api-Key")
        .keyDigest(ApiKeyAuthenticator.digestOf("k-batch"), ALICE).build();
    assertThat(router(AuthenticationGuard.of(keys)).decide(
        OffloadRequest.get("/api/x").header("X-Api-Key", "k-batch").build()))
        .isInstanceOf(Decision.Forward.class);
    assertThat(keys.toString()).doesNotContain("k-batch")
        .doesNotContain(ApiKeyAuthenticator.digestOf("k-batch"));
  }

  @Test
  void builderErrorsNameTheSettingAndNeverTheKey() {
    assertThatThrownBy(() -> ApiKeyAuthenticator.inHeader("X-Api-Key")
        .key("s3cret", ALICE).key("s3cret", ADMIN))
        .hasMessageContaining("same key").hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> ApiKeyAuthenticator.inHeader("X-Api-Key").keyDigest("abc", ALICE))
        .hasMessageContaining("keyDigest");
    assertThatThrownBy(() -> AuthenticationGuard.builder(keys()).subjectHeader("X_Auth_User"))
        .hasMessageContaining("subjectHeader").hasMessageContaining("X_Auth_User");
    assertThatThrownBy(() -> ApiKeyAuthenticator.inHeader("X-Api-Key").build())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void customAuthenticatorForbiddenIs403() {
    OffloadRouter router = router(AuthenticationGuard.of(
        (request, context) -> AuthResult.forbidden("suspended account")));
    assertThat(router.decide(OffloadRequest.get("/api/x").build()))
        .isInstanceOfSatisfying(Decision.Reject.class, r -> {
          assertThat(r.status()).isEqualTo(403);
          assertThat(r.reason()).isEqualTo("suspended account");
        });
  }
}
