package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import dev.offload.core.DecisionContext;
import dev.offload.core.OffloadRequest;
import java.util.function.Predicate;

/**
 * An admission check that runs before any route, for every request: rate limits and
 * authentication reject early here, and an admitted identity is attached to the request.
 *
 * <pre>{@code
 * Guard apiKey = (request, context) -> request.header("X-Api-Key").map(keys::lookup)
 *     .map(user -> GuardVerdict.admit(USER, user))
 *     .orElse(GuardVerdict.deny(401, "missing or unknown API key"));
 * }</pre>
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
  /** Returns whether to admit {@code request}; never null. */
  GuardVerdict check(OffloadRequest request, DecisionContext context);

  /** Returns a short description for explanations. */
  default String describe() {
    return "Guard";
  }

  /** Returns a guard that admits everything. */
  static Guard allowAll() {
    return describe("allowAll", (request, context) -> GuardVerdict.admit());
  }

  /**
   * Returns a guard that denies with 401 when the named header is absent.
   *
   * @throws IllegalArgumentException if {@code headerName} is blank
   */
  static Guard requireHeader(String headerName) {
    requireNonNull(headerName, "headerName");
    if (headerName.isBlank()) {
      throw new IllegalArgumentException("headerName must not be blank");
    }
    GuardVerdict deny = GuardVerdict.deny(401, "missing " + headerName + " header");
    return describe(
        "requireHeader(" + headerName + ")",
        (request, context) ->
            request.headers().contains(headerName) ? GuardVerdict.admit() : deny);
  }

  /**
   * Returns a guard that denies with {@code status} and {@code reason} when {@code when} holds.
   *
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
