package dev.offload.core;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * What a {@link Guard} said: admit (optionally attaching one attribute, such as the identity it
 * established, and response headers, such as {@code RateLimit} fields or a request id, for the
 * answer to the admitted request), or deny with a {@link Decision.Reject}. Immutable.
 *
 * <pre>{@code
 * return GuardVerdict.admit().withResponseHeaders(Headers.of("RateLimit", "limit=10, remaining=9"));
 * }</pre>
 */
public final class GuardVerdict {
  private static final GuardVerdict ADMIT =
      new GuardVerdict(null, null, null, Headers.empty(), Headers.empty(), null);

  private final Decision.Reject reject;
  private final AttributeKey<?> key;
  private final Object value;
  private final Headers responseHeaders;
  private final Headers requestHeaders;
  private final DeferredCheck deferred;

  private GuardVerdict(Decision.Reject reject, AttributeKey<?> key, Object value,
      Headers responseHeaders, Headers requestHeaders, DeferredCheck deferred) {
    this.reject = reject;
    this.key = key;
    this.value = value;
    this.responseHeaders = responseHeaders;
    this.requestHeaders = requestHeaders;
    this.deferred = deferred;
  }

  private GuardVerdict(Decision.Reject reject, AttributeKey<?> key, Object value) {
    this(reject, key, value, Headers.empty(), Headers.empty(), null);
  }

  /**
   * Returns this admission with {@code headers} added to the response the admitted request gets
   * (from the host's handler, a backend, the cache, an offload handler or a redirect). They
   * replace a field of the same name from a backend, the cache or an offload handler; on a
   * pass-through they are set before the host's handler runs, so a host that sets the same field
   * replaces them.
   *
   * @param headers the header fields
   * @return this admission with {@code headers} added to the response the admitted request gets
   *     (from the host's handler, a backend, the cache, an offload handler or a redirect)
   * @throws IllegalStateException if this verdict denies (a denial carries its own headers)
   */
  public GuardVerdict withResponseHeaders(Headers headers) {
    requireNonNull(headers, "headers");
    if (reject != null) {
      throw new IllegalStateException(
          "a denial carries its headers in its Reject; withResponseHeaders is for admissions");
    }
    return new GuardVerdict(null, key, value, responseHeaders.plus(headers), requestHeaders,
        deferred);
  }

  /**
   * Returns the headers to add to the admitted request's response; empty by default.
   *
   * @return the headers to add to the admitted request's response; empty by default
   */
  public Headers responseHeaders() {
    return responseHeaders;
  }

  /**
   * Returns this admission with {@code headers} set on the request a {@link Decision.Forward}
   * sends to the backend (the identity the guard established, e.g. {@code X-Auth-Subject}). They
   * go on the decision's handle ({@link DecisionHandle#setRequestHeaders}): the forwarder first
   * removes the client's fields of the same names, case-insensitively, and their underscore
   * look-alikes ({@code X_Auth_Subject}), so the client cannot forge them. A pass-through hands
   * the host the client's request untouched: there the host must read the identity from the
   * request attribute (see {@link #admit(AttributeKey, Object)}), never from these headers.
   *
   * @param headers the header fields
   * @return this admission with {@code headers} set on the request a {@link Decision.Forward} sends
   *     to the backend (the identity the guard established, e.g
   * @throws IllegalStateException if this verdict denies
   */
  public GuardVerdict withRequestHeaders(Headers headers) {
    requireNonNull(headers, "headers");
    if (reject != null) {
      throw new IllegalStateException(
          "a denial forwards nothing; withRequestHeaders is for admissions");
    }
    return new GuardVerdict(null, key, value, responseHeaders, requestHeaders.plus(headers),
        deferred);
  }

  /**
   * Returns this admission made conditional on {@code check}, which the executor runs before it
   * executes the decision (an external authorizer's call: I/O that {@code decide} must not do).
   * See {@link DeferredCheck}: it fails closed, and a redirect, which cannot wait, is refused.
   *
   * @param check the check
   * @return this admission made conditional on {@code check}, which the executor runs before it
   *     executes the decision (an external authorizer's call: I/O that {@code decide} must not do)
   * @throws IllegalStateException if this verdict denies, or already defers a check
   */
  public GuardVerdict withDeferredCheck(DeferredCheck check) {
    requireNonNull(check, "check");
    if (reject != null || deferred != null) {
      throw new IllegalStateException(reject != null
          ? "a denial defers nothing; withDeferredCheck is for admissions"
          : "this verdict already defers a check");
    }
    return new GuardVerdict(null, key, value, responseHeaders, requestHeaders, check);
  }

  /**
   * Returns the check the executor runs before executing the decision, if any.
   *
   * @return the check the executor runs before executing the decision, if any
   */
  public Optional<DeferredCheck> deferredCheck() {
    return Optional.ofNullable(deferred);
  }

  /**
   * Returns the headers to set on the forwarded request; empty by default.
   *
   * @return the headers to set on the forwarded request; empty by default
   */
  public Headers requestHeaders() {
    return requestHeaders;
  }

  /**
   * Admit the request unchanged.
   *
   * @return the verdict
   */
  public static GuardVerdict admit() {
    return ADMIT;
  }

  /**
   * Admit the request and attach {@code value} under {@code key} for routes and backends.
   *
   * @param <T> the type of the value
   * @param key the key
   * @param value the value
   * @return the verdict
   */
  public static <T> GuardVerdict admit(AttributeKey<T> key, T value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    return new GuardVerdict(null, key, key.type().cast(value));
  }

  /**
   * Deny with {@code status} and a short {@code reason} for the client.
   *
   * @param status the HTTP status code
   * @param reason the reason, for the problem body
   * @return the verdict
   * @throws IllegalArgumentException if {@code status} is not in 400..599
   */
  public static GuardVerdict deny(int status, String reason) {
    return new GuardVerdict(Decision.reject(status, reason), null, null);
  }

  /**
   * Deny with {@code status}, {@code reason} and response headers such as {@code Retry-After}.
   *
   * @param status the HTTP status code
   * @param reason the reason, for the problem body
   * @param headers the header fields
   * @return the verdict
   */
  public static GuardVerdict deny(int status, String reason, Headers headers) {
    return new GuardVerdict(Decision.reject(status, reason, headers), null, null);
  }

  /**
   * Deny with this rejection.
   *
   * @param reject the reject
   * @return the verdict
   */
  public static GuardVerdict deny(Decision.Reject reject) {
    return new GuardVerdict(requireNonNull(reject, "reject"), null, null);
  }

  /**
   * Returns whether the request is admitted.
   *
   * @return whether the request is admitted
   */
  public boolean admitted() {
    return reject == null;
  }

  /**
   * Returns the rejection, when denied.
   *
   * @return the rejection, when denied
   */
  public Optional<Decision.Reject> rejection() {
    return Optional.ofNullable(reject);
  }

  /**
   * Returns the attribute key to attach, when admitted with one.
   *
   * @return the attribute key to attach, when admitted with one
   */
  public Optional<AttributeKey<?>> attributeKey() {
    return Optional.ofNullable(key);
  }

  /**
   * Returns the attribute value to attach, when admitted with one.
   *
   * @return the attribute value to attach, when admitted with one
   */
  public Optional<Object> attributeValue() {
    return Optional.ofNullable(value);
  }

  @Override
  public String toString() {
    if (reject != null) {
      return "deny(" + reject.status() + " " + reject.reason() + ")";
    }
    return key == null ? "admit" : "admit(" + key.name() + "=" + value + ")";
  }
}
