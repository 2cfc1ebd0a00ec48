package dev.offload.core.cache;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * HTTP-date values ({@code Date}, {@code Expires}, {@code Last-Modified}, {@code
 * If-Modified-Since}) in the preferred IMF-fixdate form (RFC 9110 section 5.6.7). Only
 * differences between two dates are used: the cache never reads a wall clock.
 */
final class HttpDates {
  private HttpDates() {}

  /** Returns the instant, or null when {@code value} is absent or not an IMF-fixdate. */
  static Instant parse(String value) {
    if (value == null) {
      return null;
    }
    try {
      return ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
