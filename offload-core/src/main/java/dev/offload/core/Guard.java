package dev.offload.core;

import static java.util.Objects.requireNonNull;

import java.util.function.Predicate;

/**
 * An admission check that runs before any route, for every request: rate limits and
 * authentication reject early here, and an admitted identity is attached to the request.
 *
 * <pre>{@code
 * CredentialHeader apiKey = CredentialHeader.named("X-Api-Key");
 * Guard guard = (request, context) -> apiKey.check(request, key -> keys.lookup(key)
 *     .map(user -> GuardVerdict.admit(USER, user))
 *     .orElse(GuardVerdict.deny(401, "unknown API key")));
 * }</pre>
 *
 * <p>A guard that reads a credential from a header reads it through {@link CredentialHeader},
 * which refuses a repeated field: the request forwarded must carry exactly what was checked.
 *
 * <p>Guards run in the order given; the first denial wins. Like a strategy, a guard must not do
 * I/O or block, must be thread-safe and reads time only from the context. A guard that throws
 * denies (fails closed) with 500.
 *
 * <p><b>Explaining does not consume.</b> While {@link DecisionContext#explaining()} a guard reads
 * its state but does not change it (a rate limit reports whether a token is available without
 * taking it), so that {@code OffloadRouter.explain} never changes what the next request gets.
 */
@FunctionalInterface
public interface Guard {
  /**
   * Returns whether to admit {@code request}; never null.
   *
   * @param request the request
   * @param context the decision context
   * @return whether to admit {@code request}; never null
   */
  GuardVerdict check(OffloadRequest request, DecisionContext context);

  /**
   * Returns a short description for explanations.
   *
   * @return a short description for explanations
   */
  default String describe() {
    return "Guard";
  }

  /**
   * Returns a guard that admits everything.
   *
   * @return a guard that admits everything
   */
  static Guard allowAll() {
    return describe("allowAll", (request, context) -> GuardVerdict.admit());
  }

  /**
   * Returns a guard that denies with 401 when the named header is absent, and with 400 when it
   * is repeated (more than one field; one field holding a comma list is admitted), so that what
   * is forwarded is what was checked. See {@link CredentialHeader}, which a guard that also
   * checks the value should use.
   *
   * @param headerName the header name
   * @return a guard that denies with 401 when the named header is absent, and with 400 when it is
   *     repeated (more than one field; one field holding a comma list is admitted), so that what is
   *     forwarded is what was checked
   * @throws IllegalArgumentException if {@code headerName} is blank
   */
  static Guard requireHeader(String headerName) {
    requireNonNull(headerName, "headerName");
    if (headerName.isBlank()) {
      throw new IllegalArgumentException("headerName must not be blank");
    }
    CredentialHeader header = CredentialHeader.named(headerName);
    return describe(
        "requireHeader(" + headerName + ")", (request, context) -> header.check(request));
  }

  /**
   * Returns a guard that denies with {@code status} and {@code reason} when {@code when} holds.
   *
   * @param when which requests to deny
   * @param status the HTTP status code
   * @param reason the reason, for the problem body
   * @return a guard that denies with {@code status} and {@code reason} when {@code when} holds
   * @throws IllegalArgumentException if {@code status} is not in 400..599
   */
  static Guard denyWhen(Predicate<OffloadRequest> when, int status, String reason) {
    requireNonNull(when, "when");
    GuardVerdict deny = GuardVerdict.deny(status, reason);
    return describe(
        "denyWhen(" + status + ")",
        (request, context) -> when.test(request) ? deny : GuardVerdict.admit());
  }

  private static Guard describe(String description, Guard guard) {
    return new Guard() {
      @Override
      public GuardVerdict check(OffloadRequest request, DecisionContext context) {
        return guard.check(request, context);
      }

      @Override
      public String describe() {
        return description;
      }
    };
  }
}
