package dev.offload.core.cache;

import dev.offload.core.Headers;
import java.time.Instant;
import java.util.List;

/**
 * Whether a conditional {@code GET} or {@code HEAD} is answered 304 by a stored response (RFC
 * 9110 section 13.1): {@code If-None-Match} with the weak comparison, else {@code
 * If-Modified-Since} against {@code Last-Modified}.
 */
final class Conditionals {
  private Conditionals() {}

  /** Whether the stored response's validators match the request's preconditions. */
  static boolean notModified(Headers request, StoredResponse stored) {
    boolean hasNoneMatch = request.contains("If-None-Match");
    if (!hasNoneMatch && !request.contains("If-Modified-Since")) {
      return false; // the common case: not conditional
    }
    List<String> noneMatch = request.all("If-None-Match");
    if (!noneMatch.isEmpty()) {
      String storedTag = stored.etag == null ? null : opaque(stored.etag.strip());
      for (String line : noneMatch) {
        for (String tag : line.split(",")) {
          String t = tag.strip();
          // "*" matches any current representation, with or without an ETag
          if (t.equals("*") || (storedTag != null && !t.isEmpty() && opaque(t).equals(storedTag))) {
            return true;
          }
        }
      }
      return false; // If-Modified-Since is ignored when If-None-Match is present
    }
    if (stored.lastModified == null) {
      return false;
    }
    Instant since = HttpDates.parse(request.first("If-Modified-Since").orElse(null));
    return since != null && !stored.lastModified.isAfter(since);
  }

  /** The opaque-tag of an entity-tag: the weak comparison ignores {@code W/}. */
  private static String opaque(String entityTag) {
    return entityTag.startsWith("W/") ? entityTag.substring(2) : entityTag;
  }
}
