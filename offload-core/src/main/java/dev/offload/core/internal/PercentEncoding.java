package dev.offload.core.internal;

import java.nio.charset.StandardCharsets;
import java.util.function.IntPredicate;

/** Percent-encoding (RFC 3986 section 2.1) of the characters a caller does not keep as they are. */
public final class PercentEncoding {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private PercentEncoding() {}

  /**
   * Returns {@code s} with every non-ASCII character, and every ASCII character that {@code keep}
   * rejects, percent-encoded as UTF-8 bytes (upper-case hex). Returns {@code s} itself when
   * nothing needs encoding.
   */
  public static String encode(String s, IntPredicate keep) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x80 || !keep.test(c)) {
        return encodeFrom(s, keep);
      }
    }
    return s;
  }

  private static String encodeFrom(String s, IntPredicate keep) {
    StringBuilder sb = new StringBuilder(s.length() + 16);
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c < 0x80 && keep.test(c)) {
        sb.append((char) c);
      } else {
        sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return sb.toString();
  }
}
