package dev.offload.core.async.internal;

import dev.offload.core.Headers;
import java.util.Locale;

/** Reads the {@code Prefer} request header (RFC 7240). */
public final class Prefer {
  private Prefer() {}

  /**
   * Returns whether the client asked for {@code respond-async} in any {@code Prefer} field
   * (comma-separated preferences, each maybe with parameters after {@code ;}, any case).
   *
   * @param headers the request's header fields
   * @return whether {@code respond-async} was asked for
   */
  public static boolean respondAsync(Headers headers) {
    for (String field : headers.all("Prefer")) {
      for (String preference : field.split(",", 32)) {
        int semi = preference.indexOf(';');
        String token = (semi < 0 ? preference : preference.substring(0, semi)).strip();
        int eq = token.indexOf('=');
        if (eq >= 0) {
          token = token.substring(0, eq).strip();
        }
        if (token.toLowerCase(Locale.ROOT).equals("respond-async")) {
          return true;
        }
      }
    }
    return false;
  }
}
