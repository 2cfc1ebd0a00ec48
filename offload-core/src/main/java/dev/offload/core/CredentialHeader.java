package dev.offload.core;

import static java.util.Objects.requireNonNull;

import dev.offload.core.internal.Settings;
import java.util.Optional;
import java.util.function.Function;

/**
 * A credential (an API key, a bearer token) carried in one request header field: the one place
 * where guards read it, so that what a guard checks is exactly what is forwarded.
 *
 * <pre>{@code
 * CredentialHeader apiKey = CredentialHeader.named("X-Api-Key");
 * Guard guard = (request, context) -> apiKey.check(request, key -> keys.lookup(key)
 *     .map(user -> GuardVerdict.admit(USER, user))
 *     .orElse(GuardVerdict.deny(401, "unknown API key")));
 * }</pre>
 *
 * <p>The field must appear exactly once. A request that repeats it is denied with 400 ({@code
 * repeated X-Api-Key header}): a guard that checks the first field would admit a request whose
 * backend reads another (the last one, or both joined), and joined values would be a credential
 * that no one checked. A single field whose value holds commas is one value, and is handed on
 * as it is. A missing field is denied with 401 ({@code missing X-Api-Key header}). The field's
 * name is matched case-insensitively.
 *
 * <p>Immutable and thread-safe: make one per guard and share it. {@link #check(OffloadRequest)}
 * does not allocate.
 */
public final class CredentialHeader {
  private final String name;
  private final GuardVerdict missing;
  private final GuardVerdict repeated;

  private CredentialHeader(String name) {
    this.name = name;
    this.missing = GuardVerdict.deny(401, "missing " + name + " header");
    this.repeated = GuardVerdict.deny(400, "repeated " + name + " header");
  }

  /**
   * Returns the credential carried in the header field {@code name}, e.g. {@code X-Api-Key} or
   * {@code Authorization}; {@code name} is used as given in the reasons of denials.
   *
   * @param name the name
   * @return the credential carried in the header field {@code name}, e.g
   * @throws IllegalArgumentException if {@code name} is blank
   */
  public static CredentialHeader named(String name) {
    Settings.notBlank("name", name);
    return new CredentialHeader(name);
  }

  /**
   * Returns the header's name as given.
   *
   * @return the header's name as given
   */
  public String name() {
    return name;
  }

  /**
   * Returns the value of the one field with this name, or empty when there is none or more than
   * one.
   *
   * @param request the request
   * @return the value of the one field with this name, or empty when there is none or more than one
   */
  public Optional<String> value(OffloadRequest request) {
    requireNonNull(request, "request");
    return request.headers().count(name) == 1 ? request.header(name) : Optional.empty();
  }

  /**
   * Returns {@link GuardVerdict#admit()} when the request has exactly one field with this name;
   * otherwise a denial: 401 when it has none, 400 when it has more than one.
   *
   * @param request the request
   * @return {@link GuardVerdict#admit()} when the request has exactly one field with this name;
   *     otherwise a denial: 401 when it has none, 400 when it has more than one
   */
  public GuardVerdict check(OffloadRequest request) {
    requireNonNull(request, "request");
    int count = request.headers().count(name);
    return count == 1 ? GuardVerdict.admit() : count == 0 ? missing : repeated;
  }

  /**
   * Returns what {@code onValue} says of the value of the one field with this name; when the
   * request has none or more than one, the denial of {@link #check(OffloadRequest)}, without
   * calling {@code onValue}.
   *
   * @param request the request
   * @param onValue the on value
   * @return what {@code onValue} says of the value of the one field with this name; when the
   *     request has none or more than one, the denial of {@link #check(OffloadRequest)}, without
   *     calling {@code onValue}
   * @throws NullPointerException if {@code onValue} returns null
   */
  public GuardVerdict check(OffloadRequest request, Function<String, GuardVerdict> onValue) {
    requireNonNull(onValue, "onValue");
    GuardVerdict verdict = check(request);
    if (!verdict.admitted()) {
      return verdict;
    }
    String value = request.header(name).orElseThrow();
    return requireNonNull(onValue.apply(value), "onValue returned null");
  }

  @Override
  public String toString() {
    return "CredentialHeader(" + name + ")";
  }
}
