package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import com.google.common.hash.Hashing;
import dev.offload.core.CredentialHeader;
import dev.offload.core.DecisionContext;
import dev.offload.core.OffloadRequest;
import dev.offload.core.internal.HttpSyntax;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Authenticates by an API key carried in a header (default {@value #DEFAULT_HEADER}) or a query
 * parameter. Keys are held only as SHA-256 digests and compared in constant time.
 *
 * <pre>{@code
 * Authenticator keys = ApiKeyAuthenticator.inHeader("X-Api-Key")
 *     .key(System.getenv("PARTNER_KEY"), Identity.of("partner", Set.of("orders:read")))
 *     .keyDigest(sha256Hex, Identity.of("batch", Set.of("orders:write")))
 *     .build();
 * Guard guard = AuthenticationGuard.of(keys);
 * }</pre>
 *
 * <p>A missing key is 401 with {@code WWW-Authenticate: ApiKey realm="..."} (there is no
 * registered scheme for API keys; the challenge names where the key goes). A repeated header or
 * parameter is 400 (see {@link CredentialHeader}). <b>A wrong key is 401, not 403</b>: the
 * caller is not authenticated, and 403 would say "we know who you are", which RFC 9110 reserves
 * for an identity that lacks permission; 403 comes from the scopes an {@link
 * AuthenticationGuard} requires.
 *
 * <p>Every stored digest is compared with {@link MessageDigest#isEqual}, without stopping at the
 * first match, so the time taken does not depend on which key (if any) matched. Keys never
 * appear in messages or {@link #toString()}. Immutable and thread-safe.
 */
public final class ApiKeyAuthenticator implements Authenticator {
  /** The default header, {@code X-Api-Key}. */
  public static final String DEFAULT_HEADER = "X-Api-Key";
  /** The default realm in the challenge. */
  public static final String DEFAULT_REALM = "api";

  private final CredentialHeader header;
  private final String queryParameter;
  private final byte[][] digests;
  private final Identity[] identities;
  private final String challenge;

  private ApiKeyAuthenticator(Builder b) {
    this.header = b.header == null ? null : CredentialHeader.named(b.header);
    this.queryParameter = b.queryParameter;
    this.digests = b.digests.toArray(new byte[0][]);
    this.identities = b.identities.toArray(new Identity[0]);
    String where = header != null ? "header=\"" + b.header + "\"" : "query=\"" + queryParameter
        + "\"";
    this.challenge = "ApiKey realm=\"" + b.realm + "\", " + where;
  }

  /**
   * Returns a builder for keys in the header {@code name}, e.g. {@value #DEFAULT_HEADER}.
   *
   * @param name the name
   * @return a builder for keys in the header {@code name}, e.g
   */
  public static Builder inHeader(String name) {
    requireNonNull(name, "name");
    if (!HttpSyntax.isToken(name)) {
      throw new IllegalArgumentException("header must be a header name, was '" + name + "'");
    }
    return new Builder(name, null);
  }

  /**
   * Returns a builder for keys in the query parameter {@code name}. Keys in URLs end up in
   * access logs and browser history: prefer a header.
   *
   * @param name the name
   * @return a builder for keys in the query parameter {@code name}
   */
  public static Builder inQueryParameter(String name) {
    requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("queryParameter must not be blank");
    }
    return new Builder(null, name);
  }

  /**
   * Returns the SHA-256 digest of {@code key} (UTF-8), hex-encoded: what {@code keyDigest} takes.
   *
   * @param key the key
   * @return the SHA-256 digest of {@code key} (UTF-8), hex-encoded: what {@code keyDigest} takes
   */
  public static String digestOf(String key) {
    return Hashing.sha256().hashString(requireNonNull(key, "key"), StandardCharsets.UTF_8)
        .toString();
  }

  @Override
  public AuthResult authenticate(OffloadRequest request, DecisionContext context) {
    String presented;
    if (header != null) {
      int count = request.headers().count(header.name());
      if (count == 0) {
        return AuthResult.missing(challenge);
      }
      Optional<String> value = header.value(request);
      if (value.isEmpty()) {
        return AuthResult.malformed("repeated " + header.name() + " header");
      }
      presented = value.get();
    } else {
      List<String> values = request.queryParameters().getOrDefault(queryParameter, List.of());
      if (values.isEmpty()) {
        return AuthResult.missing(challenge);
      }
      if (values.size() > 1) {
        return AuthResult.malformed("repeated " + queryParameter + " query parameter");
      }
      presented = values.get(0);
    }
    if (presented.isEmpty()) {
      return AuthResult.missing(challenge);
    }
    byte[] digest = Hashing.sha256().hashString(presented, StandardCharsets.UTF_8).asBytes();
    Identity found = null;
    for (int i = 0; i < digests.length; i++) { // no early exit: time independent of the match
      if (MessageDigest.isEqual(digests[i], digest) & found == null) {
        found = identities[i];
      }
    }
    return found != null
        ? AuthResult.authenticated(found) : AuthResult.invalid("invalid API key", challenge);
  }

  @Override
  public String toString() {
    return "apiKey(" + (header != null ? header.name() : "?" + queryParameter) + ", "
        + digests.length + " keys)";
  }

  /** Builds an {@link ApiKeyAuthenticator}. Not thread-safe. */
  public static final class Builder {
    private final String header;
    private final String queryParameter;
    private final List<byte[]> digests = new ArrayList<>();
    private final List<Identity> identities = new ArrayList<>();
    private String realm = DEFAULT_REALM;

    private Builder(String header, String queryParameter) {
      this.header = header;
      this.queryParameter = queryParameter;
    }

    /**
     * Accepts {@code key} as {@code identity}; only its SHA-256 digest is kept.
     *
     * @param key the key
     * @param identity the identity
     * @return this builder
     * @throws IllegalArgumentException if {@code key} is empty, or the same key was added before
     * (the message does not show the key)
     */
    public Builder key(String key, Identity identity) {
      requireNonNull(key, "key");
      if (key.isEmpty()) {
        throw new IllegalArgumentException("key must not be empty");
      }
      return add(Hashing.sha256().hashString(key, StandardCharsets.UTF_8).asBytes(), identity);
    }

    /**
     * Accepts the key whose SHA-256 digest is {@code sha256Hex} (see {@link #digestOf}) as
     * {@code identity}, so that configuration need not hold the key itself.
     *
     * @param sha256Hex the sha256 hex
     * @param identity the identity
     * @return this builder
     * @throws IllegalArgumentException if {@code sha256Hex} is not 64 hex digits, or was added
     * before
     */
    public Builder keyDigest(String sha256Hex, Identity identity) {
      requireNonNull(sha256Hex, "sha256Hex");
      if (!sha256Hex.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException(
            "keyDigest must be 64 hex digits (SHA-256), was " + sha256Hex.length() + " chars");
      }
      return add(com.google.common.io.BaseEncoding.base16().lowerCase()
          .decode(sha256Hex.toLowerCase(java.util.Locale.ROOT)), identity);
    }

    /**
     * Sets the realm of the challenge (default {@value #DEFAULT_REALM}).
     *
     * @param realm the realm
     * @return this builder
     * @throws IllegalArgumentException if {@code realm} holds a quote, backslash or control
     */
    public Builder realm(String realm) {
      requireNonNull(realm, "realm");
      if (realm.chars().anyMatch(c -> c < ' ' || c == '"' || c == '\\' || c == 0x7f)) {
        throw new IllegalArgumentException("realm must not hold quotes, backslashes or "
            + "controls, was '" + realm + "'");
      }
      this.realm = realm;
      return this;
    }

    private Builder add(byte[] digest, Identity identity) {
      requireNonNull(identity, "identity");
      for (byte[] known : digests) {
        if (MessageDigest.isEqual(known, digest)) {
          throw new IllegalArgumentException("the same key was added twice (for "
              + identity.subject() + ")");
        }
      }
      digests.add(digest);
      identities.add(identity);
      return this;
    }

    /**
     * Returns the authenticator.
     *
     * @return the authenticator
     * @throws IllegalStateException if no key was added
     */
    public ApiKeyAuthenticator build() {
      if (digests.isEmpty()) {
        throw new IllegalStateException("no API key: add one with key(...) or keyDigest(...)");
      }
      return new ApiKeyAuthenticator(this);
    }
  }
}
