package dev.offload.core.guard;

import dev.offload.core.DecisionContext;
import dev.offload.core.OffloadRequest;

/**
 * Establishes who sent a request: the extension point of authentication, one method a lambda can
 * implement. Turn one into a {@link dev.offload.core.Guard} with {@link AuthenticationGuard}.
 *
 * <pre>{@code
 * Authenticator fromHeader = (request, context) -> request.header("X-User")
 *     .map(user -> AuthResult.authenticated(Identity.of(user, Set.of())))
 *     .orElse(AuthResult.missing("Custom realm=\"api\""));
 * }</pre>
 *
 * <p>Like a guard, it runs inside {@code OffloadRouter.decide}: it must not do I/O or block,
 * must be thread-safe, and reads time only from the context (or an injected clock). Ready
 * implementations: {@link ApiKeyAuthenticator}, {@link JwtAuthenticator}.
 */
@FunctionalInterface
public interface Authenticator {
  /**
   * Returns what the request's credentials establish; never null.
   *
   * @param request the request
   * @param context the decision context
   * @return what the request's credentials establish; never null
   */
  AuthResult authenticate(OffloadRequest request, DecisionContext context);
}
