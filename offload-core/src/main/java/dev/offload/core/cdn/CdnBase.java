package dev.offload.core.cdn;

import dev.offload.core.internal.BaseUri;
import java.net.URI;
import java.util.Locale;

/**
 * A CDN base URI as the string that every URL under it starts with: scheme, authority and path
 * prefix, without a trailing slash. Appending an absolute, normalized path ({@code /x}) to it
 * always gives a URL on the same host, under the prefix.
 */
final class CdnBase {
  private CdnBase() {}

  /**
   * Returns the prefix for {@code base}.
   *
   * @throws IllegalArgumentException unless {@code base} is an absolute http(s) URI with a host
   *     and no user info, query or fragment
   */
  static String prefix(URI base) {
    BaseUri.check("CDN base", base);
    String scheme = base.getScheme().toLowerCase(Locale.ROOT);
    String path = base.getRawPath() == null ? "" : base.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return scheme + "://" + base.getRawAuthority() + path;
  }
}
