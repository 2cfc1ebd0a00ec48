package dev.offload.core.cache;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * One purge of an {@link EdgeCache}, as a value: what {@link EdgeCache#addPurgeListener
 * listeners} are told of and what {@link EdgeCache#apply} carries out (for a purge made on
 * another instance of a fleet).
 *
 * @param kind what is purged
 * @param host the host of a {@link Kind#URL} purge, lower case; empty for the other kinds
 * @param value the target of a {@link Kind#URL} purge, the prefix of a {@link Kind#PREFIX}, the
 *     tag of a {@link Kind#TAG}; empty for {@link Kind#ALL}
 */
public record Purge(Kind kind, String host, String value) {
  /** What a purge removes. */
  public enum Kind {
    /** The responses for one host and request target ({@link EdgeCache#purge}). */
    URL,
    /** The responses whose path starts with a prefix ({@link EdgeCache#purgePrefix}). */
    PREFIX,
    /** The responses tagged with a tag ({@link EdgeCache#purgeTag}). */
    TAG,
    /** Everything ({@link EdgeCache#purgeAll}). */
    ALL
  }

  /**
   * Checks the parts.
   *
   * @param kind what is purged
   * @param host the host of a URL purge; empty for the other kinds
   * @param value the target, prefix or tag; empty for {@link Kind#ALL}
   * @throws NullPointerException if a part is null
   * @throws IllegalArgumentException if a {@link Kind#URL} purge has no host or target, or a
   *     prefix or tag is empty
   */
  public Purge {
    requireNonNull(kind, "kind");
    requireNonNull(host, "host");
    requireNonNull(value, "value");
    host = host.toLowerCase(Locale.ROOT);
    if (kind == Kind.URL && (host.isEmpty() || value.isEmpty())) {
      throw new IllegalArgumentException("a URL purge needs a host and a target, got '" + host
          + "' and '" + value + "'");
    }
    if ((kind == Kind.PREFIX || kind == Kind.TAG) && value.isEmpty()) {
      throw new IllegalArgumentException("an empty " + kind.name().toLowerCase(Locale.ROOT)
          + " purges nothing; use Purge.all()");
    }
  }

  /**
   * Returns the purge of one host and request target.
   *
   * @param host the host
   * @param target the request target, as sent
   * @return the purge
   */
  public static Purge url(String host, String target) {
    return new Purge(Kind.URL, host, target);
  }

  /**
   * Returns the purge of the responses whose path starts with {@code pathPrefix}.
   *
   * @param pathPrefix the path prefix
   * @return the purge
   */
  public static Purge prefix(String pathPrefix) {
    return new Purge(Kind.PREFIX, "", pathPrefix);
  }

  /**
   * Returns the purge of the responses tagged {@code tag}.
   *
   * @param tag the tag
   * @return the purge
   */
  public static Purge tag(String tag) {
    return new Purge(Kind.TAG, "", tag);
  }

  /**
   * Returns the purge of everything.
   *
   * @return the purge
   */
  public static Purge all() {
    return new Purge(Kind.ALL, "", "");
  }
}
