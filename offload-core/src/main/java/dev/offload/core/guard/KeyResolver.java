package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import com.google.common.net.InetAddresses;
import dev.offload.core.AttributeKey;
import dev.offload.core.CredentialHeader;
import dev.offload.core.OffloadRequest;
import dev.offload.core.Route;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

/**
 * What a {@link RateLimit} counts a request against: its key, such as the client's address, an
 * API key, or the identity an earlier guard attached. Requests with the same key share buckets.
 *
 * <pre>{@code
 * KeyResolver.clientAddress()
 * KeyResolver.header("X-Api-Key").orElse(KeyResolver.clientAddress())
 * KeyResolver.attribute(USER).and(KeyResolver.route("search", Route.prefix("/search")))
 * }</pre>
 *
 * <p>The factories prefix their keys with their kind ({@code ip:}, {@code header:x-api-key:},
 * {@code route:}, {@code attribute:}, {@code constant:}), so that a client cannot pick a header
 * value that equals another client's address and share, or drain, its bucket.
 *
 * <p>A resolver returns null when the request has no such key; the limit then does not apply to
 * it. Use {@link #orElse} so that a client cannot escape a limit by leaving its key out. Must be
 * thread-safe, fast and free of I/O: it runs in {@code decide} for every request.
 */
@FunctionalInterface
public interface KeyResolver {
  /**
   * Returns the key of {@code request}, or null when it has none.
   *
   * @param request the request
   * @return the key of {@code request}, or null when it has none
   */
  String resolve(OffloadRequest request);

  /**
   * The client's address, as {@link OffloadRequest#clientAddress()} has it: behind trusted
   * proxies the executor already resolved it from the forwarding chain, so a forged
   * {@code X-Forwarded-For} from an untrusted peer never changes it. Never null.
   *
   * @return the key resolver
   */
  static KeyResolver clientAddress() {
    return request -> addressKey(request.clientAddress());
  }

  /** {@code ip:} and the address as {@link InetAddresses#toAddrString} writes it; IPv4 faster. */
  private static String addressKey(InetAddress address) {
    if (address instanceof Inet4Address) {
      byte[] b = address.getAddress();
      return new StringBuilder(18).append("ip:")
          .append(b[0] & 0xff).append('.').append(b[1] & 0xff).append('.')
          .append(b[2] & 0xff).append('.').append(b[3] & 0xff).toString();
    }
    return "ip:" + InetAddresses.toAddrString(address);
  }

  /**
   * The value of the header field {@code name}, read through {@link CredentialHeader}: null when
   * the request carries none or repeats it, so a client cannot pick which value is counted.
   *
   * @param name the name
   * @return the key resolver
   * @throws IllegalArgumentException if {@code name} is blank
   */
  static KeyResolver header(String name) {
    CredentialHeader header = CredentialHeader.named(name);
    String prefix = "header:" + name.toLowerCase(java.util.Locale.ROOT) + ":";
    return request -> header.value(request).map(prefix::concat).orElse(null);
  }

  /**
   * {@code name} when {@code route} matches the request, else null: one bucket shared by every
   * request to that route (combine with {@link #and} for per-client buckets on a route).
   *
   * @param name the name
   * @param route the route
   * @return the key resolver
   * @throws IllegalArgumentException if {@code name} is blank
   */
  static KeyResolver route(String name, Route route) {
    requireNonNull(name, "name");
    requireNonNull(route, "route");
    if (name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
    String key = "route:" + name;
    return request -> route.matches(request) ? key : null;
  }

  /**
   * The attribute {@code key} as a string, e.g. the user an authentication guard added before
   * this one (guards run in order); null when absent.
   *
   * @param key the key
   * @return the key resolver
   */
  static KeyResolver attribute(AttributeKey<?> key) {
    requireNonNull(key, "key");
    String prefix = "attribute:" + key.name() + ":";
    return request -> request.attribute(key).map(v -> prefix + v).orElse(null);
  }

  /**
   * One key for every request: a global limit.
   *
   * @param key the key
   * @return the key resolver
   */
  static KeyResolver constant(String key) {
    requireNonNull(key, "key");
    String constant = "constant:" + key;
    return request -> constant;
  }

  /**
   * A key made of every part's key; null when any part is null. Parts are joined unambiguously
   * (each part's length is part of the key).
   *
   * @param parts the parts
   * @return the key resolver
   */
  static KeyResolver allOf(KeyResolver... parts) {
    requireNonNull(parts, "parts");
    List<KeyResolver> list = List.of(parts);
    if (list.isEmpty()) {
      throw new IllegalArgumentException("parts must not be empty");
    }
    KeyResolver[] array = list.toArray(new KeyResolver[0]);
    return request -> {
      StringBuilder sb = new StringBuilder();
      for (KeyResolver part : array) {
        String key = part.resolve(request);
        if (key == null) {
          return null;
        }
        sb.append(key.length()).append(':').append(key).append('|');
      }
      return sb.toString();
    };
  }

  /**
   * This key combined with {@code other}'s, see {@link #allOf(KeyResolver...)}.
   *
   * @param other the other
   * @return the key resolver
   */
  default KeyResolver and(KeyResolver other) {
    return allOf(this, requireNonNull(other, "other"));
  }

  /**
   * This key, or {@code other}'s when this has none.
   *
   * @param other the other
   * @return the key resolver
   */
  default KeyResolver orElse(KeyResolver other) {
    requireNonNull(other, "other");
    return request -> {
      String key = resolve(request);
      return key != null ? key : other.resolve(request);
    };
  }
}
