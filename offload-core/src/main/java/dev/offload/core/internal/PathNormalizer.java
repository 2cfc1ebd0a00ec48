package dev.offload.core.internal;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Turns the raw path of a request target into the one normalized, decoded path that matching,
 * guards and forwarding all see, or into the reason to reject it.
 *
 * <p>Rules, in order: the path must start with {@code /}; NUL, CR, LF and other control
 * characters are refused raw or percent-encoded; a raw or encoded backslash and an encoded slash
 * are refused (they split segments differently in different servers); a percent sign must start
 * an escape of two ASCII hex digits (a fullwidth or other Unicode digit is refused); the decoded
 * bytes must be valid, shortest-form UTF-8; then dot segments are removed as RFC 3986 section
 * 5.2.4 says and repeated slashes merge. A {@code ..} that would climb above the root is dropped
 * when written plainly (as RFC 3986 does) and refused when any of its dots was percent-encoded,
 * since that is an attack, not a browser's mistake.
 */
public final class PathNormalizer {

  /**
   * The result: either {@code error} is non-null, or {@code path} (decoded, for matching) and
   * {@code encodedPath} (the same segments as the client encoded them, for a request line) are.
   * {@code rewritten} tells that normalization removed dot segments or merged slashes, so the
   * raw path names the resource differently than {@code path} does.
   */
  public record Result(String path, String encodedPath, boolean rewritten, String error) {
    static Result ok(String path, String encodedPath, boolean rewritten) {
      return new Result(path, encodedPath, rewritten, null);
    }

    static Result error(String error) {
      return new Result(null, null, false, error);
    }
  }

  private PathNormalizer() {}

  /** Normalizes {@code rawPath} (the target without its query). */
  public static Result normalize(String rawPath) {
    if (rawPath.isEmpty() || rawPath.charAt(0) != '/') {
      return Result.error("request target must be an absolute path starting with '/'");
    }
    if (isAlreadyNormal(rawPath)) {
      return Result.ok(rawPath, rawPath, false);
    }
    return slowNormalize(rawPath);
  }

