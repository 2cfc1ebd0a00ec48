package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.offload.core.CredentialHeader;
import dev.offload.core.DecisionContext;
import dev.offload.core.OffloadRequest;
import dev.offload.core.internal.Settings;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Authenticates a JWT bearer token ({@code Authorization: Bearer <jws>}, RFC 6750) with
 * nimbus-jose-jwt: the signature with a key of the configured {@link JwkSetSource}, then {@code
 * exp}, {@code nbf}, {@code iss} and {@code aud}.
 *
 * <pre>{@code
 * Authenticator jwt = JwtAuthenticator.builder(JwkSetSource.of(JWKSet.parse(jwksJson)))
 *     .algorithms("RS256", "ES256")
 *     .issuer("https://id.example.com/")
 *     .audience("orders-api")
 *     .build();
 * Guard guard = AuthenticationGuard.builder(jwt).requireScopes(Route.prefix("/admin"), "admin").build();
 * }</pre>
 *
 * <p><b>Algorithms.</b> Only the configured algorithms are accepted (there is no default: name
 * them); {@code alg: none} never is, and a key is used only for the algorithms of its type, so
 * an RSA public key can never serve as an HMAC secret (the HS/RS confusion).
 *
 * <p><b>Time.</b> {@code exp} and {@code nbf} are wall-clock times, which the router's ticker
 * (monotonic, arbitrary origin) cannot give: they are checked against an injected {@link Clock}
 * (default {@link Clock#systemUTC()}), with a bounded {@link Builder#clockSkew skew}. Tests pass
 * a clock they move.
 *
 * <p><b>Results.</b> No bearer token: missing (401, {@code WWW-Authenticate: Bearer
 * realm="api"}). A token that does not parse, is signed with an algorithm not accepted or an
 * unknown key, has a bad signature, is expired, not yet valid, or has the wrong issuer or
 * audience: invalid (401, {@code error="invalid_token"}). An unknown {@code kid} is reported to
 * the source ({@link JwkSetSource#unknownKeyId}), which may refresh in the background; this
 * request is refused, the next ones see the new keys. A repeated {@code Authorization} header:
 * 400. The identity is the {@code sub} claim, the scopes from the {@link Builder#scopesClaim
 * scopes claim} (a space-separated string or a list), the claims all of them.
 *
 * <p>Never does I/O or blocks. Tokens never appear in messages or logs. Immutable, thread-safe.
 */
public final class JwtAuthenticator implements Authenticator {
  /** The default bound on clock skew for {@code exp} and {@code nbf}: 60 seconds. */
  public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
  /** The largest skew accepted: 5 minutes. */
  public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
  /** The default claim holding the scopes, {@code scope} (RFC 8693 section 4.2). */
  public static final String DEFAULT_SCOPES_CLAIM = "scope";
  /** The default realm in the challenge. */
  public static final String DEFAULT_REALM = "api";
  /** The longest token read, in chars: 8 KiB. */
  public static final int MAX_TOKEN_LENGTH = 8192;

  private static final CredentialHeader AUTHORIZATION = CredentialHeader.named("Authorization");
  private static final Set<JWSAlgorithm> SUPPORTED = Set.of(
      JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512,
      JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
      JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
      JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

  private final JwkSetSource keys;
  private final Set<JWSAlgorithm> algorithms;
  private final String issuer;
  private final String audience;
  private final Duration skew;
  private final Clock clock;
  private final String scopesClaim;
  private final String challenge;
  private final DefaultJWTProcessor<SecurityContext> processor;

  private JwtAuthenticator(Builder b) {
    this.keys = b.keys;
    this.algorithms = Set.copyOf(b.algorithms);
    this.issuer = b.issuer;
    this.audience = b.audience;
    this.skew = b.skew;
    this.clock = b.clock;
    this.scopesClaim = b.scopesClaim;
    this.challenge = "Bearer realm=\"" + b.realm + "\"";
    this.processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms,
        (selector, context) -> selector.select(keys.current())));
    processor.setJWTClaimsSetVerifier((claims, context) -> {}); // checked below, on our clock
  }

  /**
   * Returns a builder of an authenticator that verifies with the keys of {@code keys}.
   *
   * @param keys the keys
   * @return a builder of an authenticator that verifies with the keys of {@code keys}
   */
  public static Builder builder(JwkSetSource keys) {
    return new Builder(requireNonNull(keys, "keys"));
  }

  @Override
  public AuthResult authenticate(OffloadRequest request, DecisionContext context) {
    int count = request.headers().count("Authorization");
    if (count > 1) {
      return AuthResult.malformed("repeated Authorization header");
    }
    Optional<String> header = AUTHORIZATION.value(request);
    if (header.isEmpty() || !header.get().regionMatches(true, 0, "Bearer ", 0, 7)) {
      return AuthResult.missing(challenge);
    }
    String token = header.get().substring(7).strip();
    if (token.isEmpty()) {
      return AuthResult.missing(challenge);
    }
    if (token.length() > MAX_TOKEN_LENGTH) {
      return invalid("token too long");
    }
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException e) { // also alg none: not a JWS header
      return invalid("malformed token");
    }
    JWSHeader jws = jwt.getHeader();
    if (!algorithms.contains(jws.getAlgorithm())) {
      context.note("alg", jws.getAlgorithm());
      return invalid("token algorithm not accepted");
    }
    List<JWK> candidates = new JWKSelector(JWKMatcher.forJWSHeader(jws)).select(keys.current());
    if (candidates.isEmpty()) {
      if (jws.getKeyID() != null && !context.explaining()) {
        keys.unknownKeyId(jws.getKeyID());
      }
      context.note("kid", jws.getKeyID());
      return invalid("no key for the token");
    }
    JWTClaimsSet claims;
    try {
      claims = processor.process(jwt, null);
    } catch (BadJOSEException | JOSEException e) {
      return invalid("invalid token signature");
    }
    return checkClaims(claims, context);
  }

  private AuthResult checkClaims(JWTClaimsSet claims, DecisionContext context) {
    Instant now = clock.instant();
    context.note("now", now);
    Date exp = claims.getExpirationTime();
    if (exp == null) {
      return invalid("token has no exp");
    }
    if (now.isAfter(exp.toInstant().plus(skew))) {
      return invalid("token expired");
    }
    Date nbf = claims.getNotBeforeTime();
    if (nbf != null && now.isBefore(nbf.toInstant().minus(skew))) {
      return invalid("token not yet valid");
    }
    if (issuer != null && !issuer.equals(claims.getIssuer())) {
      return invalid("wrong token issuer");
    }
    if (audience != null && !claims.getAudience().contains(audience)) {
      return invalid("wrong token audience");
    }
    String subject = claims.getSubject();
    if (subject == null || subject.isBlank()
        || subject.chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
      return invalid("token has no usable sub");
    }
    Set<String> scopes = new LinkedHashSet<>();
    Object claim = claims.getClaim(scopesClaim);
    if (claim instanceof String s) {
      for (String scope : s.split(" ")) {
        if (!scope.isEmpty()) {
          scopes.add(scope);
        }
      }
    } else if (claim instanceof Collection<?> list) {
      for (Object scope : list) {
        if (scope instanceof String s && !s.isEmpty()) {
          scopes.add(s);
        }
      }
    }
    try {
      return AuthResult.authenticated(Identity.of(subject, scopes, claims.getClaims()));
    } catch (IllegalArgumentException e) { // a scope with a comma or whitespace
      return invalid("token scopes are not valid");
    }
  }

  private AuthResult invalid(String reason) {
    return AuthResult.invalid(reason, challenge + ", error=\"invalid_token\"");
  }

  @Override
  public String toString() {
    return "jwt(" + algorithms + (issuer == null ? "" : ", iss=" + issuer)
        + (audience == null ? "" : ", aud=" + audience) + ")";
  }

  /** Builds a {@link JwtAuthenticator}. Not thread-safe. */
  public static final class Builder {
    private final JwkSetSource keys;
    private final Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
    private String issuer;
    private String audience;
    private Duration skew = DEFAULT_CLOCK_SKEW;
    private Clock clock = Clock.systemUTC();
    private String scopesClaim = DEFAULT_SCOPES_CLAIM;
    private String realm = DEFAULT_REALM;

    private Builder(JwkSetSource keys) {
      this.keys = keys;
    }

    /**
     * Sets the accepted JWS algorithms, e.g. {@code RS256}, {@code ES256}, {@code HS256}; only
     * these are accepted. Required.
     *
     * @param names the names
     * @return this builder
     * @throws IllegalArgumentException if one is {@code none} or not a JWS signature algorithm
     */
    public Builder algorithms(String... names) {
      requireNonNull(names, "algorithms");
      algorithms.clear();
      for (String name : names) {
        requireNonNull(name, "algorithm");
        JWSAlgorithm alg = JWSAlgorithm.parse(name);
        if (!SUPPORTED.contains(alg)) {
          throw new IllegalArgumentException("algorithms: '" + name + "' is not accepted; "
              + "use HS256..512, RS256..512, PS256..512 or ES256..512");
        }
        algorithms.add(alg);
      }
      return this;
    }

    /**
     * Requires the {@code iss} claim to equal {@code issuer}. Default: not checked.
     *
     * @param issuer the issuer
     * @return this builder
     */
    public Builder issuer(String issuer) {
      this.issuer = Settings.notBlank("issuer", issuer);
      return this;
    }

    /**
     * Requires the {@code aud} claim to contain {@code audience}. Default: not checked.
     *
     * @param audience the audience
     * @return this builder
     */
    public Builder audience(String audience) {
      this.audience = Settings.notBlank("audience", audience);
      return this;
    }

    /**
     * Sets the clock skew tolerated on {@code exp} and {@code nbf} (default {@link
     * #DEFAULT_CLOCK_SKEW}).
     *
     * @param skew the clock skew tolerated
     * @return this builder
     * @throws IllegalArgumentException if negative or above {@link #MAX_CLOCK_SKEW}
     */
    public Builder clockSkew(Duration skew) {
      requireNonNull(skew, "clockSkew");
      if (skew.isNegative() || skew.compareTo(MAX_CLOCK_SKEW) > 0) {
        throw new IllegalArgumentException(
            "clockSkew must be between 0 and " + MAX_CLOCK_SKEW + ", was " + skew);
      }
      this.skew = skew;
      return this;
    }

    /**
     * Sets the wall clock for {@code exp} and {@code nbf} (default {@link Clock#systemUTC()}).
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets the claim holding the scopes or roles (default {@value #DEFAULT_SCOPES_CLAIM}).
     *
     * @param claim the claim
     * @return this builder
     */
    public Builder scopesClaim(String claim) {
      this.scopesClaim = Settings.notBlank("scopesClaim", claim);
      return this;
    }

    /**
     * Sets the realm of the challenge (default {@value #DEFAULT_REALM}).
     *
     * @param realm the realm
     * @return this builder
     * @throws IllegalArgumentException if {@code realm} holds a quote, backslash or control
     */
    public Builder realm(String realm) {
      requireNonNull(realm, "realm");
      if (realm.chars().anyMatch(c -> c < ' ' || c == '"' || c == '\\' || c == 0x7f)) {
        throw new IllegalArgumentException(
            "realm must not hold quotes, backslashes or controls, was '" + realm + "'");
      }
      this.realm = realm;
      return this;
    }

    /**
     * Returns the authenticator.
     *
     * @return the authenticator
     * @throws IllegalStateException if no algorithm was set
     */
    public JwtAuthenticator build() {
      if (algorithms.isEmpty()) {
        throw new IllegalStateException(
            "algorithms are required: name the ones your issuer signs with, e.g. algorithms(\"RS256\")");
      }
      return new JwtAuthenticator(this);
    }
  }
}
