package dev.offload.http.internal;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import dev.offload.core.internal.HttpSyntax;
import dev.offload.http.TrustedProxies;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The request header fields a forward sends to a backend: what is dropped, what is rebuilt, and
 * how values keep their octets. The rules, in order:
 *
 * <ol>
 *   <li>Hop-by-hop fields and the fields {@code Connection} names are dropped (see {@link
 *       HeaderRules}); so are {@code Host}, {@code Content-Length} and {@code Expect}, which the
 *       client library sets from the URL and the body.
 *   <li>A name with an underscore is dropped unless {@code allowUnderscores} (nginx's default,
 *       {@code underscores_in_headers off}): CGI-style servers and frameworks map {@code -} and
 *       {@code _} to the same variable, so {@code X_Forwarded_For} or {@code Content_Length}
 *       would stand in for the real field. Even when underscores are allowed, a name that reads
 *       as a dropped or rebuilt field once {@code _} is {@code -} is dropped.
 *   <li>Method overrides ({@code X-HTTP-Method-Override}, {@code X-HTTP-Method}, {@code
 *       X-Method-Override}) are dropped from everyone: the router and the guards decided on the
 *       request's real method.
 *   <li>The forwarding family (every {@code X-Forwarded-*}, {@code Forwarded}, {@code Via},
 *       {@code X-Real-IP}, {@code True-Client-IP}, {@code X-Client-IP}, {@code CF-Connecting-IP},
 *       {@code X-Original-URL}, {@code X-Rewrite-URL}, {@code Front-End-Https}, client
 *       certificate fields, ... see {@link #isForwardingFamily}) is dropped unless the socket
 *       peer is a trusted proxy, in which case it is kept as received.
 *   <li>Rebuilt from what this gateway saw, and nothing else vouched for: {@code X-Forwarded-For}
 *       and {@code Forwarded} (appended to when the peer is trusted), {@code X-Forwarded-Proto}
 *       and {@code X-Forwarded-Host} (the trusted peer's own, else ours), and {@code Via} with
 *       the protocol version the request was received with (RFC 9110 section 7.6.3).
 * </ol>
 *
 * <p>Values are relayed octet for octet. Servers hand header values over as ISO-8859-1 (one char
 * per octet, see {@code ServerExchange.requestHeaders}); OkHttp writes header values as UTF-8.
 * So a value with octets above 0x7f is decoded as UTF-8 before OkHttp encodes it back: {@code
 * c3 a9} stays {@code c3 a9}. A value whose octets are not UTF-8 cannot be written unchanged by
 * OkHttp and is refused with {@link UnrelayableValueException} rather than altered.
 *
 * <p>Immutable, thread-safe.
 */
public final class ForwardedRequestHeaders {
  /** Our {@code Via} pseudonym (RFC 9110 section 7.6.3 received-by). */
  public static final String VIA_PSEUDONYM = "offload";

  /** Always dropped: set by the client library, or rebuilt by us. */
  private static final Set<String> REPLACED =
      Set.of("host", "content-length", "expect", "x-forwarded-for", "x-forwarded-proto",
          "x-forwarded-host", "forwarded", "via");

  private static final Set<String> METHOD_OVERRIDES =
      Set.of("x-http-method-override", "x-http-method", "x-method-override");

  /**
   * Fields by which proxies, CDNs and TLS terminators tell a backend who the client is, what it
   * asked for, or how it connected. Backends and frameworks trust them (Spring's {@code
   * ForwardedHeaderFilter}, IIS URL Rewrite, Rails, Express {@code trust proxy}); from anyone
   * but a trusted proxy they are lies. Any name starting with {@code x-forwarded-} is in the
   * family as well.
   */
  private static final Set<String> FORWARDING_FAMILY =
      Set.of("forwarded", "via", "x-forwarded", "x-real-ip", "true-client-ip", "x-client-ip",
          "x-cluster-client-ip", "cf-connecting-ip", "cf-connecting-ipv6", "cf-visitor",
          "fastly-client-ip", "x-proxyuser-ip", "x-originating-ip", "x-remote-ip",
          "x-remote-addr", "client-ip", "x-envoy-external-address", "x-original-url",
          "x-rewrite-url", "x-original-uri", "x-original-host", "x-original-forwarded-for",
          "x-host", "front-end-https", "x-url-scheme", "x-arr-ssl", "x-arr-clientcert",
          "x-client-cert", "x-ssl-client-cert", "ssl-client-cert", "x-client-verify",
          "ssl-client-verify", "x-ssl-client-verify", "x-scheme", "x-proxy-user-ip");

  private final TrustedProxies trustedProxies;
  private final boolean allowUnderscores;

  /**
   * @param trustedProxies whose forwarding fields are kept and appended to
   * @param allowUnderscores whether names with {@code _} are relayed (still not the look-alikes
   *     of dropped fields)
   */
  public ForwardedRequestHeaders(TrustedProxies trustedProxies, boolean allowUnderscores) {
    this.trustedProxies = requireNonNull(trustedProxies, "trustedProxies");
    this.allowUnderscores = allowUnderscores;
  }

  /** A header value whose octets OkHttp cannot write unchanged (they are not UTF-8). */
  public static final class UnrelayableValueException extends Exception {
    private static final long serialVersionUID = 1L;

    UnrelayableValueException(String name) {
      super("the value of " + name + " is neither ASCII nor UTF-8 and cannot be relayed unchanged");
    }
  }

  /** Returns whether {@code lowerName} belongs to the forwarding family (see the class comment). */
  public static boolean isForwardingFamily(String lowerName) {
    return lowerName.startsWith("x-forwarded-") || FORWARDING_FAMILY.contains(lowerName);
  }

  /**
   * Returns the fields for the backend. A value with octets above 0x7f comes back as the
   * string OkHttp's UTF-8 encoder writes as those same octets.
   *
   * @param in the request's fields as the server received them
   * @param peer the socket peer
   * @param scheme {@code http} or {@code https}, how the client reached us
   * @param protocol the request line's version, {@code HTTP/1.1} or {@code HTTP/1.0}
   * @throws UnrelayableValueException if a value that would be relayed is not ASCII or UTF-8
   */
  public Headers build(Headers in, InetAddress peer, String scheme, String protocol)
      throws UnrelayableValueException {
    Set<String> named = HeaderRules.connectionNamed(in);
    boolean trusted = trustedProxies.contains(peer);
    Headers.Builder out = Headers.builder();
    for (int i = 0; i < in.size(); i++) {
      String name = in.name(i);
      String lower = name.toLowerCase(Locale.ROOT);
      if (HeaderRules.isHopByHop(lower) || named.contains(lower) || REPLACED.contains(lower)
          || METHOD_OVERRIDES.contains(lower)
          || (!trusted && isForwardingFamily(lower))
          || (lower.indexOf('_') >= 0 && (!allowUnderscores || isLookAlike(lower)))) {
        continue;
      }
      out.add(name, octetsForOkHttp(name, in.value(i)));
    }
    String peerText = TrustedProxies.format(peer, false);
    String hostHeader = in.first("Host").orElse("");
    out.add("X-Forwarded-For",
        octetsForOkHttp("X-Forwarded-For", chain(trusted, in.all("X-Forwarded-For"), peerText)));
    String proto = trusted ? in.first("X-Forwarded-Proto").orElse(null) : null;
    out.add("X-Forwarded-Proto",
        proto != null ? octetsForOkHttp("X-Forwarded-Proto", proto) : scheme);
    String forwardedHost = trusted ? in.first("X-Forwarded-Host").orElse(null) : null;
    if (forwardedHost != null) {
      out.add("X-Forwarded-Host", octetsForOkHttp("X-Forwarded-Host", forwardedHost));
    } else if (!hostHeader.isEmpty()) {
      out.add("X-Forwarded-Host", octetsForOkHttp("X-Forwarded-Host", hostHeader));
    }
    StringBuilder element = new StringBuilder("for=");
    element.append(quoteIfNeeded(TrustedProxies.format(peer, true)));
    if (!hostHeader.isEmpty()) {
      element.append(";host=").append(quoteIfNeeded(hostHeader));
    }
    element.append(";proto=").append(scheme);
    out.add("Forwarded",
        octetsForOkHttp("Forwarded", chain(trusted, in.all("Forwarded"), element.toString())));
    out.add("Via",
        octetsForOkHttp("Via", chain(trusted, in.all("Via"), via(protocol))));
    return out.build();
  }

  /**
   * Returns our {@code Via} element for a request received with {@code protocol}: {@code 1.1
   * offload} for {@code HTTP/1.1}, {@code 1.0 offload} for {@code HTTP/1.0} (RFC 9110 section
   * 7.6.3: the protocol name is omitted when it is HTTP).
   */
  public static String via(String protocol) {
    String version = protocol.regionMatches(true, 0, "HTTP/", 0, 5)
        ? protocol.substring(5) : protocol;
    return (version.isEmpty() ? "1.1" : version) + " " + VIA_PSEUDONYM;
  }

  /** Whether a name with {@code _} reads as a field we drop or rebuild once {@code _} is {@code -}. */
  private static boolean isLookAlike(String lowerName) {
    String dashed = lowerName.replace('_', '-');
    return HeaderRules.isHopByHop(dashed) || REPLACED.contains(dashed)
        || METHOD_OVERRIDES.contains(dashed) || isForwardingFamily(dashed)
        || dashed.equals("authorization") || dashed.equals("cookie")
        || dashed.startsWith("content-");
  }

  /**
   * Returns {@code value} (one char per octet) as the string OkHttp's UTF-8 encoder turns back
   * into the same octets.
   *
   * @throws UnrelayableValueException if the octets are not UTF-8, or a char is not an octet
   */
  static String octetsForOkHttp(String name, String value) throws UnrelayableValueException {
    boolean ascii = true;
    for (int i = 0; i < value.length() && ascii; i++) {
      ascii = value.charAt(i) < 0x80;
    }
    if (ascii) {
      return value;
    }
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) > 0xff) {
        throw new UnrelayableValueException(name);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(value.getBytes(ISO_8859_1)))
          .toString();
    } catch (CharacterCodingException e) {
      throw new UnrelayableValueException(name);
    }
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
