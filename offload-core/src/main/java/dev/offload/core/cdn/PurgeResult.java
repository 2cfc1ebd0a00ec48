package dev.offload.core.cdn;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What a {@link CdnPurger} got done: which URLs or tags the CDN accepted to purge, after how many
 * attempts.
 *
 * @param kind URLs or tags
 * @param items the URLs (as strings) or tags purged
 * @param attempts how many requests it took (0 when there was nothing to purge)
 * @param status the CDN's HTTP status for the accepted request, 0 when none was sent
 */
public record PurgeResult(Kind kind, List<String> items, int attempts, int status) {
  /** What was purged; {@link #tag()} is the value of the {@code kind} metric tag. */
  public enum Kind {
    /** By URL. */
    URL("url"),
    /** By cache tag. */
    TAG("tag");

    private final String tag;

    Kind(String tag) {
      this.tag = tag;
    }

    /**
     * Returns the lower-case name used in metrics and messages.
     *
     * @return the lower-case name used in metrics and messages
     */
    public String tag() {
      return tag;
    }
  }

  /**
   * Checks and copies the values.
   *
   * @param kind the kind
   * @param items the items
   * @param attempts the attempts
   * @param status the HTTP status code
   */
  public PurgeResult {
    requireNonNull(kind, "kind");
    items = List.copyOf(requireNonNull(items, "items"));
    if (attempts < 0) {
      throw new IllegalArgumentException("attempts must not be negative, got " + attempts);
    }
  }
}
