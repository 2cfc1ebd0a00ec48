package dev.offload.netty.internal;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Locale;

/**
 * One backend instance as the non-blocking forwarder connects to it: its socket address, resolved
 * once without DNS (an IP literal or {@code localhost}), the {@code Host} field it is sent and
 * its base path. Immutable.
 *
 * @param instance the instance's base URI
 * @param address where to connect
 * @param hostHeader the {@code Host} field value: host, and port unless 80
 * @param basePath the base path without a trailing slash
 */
public record BackendTarget(URI instance, InetSocketAddress address, String hostHeader,
    String basePath) {

  /**
   * Returns the target of {@code instance}, or null when the non-blocking forwarder cannot reach
   * it without blocking or without TLS: not {@code http}, or a host name that needs DNS.
   *
   * @param instance the instance's base URI
   * @return the target, or null
   */
  public static BackendTarget of(URI instance) {
    if (!"http".equals(String.valueOf(instance.getScheme()).toLowerCase(Locale.ROOT))
        || instance.getHost() == null) {
      return null;
    }
    String host = instance.getHost();
    InetAddress address;
    if (host.equalsIgnoreCase("localhost")) {
      address = InetAddress.getLoopbackAddress();
    } else if (InetAddresses.isUriInetAddress(host)) {
      address = InetAddresses.forUriString(host);
    } else {
      return null; // a name: resolving it here could block the event loop
    }
    int port = instance.getPort() < 0 ? 80 : instance.getPort();
    String path = instance.getRawPath() == null ? "" : instance.getRawPath();
    String basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    return new BackendTarget(instance, new InetSocketAddress(address, port),
        port == 80 ? host : host + ":" + port, basePath);
  }
}
