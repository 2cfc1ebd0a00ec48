package dev.offload.netty.internal;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Locale;

/**
 * One backend instance as the non-blocking forwarder connects to it: its socket address, the
 * {@code Host} field it is sent and its base path. Immutable.
 *
 * @param instance the instance's base URI
 * @param address where to connect, resolved
 * @param hostHeader the {@code Host} field value: host, and port unless 80
 * @param basePath the base path without a trailing slash
 */
public record BackendTarget(URI instance, InetSocketAddress address, String hostHeader,
    String basePath) {

  /**
   * Returns whether the non-blocking forwarder can reach {@code instance} at all: plain {@code
   * http} with a host (TLS to backends stays with the OkHttp forwarder).
   *
   * @param instance the instance's base URI
   * @return whether it is plain HTTP with a host
   */
  static boolean relayable(URI instance) {
    return "http".equals(String.valueOf(instance.getScheme()).toLowerCase(Locale.ROOT))
        && instance.getHost() != null;
  }

  /**
   * Returns the address of an instance whose host is an IP literal, or null for a host name
   * (resolving it may block: the caller resolves it elsewhere).
   *
   * @param instance the instance's base URI
   * @return the literal address, or null
   */
  static InetAddress literal(URI instance) {
    String host = instance.getHost();
    return InetAddresses.isUriInetAddress(host) ? InetAddresses.forUriString(host) : null;
  }

  /**
   * Returns the target of a relayable {@code instance} at {@code address}.
   *
   * @param instance the instance's base URI
   * @param address its host's address
   * @return the target
   */
  static BackendTarget of(URI instance, InetAddress address) {
    String host = instance.getHost();
    int port = instance.getPort() < 0 ? 80 : instance.getPort();
    String path = instance.getRawPath() == null ? "" : instance.getRawPath();
    String basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    return new BackendTarget(instance, new InetSocketAddress(address, port),
        port == 80 ? host : host + ":" + port, basePath);
  }
}
