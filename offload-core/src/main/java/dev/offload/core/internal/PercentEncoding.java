package dev.offload.core.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntPredicate;

/**
 * Percent-encoding (RFC 3986 section 2.1): encoding the characters a caller does not keep as they
 * are, and the one reading of a hex digit that every decoder here uses.
 */
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

  /**
   * Returns the value of the hex digit {@code c}, or -1 when it is not one. Hex digits are ASCII
   * only ({@code 0-9 A-F a-f}, RFC 3986 section 2.1): unlike {@code Character.digit(c, 16)}, this
   * refuses fullwidth and other Unicode digits, which a host or a backend would not read as hex,
   * so an escape built of them would mean one thing here and another there.
   */
  public static int hexValue(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /**
   * Decodes a component of a form-encoded query ({@code application/x-www-form-urlencoded}):
   * {@code +} is a space, {@code %XX} a byte (ASCII hex digits only, see {@link #hexValue}), and
   * the bytes are read as UTF-8 with malformed sequences replaced by U+FFFD, as {@code
   * URLDecoder} does. Returns {@code s} unchanged when it holds a malformed or truncated escape:
   * query escapes are data for the host, which is given the raw query.
   */
  public static String decodeFormComponent(String s) {
    if (s.indexOf('%') < 0 && s.indexOf('+') < 0) {
      return s;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          return s;
        }
        int hi = hexValue(s.charAt(i + 1));
        int lo = hexValue(s.charAt(i + 2));
        if (hi < 0 || lo < 0) {
          return s;
        }
        bytes.write((hi << 4) | lo);
        i += 2;
      } else if (c == '+') {
        bytes.write(' ');
      } else if (c < 0x80) {
        bytes.write(c);
      } else {
        int end = Character.isHighSurrogate(c) && i + 1 < s.length() ? i + 2 : i + 1;
        bytes.writeBytes(s.substring(i, end).getBytes(StandardCharsets.UTF_8));
        i = end - 1;
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
