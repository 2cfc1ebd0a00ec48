package dev.offload.http.forward;

import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.internal.HttpSyntax;
import dev.offload.http.TrustedProxies;
import dev.offload.http.internal.HeaderRules;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The proxy rules for header fields, both ways. Stateless. */
final class ProxyHeaders {
  /** The {@code Via} pseudonym of this proxy. */
  static final String VIA = "1.1 offload";

  private ProxyHeaders() {}

  /**
   * The request fields sent to the backend: hop-by-hop fields and what {@code Connection} names
   * removed, the forwarding family rebuilt from the socket peer ({@code trusted}: appended to).
   */
  static Headers request(OffloadRequest request, InetAddress peer, boolean trusted) {
    Headers in = request.headers();
    Set<String> named = HeaderRules.connectionNamed(in);
    Headers.Builder out = Headers.builder();
    for (int i = 0; i < in.size(); i++) {
      String name = in.name(i);
      String lower = name.toLowerCase(Locale.ROOT);
      if (HeaderRules.isHopByHop(lower) || named.contains(lower)) {
        continue;
      }
      switch (lower) {
        case "host", "content-length", "expect", "x-forwarded-for", "x-forwarded-proto",
            "x-forwarded-host", "forwarded", "via" -> {
          continue; // set by the client library from the URL and body, or rebuilt below
        }
        case "x-real-ip" -> {
          if (!trusted) {
            continue;
          }
        }
        default -> {}
      }
      out.add(name, in.value(i));
    }
    String peerText = TrustedProxies.format(peer, false);
    String hostHeader = in.first("Host").orElse("");
    out.add("X-Forwarded-For", chain(trusted, in.all("X-Forwarded-For"), peerText));
    String proto = trusted ? in.first("X-Forwarded-Proto").orElse(null) : null;
    out.add("X-Forwarded-Proto", proto != null ? proto : request.scheme());
    String forwardedHost = trusted ? in.first("X-Forwarded-Host").orElse(null) : null;
    if (forwardedHost != null) {
      out.add("X-Forwarded-Host", forwardedHost);
    } else if (!hostHeader.isEmpty()) {
      out.add("X-Forwarded-Host", hostHeader);
    }
    StringBuilder element = new StringBuilder("for=");
    element.append(quoteIfNeeded(TrustedProxies.format(peer, true)));
    if (!hostHeader.isEmpty()) {
      element.append(";host=").append(quoteIfNeeded(hostHeader));
    }
    element.append(";proto=").append(request.scheme());
    out.add("Forwarded", chain(trusted, in.all("Forwarded"), element.toString()));
    out.add("Via", chain(trusted, in.all("Via"), VIA));
    return out.build();
  }

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
      if (HeaderRules.isHopByHop(lower) || named.contains(lower)
          || lower.equals("content-length")) {
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

  private static String chain(boolean trusted, List<String> received, String ours) {
    if (!trusted || received.isEmpty()) {
      return ours;
    }
    return String.join(", ", received) + ", " + ours;
  }

  /** RFC 7239 section 4: a value that is not a token is a quoted-string. */
  static String quoteIfNeeded(String value) {
    if (HttpSyntax.isToken(value)) {
      return value;
    }
    StringBuilder sb = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.append('"').toString();
  }
}
