package dev.offload.http.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.OctetSequenceKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.guard.AuthenticationGuard;
import dev.offload.core.guard.JwtAuthenticator;
import dev.offload.core.testing.FakeTicker;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Date;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RemoteJwkSetTest {
  private final MockWebServer issuer = new MockWebServer();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  /** Refreshes asked for by unknown kids wait here until the test runs them. */
  private final Queue<Runnable> refreshes = new ArrayDeque<>();
  private final FakeTicker ticker = new FakeTicker();
  private RSAKey first;
  private RSAKey second;

  @BeforeEach
  void start() throws Exception {
    issuer.start();
    first = new RSAKeyGenerator(2048).keyID("k1").generate();
    second = new RSAKeyGenerator(2048).keyID("k2").generate();
  }

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
    issuer.close();
  }

  private void serve(JWKSet set) {
    issuer.enqueue(new MockResponse.Builder().code(200)
        .addHeader("Content-Type", "application/jwk-set+json")
        .body(set.toString(false)).build());
  }

  private RemoteJwkSet keys() {
    return RemoteJwkSet.builder(URI.create(issuer.url("/jwks.json").toString()))
        .scheduler(scheduler)
        .refreshExecutor(refreshes::add)
        .ticker(ticker)
        .minRefreshInterval(Duration.ofSeconds(30))
        .build();
  }

  private static String token(RSAKey key) throws Exception {
    Instant now = Instant.now();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
        .build(), new JWTClaimsSet.Builder().subject("alice")
        .expirationTime(Date.from(now.plusSeconds(300))).build());
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static OffloadRouter router(RemoteJwkSet keys) {
    return OffloadRouter.builder()
        .guard("jwt", AuthenticationGuard.of(
            JwtAuthenticator.builder(keys).algorithms("RS256").build()))
        .otherwise(OffloadStrategy.passThrough())
        .build();
  }

  private static Decision decide(OffloadRouter router, String token) {
    return router.decide(
        OffloadRequest.get("/x").header("Authorization", "Bearer " + token).build());
  }

  private void runRefreshes() {
    while (!refreshes.isEmpty()) {
      refreshes.poll().run();
    }
  }

  @Test
  void unknownKidAfterRotationRefreshesInTheBackgroundAtMostOncePerInterval() throws Exception {
    RemoteJwkSet keys = keys();
    serve(new JWKSet(first.toPublicJWK()));
    keys.refresh();
    OffloadRouter router = router(keys);
    assertThat(decide(router, token(first))).isInstanceOf(Decision.PassThrough.class);

    serve(new JWKSet(List.of(first.toPublicJWK(), second.toPublicJWK()))); // the issuer rotates
    String rotated = token(second);
    assertThat(decide(router, rotated)).isInstanceOf(Decision.Reject.class);
    assertThat(decide(router, rotated)).isInstanceOf(Decision.Reject.class);
    assertThat(refreshes).hasSize(1); // decide asked once and fetched nothing itself
    assertThat(issuer.getRequestCount()).isEqualTo(1);

    runRefreshes();
    assertThat(issuer.getRequestCount()).isEqualTo(2);
    assertThat(decide(router, rotated)).isInstanceOf(Decision.PassThrough.class);

    RSAKey third = new RSAKeyGenerator(2048).keyID("k3").generate();
    assertThat(decide(router, token(third))).isInstanceOf(Decision.Reject.class);
    assertThat(refreshes).isEmpty(); // within 30 s of the last one
    ticker.advance(30, TimeUnit.SECONDS);
    assertThat(decide(router, token(third))).isInstanceOf(Decision.Reject.class);
    assertThat(refreshes).hasSize(1);
  }

  @Test
  void failedFetchKeepsTheKeysHeld() throws Exception {
    RemoteJwkSet keys = keys();
    serve(new JWKSet(first.toPublicJWK()));
    keys.refresh();
    issuer.enqueue(new MockResponse.Builder().code(503).build());
    assertThatThrownBy(keys::refresh).isInstanceOf(IOException.class).hasMessageContaining("503");
    issuer.enqueue(new MockResponse.Builder().code(200).body("{not json").build());
    assertThatThrownBy(keys::refresh).isInstanceOf(IOException.class);
    assertThat(keys.current().getKeyByKeyId("k1")).isNotNull();
  }

  @Test
  void symmetricKeysAndPrivatePartsFromTheUrlAreDropped() throws Exception {
    OctetSequenceKey secret = new OctetSequenceKeyGenerator(256).keyID("hs").generate();
    RemoteJwkSet keys = keys();
    issuer.enqueue(new MockResponse.Builder().code(200)
        .body(new JWKSet(List.of(first, secret)).toString(false)).build());
    keys.refresh();
    assertThat(keys.current().getKeyByKeyId("hs")).isNull();
    assertThat(keys.current().getKeyByKeyId("k1").isPrivate()).isFalse();
  }

  @Test
  void startFetchesOnTheScheduler() throws Exception {
    serve(new JWKSet(first.toPublicJWK()));
    try (RemoteJwkSet keys = keys().start()) {
      assertThat(issuer.takeRequest(10, TimeUnit.SECONDS)).isNotNull();
      // the request was taken; wait for the scheduler to finish the refresh it belongs to
      scheduler.submit(() -> { }).get(10, TimeUnit.SECONDS);
      assertThat(keys.current().getKeyByKeyId("k1")).isNotNull();
    }
  }

  @Test
  void builderRequiresASchedulerAndNamesBadSettings() {
    URI uri = URI.create("https://id.example.com/jwks");
    assertThatThrownBy(() -> RemoteJwkSet.builder(uri).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("scheduler");
    assertThatThrownBy(() -> RemoteJwkSet.builder(uri).refreshInterval(Duration.ofMillis(5)))
        .hasMessageContaining("refreshInterval").hasMessageContaining("PT0.005S");
    assertThatThrownBy(() -> RemoteJwkSet.builder(URI.create("ftp://x/jwks")))
        .hasMessageContaining("ftp://x/jwks");
  }
}
