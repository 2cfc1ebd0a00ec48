package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PathNormalizationTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "/, /",
    "/static/app.css, /static/app.css",
    "/a/./b, /a/b",
    "/a/b/../c, /a/c",
    "/a/b/.., /a/",
    "/a/b/., /a/b/",
    "/a//b///c, /a/b/c",
    "//a, /a",
    "/a/, /a/",
    "/../a, /a",
    "/a/../../b, /b",
    "/%61pp.css, /app.css",
    "/caf%C3%A9, /café",
    "/a%20b, /a b",
    "/%2e/a, /a",
    "/a/%2e%2e/b, /b",
    "/a/.%2E/b, /b",
    "/x;v=1/y, /x;v=1/y",
    "/a/b/./../c/, /a/c/",
  })
  void normalizesToOnePath(String raw, String expected) {
    OffloadRequest request = OffloadRequest.get(raw).build();
    assertThat(request.targetError()).isEmpty();
    assertThat(request.path()).isEqualTo(expected);
    assertThat(request.rawPath()).isEqualTo(raw);
  }

  @ParameterizedTest(name = "{0} refused: {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "/a%2fb | encoded slash",
        "/a%2Fb | encoded slash",
        "/a%5cb | encoded backslash",
        "/a%5Cb | encoded backslash",
        "/a\\b | backslash",
        "/a%00b | encoded NUL",
        "/a%0d%0aSet-Cookie:x | encoded CR or LF",
        "/a%0Ab | encoded CR or LF",
        "/%2e%2e/etc/passwd | encoded dot segment escapes the root",
        "/a/%2e%2e/%2e%2e/etc | encoded dot segment escapes the root",
        "/.%2e/x | encoded dot segment escapes the root",
        "/%c0%ae%c0%ae/x | invalid or overlong UTF-8",
        "/%c0%af | invalid or overlong UTF-8",
        "/%e0%80%af | invalid or overlong UTF-8",
        "/%ff | invalid or overlong UTF-8",
        "/%ed%a0%80 | invalid or overlong UTF-8",
        "/a%zz | malformed percent-escape",
        "/a% | truncated percent-encoding",
        "/a%4 | truncated percent-encoding",
        "/a%1f | encoded control character",
        "static | must be an absolute path",
      })
  void refusesUnsafeTargets(String raw, String reason) {
    OffloadRequest request = OffloadRequest.get(raw).build();
    assertThat(request.targetError()).hasValueSatisfying(e -> assertThat(e).contains(reason));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a\u0000b", "/a\rb", "/a\nb", "/a\tb"})
  void refusesRawControlCharactersInPath(String raw) {
    assertThat(OffloadRequest.get(raw).build().targetError()).isPresent();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a?x=\r", "/a?x=\n", "/a?x=\u0000"})
  void refusesRawNulCrLfInQuery(String target) {
    assertThat(OffloadRequest.get(target).build().targetError()).isPresent();
  }

  /** An encoded line break is form data, and a stray % is the host's business: both pass on. */
  @ParameterizedTest
  @ValueSource(strings = {"/a?text=line1%0Aline2", "/a?x=%0d%00", "/a?discount=100%", "/a?x=%zz"})
  void acceptsEscapesInQueryAsData(String target) {
    OffloadRequest request = OffloadRequest.get(target).build();
    assertThat(request.targetError()).isEmpty();
    assertThat(request.rawQuery()).hasValue(target.substring(target.indexOf('?') + 1));
  }

  /**
   * Hex digits are ASCII: {@code Character.digit} also reads fullwidth and other Unicode digits,
   * so {@code /%\uFF14\uFF11dmin} would be routed as {@code /Admin} while the host, which does
   * not decode it so, sees another path.
   */
  @ParameterizedTest
  @ValueSource(strings = {
    "/%\uFF14\uFF11dmin/x", // fullwidth 4 and 1
    "/%4\uFF11dmin/x",
    "/%\uFF14" + "1dmin/x",
    "/%\u0664\u0661dmin/x", // Arabic-Indic 4 and 1
    "/%6\uFF41dmin/x", // fullwidth small a, which Character.digit reads as 10
    "/a/%\uFF12\uFF45/x", // fullwidth 2 and e: an encoded dot
  })
  void refusesPercentEscapesWithNonAsciiHexDigits(String raw) {
    OffloadRequest request = OffloadRequest.get(raw).build();
    assertThat(request.targetError())
        .hasValueSatisfying(e -> assertThat(e).contains("malformed percent-escape"));
    assertThat(OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build()
        .decide(request))
        .isInstanceOfSatisfying(Decision.Reject.class, r -> assertThat(r.status()).isEqualTo(400));
  }

  /**
   * A query's escapes are data and are passed on encoded, but routes read its decoded parameters:
   * an escape with non-ASCII digits is malformed there too and is kept as it was sent, as
   * {@code %zz} is, never decoded to the letter that a lenient decoder would make of it.
   */
  @ParameterizedTest
  @ValueSource(strings = {"/a?role=%\uFF16\uFF11dmin", "/a?role=%6\uFF11dmin"})
  void doesNotDecodeQueryEscapesWithNonAsciiHexDigits(String target) {
    OffloadRequest request = OffloadRequest.get(target).build();
    String sent = target.substring(target.indexOf('=') + 1);
    assertThat(request.queryParameter("role")).hasValue(sent);
    assertThat(OffloadRequest.get("/a?role=%61dmin+x").build().queryParameter("role"))
        .hasValue("admin x");
  }

  @ParameterizedTest(name = "{0} canonical: {1}")
  @CsvSource({
    "/a/b, true",
    "/a/b/, true",
    "/%61/b, true",
    "/a//b, false",
    "//a, false",
    "/a/./b, false",
    "/a/../b, false",
    "/a/%2e%2e/b, false",
    "/a/b/.., false",
  })
  void tellsWhetherThePathWasRewritten(String raw, boolean canonical) {
    assertThat(OffloadRequest.get(raw).build().hasCanonicalPath()).isEqualTo(canonical);
  }

  @ParameterizedTest(name = "{0} encodes as {1}")
  @CsvSource({
    "/a/b, /a/b",
    "/a//b, /a/b",
    "/caf%C3%A9, /caf%C3%A9",
    "/café/x/.., /caf%C3%A9/",
    "/a%20b, /a%20b",
    "/%61/../b, /b",
    "/q%3Fx, /q%3Fx",
    "/h%23x, /h%23x",
    "/a%3Bb/./c, /a%3Bb/c",
    "/a%40b%3Dc/., /a%40b%3Dc/",
  })
  void encodedPathKeepsTheClientsEscapes(String raw, String encoded) {
    assertThat(OffloadRequest.get(raw).build().encodedPath()).isEqualTo(encoded);
  }
}