  /**
   * True for the common path that needs no work: only unreserved characters and the few
   * delimiters that need no decoding, no empty segment and no dot segment.
   */
  private static boolean isAlreadyNormal(String path) {
    char prev = '/';
    int segmentStart = 1;
    for (int i = 1; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '/') {
        if (prev == '/' || isDotSegment(path, segmentStart, i)) {
          return false;
        }
        segmentStart = i + 1;
      } else if (!isPlain(c)) {
        return false;
      }
      prev = c;
    }
    return !isDotSegment(path, segmentStart, path.length());
  }

  private static boolean isDotSegment(String path, int from, int to) {
    int len = to - from;
    return (len == 1 && path.charAt(from) == '.')
        || (len == 2 && path.charAt(from) == '.' && path.charAt(from + 1) == '.');
  }

  private static boolean isPlain(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~'
        || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')'
        || c == '*' || c == '+' || c == ',' || c == ';' || c == '=' || c == ':' || c == '@';
  }

  private static Result slowNormalize(String raw) {
    Deque<String> out = new ArrayDeque<>();
    Deque<String> outEncoded = new ArrayDeque<>();
    boolean trailingSlash = false;
    boolean rewritten = false;
    int start = 1;
    while (start <= raw.length()) {
      int end = raw.indexOf('/', start);
      if (end < 0) {
        end = raw.length();
      }
      String rawSegment = raw.substring(start, end);
      boolean last = end == raw.length();
      Object decoded = decodeSegment(rawSegment);
      if (decoded instanceof Result error) {
        return error;
      }
      String segment = (String) decoded;
      boolean encoded = rawSegment.indexOf('%') >= 0;
      if (segment.equals(".")) {
        trailingSlash = last;
        rewritten = true;
      } else if (segment.equals("..")) {
        if (out.isEmpty()) {
          if (encoded) {
            return Result.error("encoded dot segment escapes the root");
          }
        } else {
          out.removeLast();
          outEncoded.removeLast();
        }
        trailingSlash = last;
        rewritten = true;
      } else if (segment.isEmpty()) {
        trailingSlash = last;
        rewritten |= !last; // only a trailing slash is not a merge
      } else {
        out.addLast(segment);
        outEncoded.addLast(encodeNonAscii(rawSegment));
        trailingSlash = false;
      }
      start = end + 1;
    }
    return Result.ok(join(out, trailingSlash), join(outEncoded, trailingSlash), rewritten);
  }

  private static String join(Deque<String> segments, boolean trailingSlash) {
    StringBuilder sb = new StringBuilder();
    for (String segment : segments) {
      sb.append('/').append(segment);
    }
    if (sb.length() == 0 || trailingSlash) {
      sb.append('/');
    }
    return sb.toString();
  }

  /**
   * Keeps a raw segment as the client encoded it (so {@code %3B} stays an encoded character and
   * never becomes a path parameter downstream), percent-encoding only non-ASCII characters that a
   * server handed over decoded.
   */
  private static String encodeNonAscii(String rawSegment) {
    return PercentEncoding.encode(rawSegment, c -> true);
  }

  /** Returns the decoded segment as a String, or a {@link Result} holding the error. */
  private static Object decodeSegment(String segment) {
    ByteBuffer bytes = ByteBuffer.allocate(segment.length() * 3);
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c == '%') {
        if (i + 2 >= segment.length()) {
          return Result.error("truncated percent-encoding in path");
        }
        int hi = PercentEncoding.hexValue(segment.charAt(i + 1));
        int lo = PercentEncoding.hexValue(segment.charAt(i + 2));
        if (hi < 0 || lo < 0) {
          return Result.error("malformed percent-escape in path: '%' must be followed by two"
              + " ASCII hex digits");
        }
        int b = (hi << 4) | lo;
        String problem = forbiddenByte(b, true);
        if (problem != null) {
          return Result.error(problem);
        }
        bytes.put((byte) b);
        i += 2;
      } else {
        String problem = c < 0x80 ? forbiddenByte(c, false) : null;
        if (problem != null) {
          return Result.error(problem);
        }
        if (c < 0x80) {
          bytes.put((byte) c);
        } else {
          // a server that handed us decoded non-ASCII text: keep it, as UTF-8
          int cp = segment.codePointAt(i);
          if (Character.charCount(cp) == 2) {
            i++;
          }
          bytes.put(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        }
      }
    }
    bytes.flip();
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      CharBuffer chars = decoder.decode(bytes);
      return chars.toString();
    } catch (CharacterCodingException e) {
      return Result.error("invalid or overlong UTF-8 in path");
    }
  }

  private static String forbiddenByte(int b, boolean encoded) {
    String how = encoded ? "encoded " : "";
    if (b == 0) {
      return how + "NUL in path";
    }
    if (b == '\r' || b == '\n') {
      return how + "CR or LF in path";
    }
    if (b < 0x20 || b == 0x7f) {
      return how + "control character in path";
    }
    if (b == '\\') {
      return how + "backslash in path";
    }
    if (b == '/' && encoded) {
      return "encoded slash in path";
    }
    if (!encoded && (b == ' ' || b == '"' || b == '<' || b == '>' || b == '`' || b == '{'
        || b == '}' || b == '|' || b == '^' || b == '#' || b == '?' || b == '[' || b == ']')) {
      return "character '" + (char) b + "' must be percent-encoded in path";
    }
    return null;
  }

  /**
   * Checks a raw query string: no raw NUL, CR or LF. Percent-escapes in a query are data (a form
   * field may hold an encoded line break) and are passed on encoded, so they are not judged here.
   * Returns the reason to reject, or null.
   */
  public static String checkQuery(String rawQuery) {
    for (int i = 0; i < rawQuery.length(); i++) {
      char c = rawQuery.charAt(i);
      if (c == 0 || c == '\r' || c == '\n') {
        return "NUL, CR or LF in query";
      }
    }
    return null;
  }

  /**
   * Returns {@code path} without its path parameters ({@code /a;x=1/b;y} becomes {@code /a/b}):
   * what a servlet container would match, so the router can tell whether such a path falls
   * under a protected prefix.
   */
  public static String stripParameters(String path) {
    StringBuilder sb = new StringBuilder(path.length());
    boolean inParameter = false;
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '/') {
        inParameter = false;
      } else if (c == ';') {
        inParameter = true;
      }
      if (!inParameter) {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
