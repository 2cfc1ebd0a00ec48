package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import dev.offload.core.DecisionContext;
import dev.offload.core.Guard;
import dev.offload.core.GuardVerdict;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Route;
import dev.offload.core.internal.HttpSyntax;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link Guard} built from an {@link Authenticator}: admits an authenticated request with its
 * {@link Identity} attached (under {@link Identity#KEY}) and passed to the backend in identity
 * headers; denies the rest with 401 or 403.
 *
 * <pre>{@code
 * Guard auth = AuthenticationGuard.builder(JwtAuthenticator.builder(keys).issuer(iss).build())
 *     .requireScopes(Route.prefix("/admin"), "admin")
 *     .meterRegistry(registry)
 *     .build();
 * OffloadRouter router = OffloadRouter.builder().guard("jwt", auth)...build();
 * }</pre>
 *
 * <p><b>Identity headers.</b> On a forward, the backend receives {@value #DEFAULT_SUBJECT_HEADER}
 * (the subject) and {@value #DEFAULT_SCOPES_HEADER} (the scopes, space-separated; empty when
 * none). The client's fields of those names, in any case and in their underscore spellings
 * ({@code X_Auth_Subject}), are removed before ours are set, so a client cannot forge them. A
 * pass-through hands the host the client's request as received, identity headers included: the
 * host must read the identity from the request attribute {@value Identity#ATTRIBUTE_NAME}, never
 * from those headers.
 *
 * <p><b>401 or 403.</b> No credential: 401 with {@code WWW-Authenticate}. An invalid credential
 * (unknown key, bad signature, expired): 401 with the challenge, since the caller is not
 * authenticated (RFC 9110 section 15.5.2). Authenticated but lacking a required scope: 403.
 *
 * <p><b>Metrics.</b> With a registry, counts {@code offload.guard.decisions} tagged {@code guard}
 * (the router's name for the guard) and {@code result}: {@code admitted}, {@code
 * unauthenticated}, {@code invalid} or {@code forbidden}. Nothing is counted while explaining.
 *
 * <p>Immutable and thread-safe.
 */
public final class AuthenticationGuard implements Guard {
  /** The default header carrying the subject to the backend. */
  public static final String DEFAULT_SUBJECT_HEADER = "X-Auth-Subject";
  /** The default header carrying the scopes, space-separated, to the backend. */
  public static final String DEFAULT_SCOPES_HEADER = "X-Auth-Scopes";
  /** The meter {@code offload.guard.decisions}. */
  public static final String METER = "offload.guard.decisions";

  private final Authenticator authenticator;
  private final String subjectHeader;
  private final String scopesHeader;
  private final List<ScopeRule> rules;
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

  private AuthenticationGuard(Builder b) {
    this.authenticator = b.authenticator;
    this.subjectHeader = b.subjectHeader;
    this.scopesHeader = b.scopesHeader;
    this.rules = List.copyOf(b.rules);
    this.registry = b.registry;
  }

  /**
   * Returns a builder of a guard that authenticates with {@code authenticator}.
   *
   * @param authenticator the authenticator
   * @return a builder of a guard that authenticates with {@code authenticator}
   */
  public static Builder builder(Authenticator authenticator) {
    return new Builder(requireNonNull(authenticator, "authenticator"));
  }

  /**
   * Returns a guard with the default identity headers and no scope rules.
   *
   * @param authenticator the authenticator
   * @return a guard with the default identity headers and no scope rules
   */
  public static AuthenticationGuard of(Authenticator authenticator) {
    return builder(authenticator).build();
  }

  @Override
  public GuardVerdict check(OffloadRequest request, DecisionContext context) {
    AuthResult result = requireNonNull(authenticator.authenticate(request, context),
        "authenticator returned null");
    if (result instanceof AuthResult.Authenticated authenticated) {
      Identity identity = authenticated.identity();
      for (ScopeRule rule : rules) {
        if (rule.route.matches(request) && !identity.hasScopes(rule.scopes)) {
          context.note("missingScopes", rule.scopes);
          return counted(context, "forbidden",
              GuardVerdict.deny(403, "insufficient scope: " + String.join(" ", rule.scopes)));
        }
      }
      context.note("subject", identity.subject());
      return counted(context, "admitted", GuardVerdict.admit(Identity.KEY, identity)
          .withRequestHeaders(Headers.of(subjectHeader, identity.subject(),
              scopesHeader, String.join(" ", identity.scopes()))));
    }
    if (result instanceof AuthResult.Missing missing) {
      return counted(context, "unauthenticated", GuardVerdict.deny(401,
          "authentication required", Headers.of("WWW-Authenticate", missing.challenge())));
    }
    if (result instanceof AuthResult.Invalid invalid) {
      Headers headers = invalid.status() == 401 && !invalid.challenge().isEmpty()
          ? Headers.of("WWW-Authenticate", invalid.challenge()) : Headers.empty();
      return counted(context, "invalid",
          GuardVerdict.deny(invalid.status(), invalid.reason(), headers));
    }
    AuthResult.Forbidden forbidden = (AuthResult.Forbidden) result;
    return counted(context, "forbidden", GuardVerdict.deny(403, forbidden.reason()));
  }

  private GuardVerdict counted(DecisionContext context, String result, GuardVerdict verdict) {
    if (registry != null && !context.explaining()) {
      counters.computeIfAbsent(context.name() + '\n' + result, k -> Counter.builder(METER)
          .description("Verdicts of admission guards")
          .baseUnit("requests")
          .tag("guard", context.name())
          .tag("result", result)
          .register(registry)).increment();
    }
    return verdict;
  }

  /**
   * Returns the header that carries the subject to the backend.
   *
   * @return the header that carries the subject to the backend
   */
  public String subjectHeader() {
    return subjectHeader;
  }

  /**
   * Returns the header that carries the scopes to the backend.
   *
   * @return the header that carries the scopes to the backend
   */
  public String scopesHeader() {
    return scopesHeader;
  }

  @Override
  public String describe() {
    return "authenticate(" + authenticator + (rules.isEmpty() ? "" : ", scopes " + rules) + ")";
  }

  @Override
  public String toString() {
    return describe();
  }

  private record ScopeRule(Route route, Set<String> scopes) {
    @Override
    public String toString() {
      return route + " needs " + scopes;
    }
  }

  /** Builds an {@link AuthenticationGuard}. Not thread-safe. */
  public static final class Builder {
    private final Authenticator authenticator;
    private String subjectHeader = DEFAULT_SUBJECT_HEADER;
    private String scopesHeader = DEFAULT_SCOPES_HEADER;
    private final List<ScopeRule> rules = new ArrayList<>();
    private MeterRegistry registry;

    private Builder(Authenticator authenticator) {
      this.authenticator = authenticator;
    }

    /**
     * Sets the header that carries the subject to the backend (default {@value
     * #DEFAULT_SUBJECT_HEADER}).
     *
     * @param name the name
     * @return this builder
     * @throws IllegalArgumentException if {@code name} is not a header name without {@code _}
     */
    public Builder subjectHeader(String name) {
      this.subjectHeader = headerName("subjectHeader", name);
      return this;
    }

    /**
     * Sets the header that carries the scopes to the backend (default {@value
     * #DEFAULT_SCOPES_HEADER}).
     *
     * @param name the name
     * @return this builder
     * @throws IllegalArgumentException if {@code name} is not a header name without {@code _}
     */
    public Builder scopesHeader(String name) {
      this.scopesHeader = headerName("scopesHeader", name);
      return this;
    }

    /**
     * Requires, for requests matching {@code route}, that the identity hold all of {@code
     * scopes}: 403 otherwise. Rules add up; use {@link Route#any()} for every request.
     *
     * @param route the route
     * @param scopes the scopes
     * @return this builder
     * @throws IllegalArgumentException if no scope is given or one is blank
     */
    public Builder requireScopes(Route route, String... scopes) {
      requireNonNull(route, "route");
      requireNonNull(scopes, "scopes");
      if (scopes.length == 0) {
        throw new IllegalArgumentException("requireScopes needs at least one scope for " + route);
      }
      Set<String> set = new LinkedHashSet<>();
      for (String scope : scopes) {
        requireNonNull(scope, "scope");
        if (scope.isBlank()) {
          throw new IllegalArgumentException("requireScopes: blank scope for " + route);
        }
        set.add(scope);
      }
      rules.add(new ScopeRule(route, Set.copyOf(set)));
      return this;
    }

    /**
     * Counts verdicts in {@code offload.guard.decisions} on {@code registry}.
     *
     * @param registry the meter registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Returns the guard.
     *
     * @return the guard
     * @throws IllegalStateException if the subject and scopes headers are the same
     */
    public AuthenticationGuard build() {
      if (subjectHeader.equalsIgnoreCase(scopesHeader)) {
        throw new IllegalStateException(
            "subjectHeader and scopesHeader must differ, both are '" + subjectHeader + "'");
      }
      return new AuthenticationGuard(this);
    }

    private static String headerName(String setting, String name) {
      requireNonNull(name, setting);
      if (!HttpSyntax.isToken(name) || name.indexOf('_') >= 0) {
        throw new IllegalArgumentException(setting + " must be a header name without '_' "
            + "(underscore names are dropped by servers and proxies), was '" + name + "'");
      }
      return name;
    }
  }
}
