package dev.offload.http.forward;

import dev.offload.core.Headers;
import dev.offload.http.internal.HeaderRules;
import java.util.Locale;
import java.util.Set;

/**
 * The proxy rules for response header fields, and the hand-over of request fields to OkHttp (the
 * request rules are {@link dev.offload.http.internal.ForwardedRequestHeaders}'s). Stateless.
 */
final class ProxyHeaders {
  private ProxyHeaders() {}

  /** Our headers as OkHttp's, bytes unchanged. */
  static okhttp3.Headers toOkHttp(Headers headers) {
    okhttp3.Headers.Builder out = new okhttp3.Headers.Builder();
    for (int i = 0; i < headers.size(); i++) {
      out.addUnsafeNonAscii(headers.name(i), headers.value(i));
    }
    return out.build();
  }

  /**
   * The response fields relayed to the client: hop-by-hop fields, what {@code Connection} names
   * and {@code Content-Length} (the server in front frames the body) removed; names that are not
   * tokens dropped.
   */
  static Headers response(okhttp3.Headers received) {
    Set<String> named = HeaderRules.connectionNamed(received.values("Connection"));
    Headers.Builder out = Headers.builder();
    for (int i = 0; i < received.size(); i++) {
      String name = received.name(i);
      String lower = name.toLowerCase(Locale.ROOT);
      if (!relayed(lower, named)) {
        continue;
      }
      if (name.equalsIgnoreCase(ProxyInterceptor.HIDDEN_CONTENT_ENCODING)) {
        name = "Content-Encoding";
      }
      try {
        out.add(name, received.value(i));
      } catch (IllegalArgumentException e) {
        // OkHttp already refuses CR/LF; a name that is not a token is dropped, not relayed
      }
    }
    return out.build();
  }

  /**
   * The same rule for a response whose fields are already ours (a client library that does not
   * decompress, such as Netty's codec): nothing is hidden, nothing renamed.
   */
  static Headers response(Headers received) {
    Set<String> named = HeaderRules.connectionNamed(received);
    Headers.Builder out = Headers.builder();
    for (int i = 0; i < received.size(); i++) {
      String name = received.name(i);
      if (!relayed(name.toLowerCase(Locale.ROOT), named)) {
        continue;
      }
      try {
        out.add(name, received.value(i));
      } catch (IllegalArgumentException e) {
        // a name that is not a token, or a value with CR/LF: dropped, not relayed
      }
    }
    return out.build();
  }

  /**
   * Whether a response field is relayed: not hop-by-hop, not named by {@code Connection}, not
   * {@code Content-Length} (the server in front frames the body).
   */
  private static boolean relayed(String lowerName, Set<String> connectionNamed) {
    return !(HeaderRules.isHopByHop(lowerName) || connectionNamed.contains(lowerName)
        || lowerName.equals("content-length"));
  }
}
