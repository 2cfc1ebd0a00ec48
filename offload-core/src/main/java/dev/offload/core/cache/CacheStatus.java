package dev.offload.core.cache;

import java.util.Locale;

/**
 * What the edge cache did for one request: the value of the {@value #HEADER} response field and
 * the {@code result} tag of {@value EdgeCache#REQUESTS_METER}.
 */
public enum CacheStatus {
  /** Answered from a fresh stored response; the origin was not contacted. */
  HIT,
  /** Nothing stored: the request went to the origin, and its response may be stored. */
  MISS,
  /**
   * Answered from a stale stored response instead of a backend's failure, as its {@code
   * stale-if-error} allows.
   */
  STALE,
  /** A stale stored response was confirmed by the origin (a 304) and answered. */
  REVALIDATED,
  /** The cache was not used for this request (its method, a {@code Range}, unkeyed headers). */
  BYPASS,
  /** A stored response was stale: the request went to the origin to replace it. */
  EXPIRED;

  /** The response header field that names the status. */
  public static final String HEADER = "X-Cache-Status";

  /**
   * Returns the lower-case name used as a metric tag.
   *
   * @return the lower-case name used as a metric tag
   */
  public String tag() {
    return name().toLowerCase(Locale.ROOT);
  }
}
