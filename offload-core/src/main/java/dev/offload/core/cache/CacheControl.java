package dev.offload.core.cache;

import dev.offload.core.internal.HttpSyntax;
import java.util.List;
import java.util.Locale;

/**
 * The {@code Cache-Control} directives a shared cache acts on (RFC 9111 section 5.2), parsed
 * directive by directive from every field line: {@code token [ "=" ( token / quoted-string ) ]},
 * separated by commas outside quoted strings. Names are case-insensitive; a quoted value is
 * unescaped. Unknown directives are ignored, and so is a directive whose syntax is broken (an
 * unterminated quote ends the field line).
 *
 * <p>Duplicates: the most restrictive wins. A flag ({@code no-store}, {@code private}, ...) is set
 * when any occurrence sets it; of repeated delta-seconds ({@code max-age=60, max-age=10}) the
 * smallest counts. A delta-seconds that is not a number ({@code max-age=soon}) counts as 0 (stale,
 * as section 4.2.1 asks), and one too large is capped at {@value #MAX_DELTA_SECONDS} seconds
 * (2^31, section 1.2.2). Immutable.
 */
final class CacheControl {
  /** The largest delta-seconds value kept (RFC 9111 section 1.2.2). */
  static final long MAX_DELTA_SECONDS = 2147483648L;
  /** A delta-seconds directive that is absent. */
  static final long ABSENT = -1;

  static final CacheControl NONE = new CacheControl();

  boolean noStore;
  boolean noCache;
  boolean isPrivate;
  boolean isPublic;
  boolean mustRevalidate;
  boolean proxyRevalidate;
  boolean onlyIfCached;
  long maxAge = ABSENT;
  long sMaxAge = ABSENT;
  long staleWhileRevalidate = ABSENT;
  long staleIfError = ABSENT;

  private CacheControl() {}

  /** Parses every field line of {@code Cache-Control} (none: {@link #NONE}). */
  static CacheControl parse(List<String> fieldLines) {
    if (fieldLines.isEmpty()) {
      return NONE;
    }
    CacheControl cc = new CacheControl();
    for (String line : fieldLines) {
      cc.parseLine(line);
    }
    return cc;
  }

  /** Returns whether the response states how long it is fresh ({@code s-maxage}, {@code max-age}). */
  boolean hasExplicitMaxAge() {
    return sMaxAge != ABSENT || maxAge != ABSENT;
  }

  private void parseLine(String s) {
    int i = 0;
    int n = s.length();
    while (i < n) {
      // skip separators and whitespace
      char c = s.charAt(i);
      if (c == ',' || c == ' ' || c == '\t') {
        i++;
        continue;
      }
      int nameStart = i;
      while (i < n && HttpSyntax.isTokenChar(s.charAt(i))) {
        i++;
      }
      String name = s.substring(nameStart, i).toLowerCase(Locale.ROOT);
      i = skipSpace(s, i);
      String value = null;
      boolean broken = name.isEmpty();
      if (i < n && s.charAt(i) == '=') {
        i = skipSpace(s, i + 1);
        if (i < n && s.charAt(i) == '"') {
          StringBuilder v = new StringBuilder();
          i++;
          boolean closed = false;
          while (i < n) {
            char q = s.charAt(i++);
            if (q == '\\' && i < n) {
              v.append(s.charAt(i++));
            } else if (q == '"') {
              closed = true;
              break;
            } else {
              v.append(q);
            }
          }
          if (!closed) {
            return; // an unterminated quote: nothing after it can be trusted
          }
          value = v.toString();
        } else {
          int valueStart = i;
          while (i < n && HttpSyntax.isTokenChar(s.charAt(i))) {
            i++;
          }
          value = s.substring(valueStart, i);
        }
        i = skipSpace(s, i);
      }
      if (i < n && s.charAt(i) != ',') {
        broken = true; // garbage after the directive: skip to the next comma
        while (i < n && s.charAt(i) != ',') {
          i++;
        }
      }
      if (!broken) {
        apply(name, value);
      }
    }
  }

  private static int skipSpace(String s, int i) {
    while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
      i++;
    }
    return i;
  }

  private void apply(String name, String value) {
    switch (name) {
      case "no-store" -> noStore = true;
      // no-cache="Set-Cookie" (field names) is treated as plain no-cache: more restrictive
      case "no-cache" -> noCache = true;
      // private="Set-Cookie" likewise: a shared cache does not store it at all
      case "private" -> isPrivate = true;
      case "public" -> isPublic = true;
      case "must-revalidate" -> mustRevalidate = true;
      case "proxy-revalidate" -> proxyRevalidate = true;
      case "only-if-cached" -> onlyIfCached = true;
      case "max-age" -> maxAge = smallest(maxAge, value);
      case "s-maxage" -> sMaxAge = smallest(sMaxAge, value);
      case "stale-while-revalidate" -> staleWhileRevalidate = smallest(staleWhileRevalidate, value);
      case "stale-if-error" -> staleIfError = smallest(staleIfError, value);
      default -> { } // unknown directives are ignored (section 5.2.3)
    }
  }

  private static long smallest(long current, String value) {
    long parsed = deltaSeconds(value);
    return current == ABSENT ? parsed : Math.min(current, parsed);
  }

  /** Parses delta-seconds ({@code 1*DIGIT}); anything else is 0, too large is capped. */
  static long deltaSeconds(String value) {
    if (value == null || value.isEmpty()) {
      return 0;
    }
    long n = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      n = n * 10 + (c - '0');
      if (n > MAX_DELTA_SECONDS) {
        return MAX_DELTA_SECONDS;
      }
    }
    return n;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    if (noStore) sb.append("no-store ");
    if (noCache) sb.append("no-cache ");
    if (isPrivate) sb.append("private ");
    if (isPublic) sb.append("public ");
    if (mustRevalidate) sb.append("must-revalidate ");
    if (proxyRevalidate) sb.append("proxy-revalidate ");
    if (onlyIfCached) sb.append("only-if-cached ");
    if (sMaxAge != ABSENT) sb.append("s-maxage=").append(sMaxAge).append(' ');
    if (maxAge != ABSENT) sb.append("max-age=").append(maxAge).append(' ');
    if (staleWhileRevalidate != ABSENT) {
      sb.append("stale-while-revalidate=").append(staleWhileRevalidate).append(' ');
    }
    if (staleIfError != ABSENT) sb.append("stale-if-error=").append(staleIfError).append(' ');
    return sb.toString().strip();
  }
}
