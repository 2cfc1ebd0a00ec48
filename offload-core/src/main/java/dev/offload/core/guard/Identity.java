package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import dev.offload.core.AttributeKey;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Who an {@link Authenticator} established the caller to be: a subject, the scopes or roles it
 * holds, and the claims it was authenticated with (a JWT's claims; empty for an API key).
 * Immutable.
 *
 * <pre>{@code
 * Identity alice = Identity.of("alice", Set.of("orders:read"));
 * request.attribute(Identity.KEY).map(Identity::subject).orElse("anonymous");
 * }</pre>
 *
 * <p>An {@link AuthenticationGuard} attaches it under {@link #KEY}; on a pass-through the
 * executor hands it to the host's request as a server attribute named {@value #ATTRIBUTE_NAME}
 * (servlet {@code request.getAttribute}, JDK {@code exchange.getAttribute}). {@link #toString()}
 * shows the subject and scopes, never claim values.
 */
public final class Identity {
  /** The name under which the identity is a request attribute; see {@link #KEY}. */
  public static final String ATTRIBUTE_NAME = "dev.offload.identity";

  /** The attribute key an {@link AuthenticationGuard} attaches the identity under. */
  public static final AttributeKey<Identity> KEY = AttributeKey.of(ATTRIBUTE_NAME, Identity.class);

  private final String subject;
  private final Set<String> scopes;
  private final Map<String, Object> claims;

  private Identity(String subject, Set<String> scopes, Map<String, Object> claims) {
    this.subject = subject;
    this.scopes = scopes;
    this.claims = claims;
  }

  /**
   * Returns an identity without claims.
   *
   * @param subject the subject
   * @param scopes the scopes
   * @return an identity without claims
   * @throws IllegalArgumentException if {@code subject} is blank
   */
  public static Identity of(String subject, Set<String> scopes) {
    return of(subject, scopes, Map.of());
  }

  /**
   * Returns an identity; the collections are copied (in their iteration order).
   *
   * @param subject the subject
   * @param scopes the scopes
   * @param claims the claims
   * @return an identity; the collections are copied (in their iteration order)
   * @throws IllegalArgumentException if {@code subject} is blank or holds a control character
   * (it is sent to backends in a header), or a scope is blank or holds
   * whitespace or a comma (scopes are sent to backends space-separated)
   */
  public static Identity of(String subject, Set<String> scopes, Map<String, ?> claims) {
    requireNonNull(subject, "subject");
    requireNonNull(scopes, "scopes");
    requireNonNull(claims, "claims");
    if (subject.isBlank() || subject.chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
      throw new IllegalArgumentException("subject must be non-blank without control characters");
    }
    for (String scope : scopes) {
      requireNonNull(scope, "scope");
      if (scope.isEmpty() || scope.chars().anyMatch(c -> c <= ' ' || c == ',' || c == 0x7f)) {
        throw new IllegalArgumentException(
            "scope must be non-empty without whitespace, commas or controls: '" + scope + "'");
      }
    }
    return new Identity(subject, Collections.unmodifiableSet(new LinkedHashSet<>(scopes)),
        Collections.unmodifiableMap(new LinkedHashMap<>(claims)));
  }

  /**
   * Returns the subject (a user or client id).
   *
   * @return the subject (a user or client id)
   */
  public String subject() {
    return subject;
  }

  /**
   * Returns the scopes or roles, in the order given.
   *
   * @return the scopes or roles, in the order given
   */
  public Set<String> scopes() {
    return scopes;
  }

  /**
   * Returns whether this identity holds every one of {@code required}.
   *
   * @param required the required
   * @return whether this identity holds every one of {@code required}
   */
  public boolean hasScopes(Set<String> required) {
    return scopes.containsAll(requireNonNull(required, "required"));
  }

  /**
   * Returns the claims it was authenticated with; empty when there were none.
   *
   * @return the claims it was authenticated with; empty when there were none
   */
  public Map<String, Object> claims() {
    return claims;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Identity other && subject.equals(other.subject)
        && scopes.equals(other.scopes) && claims.equals(other.claims);
  }

  @Override
  public int hashCode() {
    return subject.hashCode() * 31 + scopes.hashCode();
  }

  @Override
  public String toString() {
    return "Identity{" + subject + ", scopes=" + scopes + "}";
  }
}
