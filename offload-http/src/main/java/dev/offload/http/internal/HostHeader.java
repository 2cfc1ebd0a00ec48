package dev.offload.http.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Validates a {@code Host} field value: RFC 9110 section 7.2, {@code Host = uri-host [ ":" port
 * ]}, where {@code uri-host} is RFC 3986's {@code host}: a {@code reg-name} (which covers IPv4
 * addresses), or an IPv6 address in brackets. There is no userinfo in it ({@code a@b} is refused)
 * and nothing else a proxy should not relay into {@code X-Forwarded-Host} or {@code Forwarded}.
 *
 * <pre>{@code
 * HostHeader.isValid("shop.example:8443")  // true
 * HostHeader.isValid("[2001:db8::1]:80")   // true
 * HostHeader.isValid("a@127.0.0.1:18099")  // false
 * }</pre>
 *
 * <p>The empty value is valid (a request target without an authority has an empty {@code Host});
 * an empty host with a port is not (RFC 9110 section 4.2.1). Not supported: IPvFuture literals
 * and IPv6 zone identifiers, which no HTTP client sends in {@code Host}. Stateless.
 */
public final class HostHeader {
  private static final String SUB_DELIMS = "!$&'()*+,;=";

  private HostHeader() {}

  /** Returns whether {@code value} is a valid {@code Host} field value. */
  public static boolean isValid(String value) {
    if (value.isEmpty()) {
      return true;
    }
    String host;
    String port;
    if (value.charAt(0) == '[') {
      int close = value.indexOf(']');
      if (close < 0) {
        return false;
      }
      host = value.substring(0, close + 1);
      String rest = value.substring(close + 1);
      if (!rest.isEmpty() && rest.charAt(0) != ':') {
        return false;
      }
      port = rest.isEmpty() ? null : rest.substring(1);
      if (!isIpv6Literal(host)) {
        return false;
      }
    } else {
      int colon = value.lastIndexOf(':');
      host = colon < 0 ? value : value.substring(0, colon);
      port = colon < 0 ? null : value.substring(colon + 1);
      if (host.isEmpty() || !isRegName(host)) {
        return false;
      }
    }
    return port == null || isPort(port);
  }

  /** RFC 3986 {@code reg-name}: unreserved, percent-encoded octets and sub-delims. */
  private static boolean isRegName(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length() || !isHex(s.charAt(i + 1)) || !isHex(s.charAt(i + 2))) {
          return false;
        }
        i += 2;
      } else if (!isUnreserved(c) && SUB_DELIMS.indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }

  /** {@code [} IPv6address {@code ]}, checked by the JDK's literal parser (no lookup). */
  private static boolean isIpv6Literal(String s) {
    int colons = 0;
    for (int i = 1; i < s.length() - 1; i++) {
      char c = s.charAt(i);
      if (c == ':') {
        colons++;
      } else if (!isHex(c) && c != '.') {
        return false; // no zone id, no IPvFuture
      }
    }
    if (colons < 2) {
      return false; // not IPv6; and the JDK would look up "[abc.def]" as a name
    }
    try {
      // a bracketed literal of hex digits, dots and colons is parsed, never resolved
      InetAddress.getByName(s);
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** RFC 3986 {@code port = *DIGIT}, bounded to what a TCP port can be. */
  private static boolean isPort(String s) {
    if (s.length() > 5) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return s.isEmpty() || Integer.parseInt(s) <= 65535;
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
}
