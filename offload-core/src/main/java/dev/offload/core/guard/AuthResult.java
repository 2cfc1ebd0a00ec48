package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

/**
 * What an {@link Authenticator} concluded about one request: a plain value, one record per
 * outcome. An {@link AuthenticationGuard} turns it into a verdict:
 *
 * <table>
 *   <caption>outcome to response</caption>
 *   <tr><th>outcome</th><th>response</th><th>metric {@code result}</th></tr>
 *   <tr><td>{@link Authenticated}</td><td>admitted, identity attached</td><td>admitted</td></tr>
 *   <tr><td>{@link Missing}</td><td>401 with {@code WWW-Authenticate}</td>
 *       <td>unauthenticated</td></tr>
 *   <tr><td>{@link Invalid}</td><td>401 with {@code WWW-Authenticate} (400 when malformed, e.g.
 *       a repeated credential header)</td><td>invalid</td></tr>
 *   <tr><td>{@link Forbidden}</td><td>403</td><td>forbidden</td></tr>
 * </table>
 *
 * <p>Reasons go to the client: never put a credential in one.
 */
public sealed interface AuthResult {
  /** The caller is {@code identity}. */
  record Authenticated(Identity identity) implements AuthResult {
    /**
     * Checks the identity is not null.
     *
     * @param identity the identity
     */
    public Authenticated {
      requireNonNull(identity, "identity");
    }
  }

  /**
   * The request carries no credential; answered 401 with {@code WWW-Authenticate: challenge}.
   *
   * @param challenge the challenge, e.g. {@code Bearer realm="api"}
   */
  record Missing(String challenge) implements AuthResult {
    /**
     * Checks the challenge is not blank.
     *
     * @param challenge the challenge
     */
    public Missing {
      requireNonNull(challenge, "challenge");
      if (challenge.isBlank()) {
        throw new IllegalArgumentException("challenge must not be blank");
      }
    }
  }

  /**
   * The credential is not valid (unknown, expired, badly signed); answered {@code status} (401,
   * or 400 for a malformed request) with a short reason and, on 401, the challenge.
   */
  record Invalid(int status, String reason, String challenge) implements AuthResult {
    /**
     * Checks the status is 400 or 401.
     *
     * @param status the HTTP status code
     * @param reason the reason, for the problem body
     * @param challenge the challenge
     */
    public Invalid {
      requireNonNull(reason, "reason");
      requireNonNull(challenge, "challenge");
      if (status != 400 && status != 401) {
        throw new IllegalArgumentException("status must be 400 or 401, was " + status);
      }
    }
  }

  /** The caller is known but may not do this; answered 403. */
  record Forbidden(String reason) implements AuthResult {
    /**
     * Checks the reason is not null.
     *
     * @param reason the reason, for the problem body
     */
    public Forbidden {
      requireNonNull(reason, "reason");
    }
  }

  /**
   * Returns an authenticated result.
   *
   * @param identity the identity
   * @return an authenticated result
   */
  static AuthResult authenticated(Identity identity) {
    return new Authenticated(identity);
  }

  /**
   * Returns a missing-credential result with {@code challenge}.
   *
   * @param challenge the challenge
   * @return a missing-credential result with {@code challenge}
   */
  static AuthResult missing(String challenge) {
    return new Missing(challenge);
  }

  /**
   * Returns an invalid-credential result (401) with {@code reason} and {@code challenge}.
   *
   * @param reason the reason, for the problem body
   * @param challenge the challenge
   * @return an invalid-credential result (401) with {@code reason} and {@code challenge}
   */
  static AuthResult invalid(String reason, String challenge) {
    return new Invalid(401, reason, challenge);
  }

  /**
   * Returns a malformed-request result (400), e.g. a repeated credential header.
   *
   * @param reason the reason, for the problem body
   * @return a malformed-request result (400), e.g
   */
  static AuthResult malformed(String reason) {
    return new Invalid(400, reason, "");
  }

  /**
   * Returns a forbidden result (403).
   *
   * @param reason the reason, for the problem body
   * @return a forbidden result (403)
   */
  static AuthResult forbidden(String reason) {
    return new Forbidden(reason);
  }
}
