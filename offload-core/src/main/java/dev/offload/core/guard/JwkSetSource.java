package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import com.nimbusds.jose.jwk.JWKSet;

/**
 * Where a {@link JwtAuthenticator} finds its verification keys: a JWK set read on every token,
 * so it must return at once from memory, never fetch. A fixed set ({@link #of(JWKSet)}) or a
 * cached remote one ({@code dev.offload.http.guard.RemoteJwkSet}, refreshed in the background).
 *
 * <p>Implementations are thread-safe.
 */
@FunctionalInterface
public interface JwkSetSource {
  /**
   * Returns the keys as they are now; never null, never blocks.
   *
   * @return the keys as they are now; never null, never blocks
   */
  JWKSet current();

  /**
   * Told that a token named a key id {@code kid} that {@link #current()} does not hold, so that a
   * remote source may refresh (in the background, rate-limited) after a key rotation. Must not
   * block. Does nothing by default.
   *
   * @param kid the key id ({@code kid}) the token names
   */
  default void unknownKeyId(String kid) {}

  /**
   * Returns a source of the fixed set {@code keys} (from configuration).
   *
   * @param keys the keys
   * @return a source of the fixed set {@code keys} (from configuration)
   */
  static JwkSetSource of(JWKSet keys) {
    requireNonNull(keys, "keys");
    return () -> keys;
  }
}
