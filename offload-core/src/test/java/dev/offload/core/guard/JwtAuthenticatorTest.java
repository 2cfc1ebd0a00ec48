package dev.offload.core.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetSequenceKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JwtAuthenticatorTest {
  private static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");
  private static final String ISS = "https://id.example.com/";
  private static final String AUD = "orders-api";
  private static RSAKey rsa;
  private static ECKey ec;
  private static OctetSequenceKey hmac;

  private final MovableClock clock = new MovableClock(T0);

  @BeforeAll
  static void keys() throws Exception {
    rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    hmac = new OctetSequenceKeyGenerator(256).keyID("hs-1").generate();
  }

  /** A wall clock the test moves; no sleeping. */
  static final class MovableClock extends Clock {
    private Instant now;

    MovableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private static JWTClaimsSet.Builder claims() {
    return new JWTClaimsSet.Builder().subject("alice").issuer(ISS).audience(AUD)
        .issueTime(Date.from(T0)).expirationTime(Date.from(T0.plusSeconds(300)))
        .claim("scope", "orders:read orders:write");
  }

  private static String sign(JWSSigner signer, JWSAlgorithm alg, String kid, JWTClaimsSet claims)
      throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  private static String rs256(JWTClaimsSet claims) throws Exception {
    return sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, "rsa-1", claims);
  }

  private JwtAuthenticator.Builder authenticator(JwkSetSource keys) {
    return JwtAuthenticator.builder(keys).algorithms("RS256", "ES256", "HS256")
        .issuer(ISS).audience(AUD).clock(clock);
  }

  private JwkSetSource allKeys() {
    return JwkSetSource.of(new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK(), hmac)));
  }

  private OffloadRouter router(Authenticator authenticator,
      UnaryOperator<AuthenticationGuard.Builder> config) {
    return OffloadRouter.builder()
        .guard("jwt", config.apply(AuthenticationGuard.builder(authenticator)).build())
        .otherwise(OffloadStrategy.passThrough())
        .build();
  }

  private Decision decide(Authenticator authenticator, String token) {
    return router(authenticator, b -> b).decide(
        OffloadRequest.get("/orders").header("Authorization", "Bearer " + token).build());
  }

  private static void assertRejected(Decision decision, int status, String reason) {
    assertThat(decision).isInstanceOfSatisfying(Decision.Reject.class, r -> {
      assertThat(r.status()).isEqualTo(status);
      assertThat(r.reason()).isEqualTo(reason);
      if (status == 401) {
        assertThat(r.headers().first("WWW-Authenticate").orElseThrow()).startsWith("Bearer ");
      }
    });
  }

  private static Identity identityOf(Decision decision) {
    assertThat(decision).isInstanceOf(Decision.PassThrough.class);
    return (Identity) ((Decision.PassThrough) decision).handle().attributes().get(Identity.KEY);
  }

  @Test
  void validTokensSignedWithRs256Es256AndHs256AreAdmittedWithTheirIdentity() throws Exception {
    JwtAuthenticator jwt = authenticator(allKeys()).build();
    List<String> tokens = List.of(
        rs256(claims().build()),
        sign(new ECDSASigner(ec), JWSAlgorithm.ES256, "ec-1", claims().build()),
        sign(new MACSigner(hmac), JWSAlgorithm.HS256, "hs-1", claims().build()));
    for (String token : tokens) {
      Identity identity = identityOf(decide(jwt, token));
      assertThat(identity.subject()).isEqualTo("alice");
      assertThat(identity.scopes()).containsExactly("orders:read", "orders:write");
      assertThat(identity.claims()).containsEntry("iss", ISS);
    }
  }

  @Test
  void expiredTokenIsRefusedOnceTheSkewHasPassed() throws Exception {
    JwtAuthenticator jwt = authenticator(allKeys()).clockSkew(Duration.ofSeconds(30)).build();
    String token = rs256(claims().build()); // exp = T0 + 300 s
    clock.advance(Duration.ofSeconds(329));
    assertThat(decide(jwt, token)).isInstanceOf(Decision.PassThrough.class);
    clock.advance(Duration.ofSeconds(2));
    assertRejected(decide(jwt, token), 401, "token expired");
  }

  @Test
  void notYetValidTokenIsRefusedUntilWithinTheSkew() throws Exception {
    JwtAuthenticator jwt = authenticator(allKeys()).clockSkew(Duration.ofSeconds(30)).build();
    String token = rs256(claims().notBeforeTime(Date.from(T0.plusSeconds(60))).build());
    assertRejected(decide(jwt, token), 401, "token not yet valid");
    clock.advance(Duration.ofSeconds(31));
    assertThat(decide(jwt, token)).isInstanceOf(Decision.PassThrough.class);
  }

  @Test
  void tokenWithoutExpIsRefused() throws Exception {
    JwtAuthenticator jwt = authenticator(allKeys()).build();
    assertRejected(decide(jwt, rs256(claims().expirationTime(null).build())), 401,
        "token has no exp");
  }

  @Test
  void wrongIssuerOrAudienceIsRefused() throws Exception {
    JwtAuthenticator jwt = authenticator(allKeys()).build();
    assertRejected(decide(jwt, rs256(claims().issuer("https://evil.example/").build())), 401,
        "wrong token issuer");
    assertRejected(decide(jwt, rs256(claims().audience("billing-api").build())), 401,
        "wrong token audience");
  }

  @Test
  void algNoneIsRefused() {
    JwtAuthenticator jwt = authenticator(allKeys()).build();
    String unsecured = new PlainJWT(claims().build()).serialize();
    assertRejected(decide(jwt, unsecured), 401, "malformed token");
  }

  @Test
  void hs256SignedWithTheRsaPublicKeyIsRefusedWhenOnlyRs256IsConfigured() throws Exception {
    JwtAuthenticator jwt = JwtAuthenticator.builder(JwkSetSource.of(new JWKSet(rsa.toPublicJWK())))
        .algorithms("RS256").issuer(ISS).audience(AUD).clock(clock).build();
    byte[] publicKeyAsSecret = rsa.toRSAPublicKey().getEncoded();
    String forged = sign(new MACSigner(publicKeyAsSecret), JWSAlgorithm.HS256, "rsa-1",
        claims().build());
    assertRejected(decide(jwt, forged), 401, "token algorithm not accepted");
  }

  @Test
  void hs256IsNeverVerifiedWithAnRsaKeyEvenWhenBothAlgorithmsAreConfigured() throws Exception {
    JwtAuthenticator jwt = JwtAuthenticator.builder(JwkSetSource.of(new JWKSet(rsa.toPublicJWK())))
        .algorithms("RS256", "HS256").issuer(ISS).audience(AUD).clock(clock).build();
    String forged = sign(new MACSigner(rsa.toRSAPublicKey().getEncoded()), JWSAlgorithm.HS256,
        "rsa-1", claims().build());
    assertRejected(decide(jwt, forged), 401, "no key for the token");
  }

  @Test
  void badSignatureIsRefused() throws Exception {
    RSAKey other = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    JwtAuthenticator jwt = authenticator(allKeys()).build();
    String token = sign(new RSASSASigner(other), JWSAlgorithm.RS256, "rsa-1", claims().build());
    assertRejected(decide(jwt, token), 401, "invalid token signature");
  }

  @Test
  void unknownKidIsReportedToTheSourceAndRefused() throws Exception {
    List<String> reported = new ArrayList<>();
    JwkSetSource source = new JwkSetSource() {
      @Override
      public JWKSet current() {
        return new JWKSet(rsa.toPublicJWK());
      }

      @Override
      public void unknownKeyId(String kid) {
        reported.add(kid);
      }
    };
    JwtAuthenticator jwt = authenticator(source).build();
    String token = sign(new ECDSASigner(ec), JWSAlgorithm.ES256, "ec-1", claims().build());
    assertRejected(decide(jwt, token), 401, "no key for the token");
    assertThat(reported).containsExactly("ec-1");
  }

  @Test
  void missingBearerIs401WithChallengeAndRepeatedAuthorizationIs400() {
    OffloadRouter router = router(authenticator(allKeys()).build(), b -> b);
    Decision missing = router.decide(OffloadRequest.get("/orders").build());
    assertThat(missing).isInstanceOfSatisfying(Decision.Reject.class, r -> {
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.headers().first("WWW-Authenticate")).hasValue("Bearer realm=\"api\"");
    });
    Decision basic = router.decide(
        OffloadRequest.get("/orders").header("Authorization", "Basic YTpi").build());
    assertThat(basic).isInstanceOfSatisfying(Decision.Reject.class,
        r -> assertThat(r.status()).isEqualTo(401));
    Decision repeated = router.decide(OffloadRequest.get("/orders")
        .header("Authorization", "Bearer a").header("Authorization", "Bearer b").build());
    assertRejected(repeated, 400, "repeated Authorization header");
  }

  @Test
  void authenticatedWithoutTheRequiredScopeIs403() throws Exception {
    OffloadRouter router = router(authenticator(allKeys()).build(),
        b -> b.requireScopes(Route.prefix("/admin"), "admin"));
    String token = rs256(claims().build());
    Decision decision = router.decide(
        OffloadRequest.get("/admin/users").header("Authorization", "Bearer " + token).build());
    assertRejected(decision, 403, "insufficient scope: admin");
    String admin = rs256(claims().claim("scope", List.of("admin")).build());
    assertThat(router.decide(
        OffloadRequest.get("/admin/users").header("Authorization", "Bearer " + admin).build()))
        .isInstanceOf(Decision.PassThrough.class);
  }

  @Test
  void builderRefusesNoneNoAlgorithmsAndAnUnboundedSkew() {
    assertThatThrownBy(() -> JwtAuthenticator.builder(allKeys()).algorithms("none"))
        .hasMessageContaining("algorithms").hasMessageContaining("none");
    assertThatThrownBy(() -> JwtAuthenticator.builder(allKeys()).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("algorithms");
    assertThatThrownBy(() -> JwtAuthenticator.builder(allKeys()).clockSkew(Duration.ofHours(1)))
        .hasMessageContaining("clockSkew").hasMessageContaining("PT1H");
  }

  @Test
  void tokenNeverAppearsInTheExplanation() throws Exception {
    String token = rs256(claims().build());
    String explained = router(authenticator(allKeys()).build(), b -> b).explain(
        OffloadRequest.get("/orders").header("Authorization", "Bearer " + token).build())
        .toString();
    assertThat(explained).doesNotContain(token.substring(token.lastIndexOf('.') + 1));
  }
}
