package dev.offload.core.internal;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.Locale;

/**
 * The one check for a configured base URI (a backend instance, a CDN base): absolute {@code http}
 * or {@code https}, with a host, and no user info, query or fragment. User info is refused
 * because it would be sent with every request, or printed in every redirect's {@code Location}.
 */
public final class BaseUri {
  private BaseUri() {}

  /**
   * Returns {@code uri} when it is a valid base.
   *
   * @param setting what the URI configures, for the message ({@code "CDN base"})
   * @throws IllegalArgumentException naming {@code setting} and {@code uri} otherwise
   */
  public static URI check(String setting, URI uri) {
    requireNonNull(uri, setting);
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          setting + " must be an absolute http or https URI, got '" + uri + "'");
    }
    if (uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(setting
          + " must have a host and no user info, query or fragment, got '" + uri + "'");
    }
    return uri;
  }
}
