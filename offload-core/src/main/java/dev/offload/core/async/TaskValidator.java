package dev.offload.core.async;

import java.util.Optional;

/**
 * Checks a request before its task is accepted, on the request thread, so that a request the
 * task could never run (a body that is not an image) is refused at once with 400 instead of
 * being accepted and failing later. Must be cheap and thread-safe.
 *
 * <pre>{@code
 * TaskValidator imagesOnly = request -> request.header("Content-Type")
 *     .filter(type -> type.startsWith("image/"))
 *     .isPresent() ? Optional.empty() : Optional.of("the body must be an image");
 * }</pre>
 */
@FunctionalInterface
public interface TaskValidator {
  /**
   * Returns why {@code request} is refused, or empty to accept it.
   *
   * @param request the request, with its body read into memory
   * @return a short reason for the client (no internals), or empty
   */
  Optional<String> refusal(TaskRequest request);

  /**
   * Returns a validator that accepts every request.
   *
   * @return the validator
   */
  static TaskValidator acceptAll() {
    return request -> Optional.empty();
  }
}
