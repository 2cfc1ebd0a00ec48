package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Globs against hostile paths: the answer stays right and the work grows linearly with the path.
 * Work is counted in matcher steps (one per segment tried, one per character compared), never
 * measured in wall-clock time; the machine that runs the tests is shared and noisy.
 */
class GlobMatchingCostTest {

  /** Path sizes: big enough that a quadratic matcher is 4x, not 2x, slower at twice the size. */
  private static final int N = 1_000;

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static RequestMatcher.GlobPath glob(String pattern) {
    return (RequestMatcher.GlobPath) Route.path(pattern).matcher;
  }

  /** Matches {@code path} (normalized as a request would be), asserts the answer, returns steps. */
  private static long steps(String pattern, String target, boolean expected) {
    String path = OffloadRequest.get(target).build().path();
    RequestMatcher.GlobPath.Steps steps = new RequestMatcher.GlobPath.Steps();
    assertThat(glob(pattern).matches(path, steps))
        .as("%s vs a path of %d chars", pattern, path.length())
        .isEqualTo(expected);
    return steps.count;
  }

  /**
   * Asserts the right answer for {@code path(N)} and {@code path(2N)}, that doubling the path
   * at most about doubles the steps, and that the steps stay within pattern length x path length.
   */
  private static void assertLinear(String pattern, IntFunction<String> path, boolean expected) {
    String longPath = path.apply(2 * N);
    // only a safety net, generous: a quadratic matcher would fail the step count, slowly
    long small = assertTimeoutPreemptively(TIMEOUT, () -> steps(pattern, path.apply(N), expected));
    long large = assertTimeoutPreemptively(TIMEOUT, () -> steps(pattern, longPath, expected));
    assertThat(large)
        .as("steps for %s at twice the path length (%d steps before)", pattern, small)
        .isLessThanOrEqualTo(small * 21 / 10 + 64);
    assertThat(large).isLessThanOrEqualTo((long) pattern.length() * longPath.length());
  }

  private static String repeat(String s, int times) {
    return s.repeat(times);
  }

  @ParameterizedTest(name = "{0} against {1}")
  @CsvSource({
    "/**/a/**/b.js, false",
    "/**/a/**/a/**/b.js, false",
    "/**/a/**/img/*.png, false",
  })
  void doubleStarsWithLiteralsBetweenAreLinearOnAMiss(String pattern, boolean expected) {
    String tail = pattern.endsWith(".png") ? "/x.png" : "/xb.js";
    assertLinear(pattern, n -> "/hello" + repeat("/a", n) + tail, expected);
  }

  @Test
  void doubleStarsWithLiteralsBetweenAreLinearOnAHit() {
    assertLinear("/**/a/**/b.js", n -> "/hello" + repeat("/a", n) + "/b.js", true);
    assertLinear("/**/a/**/a/**/b.js", n -> repeat("/a", n) + "/b.js", true);
    assertLinear("/**/a/**/img/*.png", n -> repeat("/a", n) + "/img/x.png", true);
    assertLinear("/**/a/**/img/*.png", n -> repeat("/img/a", n) + "/img/x.png", true);
  }

  @Test
  void starsWithinOneLongSegmentAreLinear() {
    assertLinear("*a*a*a*b", n -> "/" + repeat("a", 10 * n) + "b", true);
    assertLinear("*a*a*a*b", n -> "/" + repeat("a", 10 * n) + "/b", false);
    assertLinear("/*a*a*a*b/x", n -> "/" + repeat("a", 10 * n) + "/x", false);
    assertLinear("/**/*a*a*a*b/x", n -> repeat("/" + repeat("a", 50), n) + "/x", false);
  }

  /** The reported attacks: one request of each took from about a second to a minute of CPU. */
  @Test
  void reportedAttackPathsAreDecidedInLinearSteps() {
    String[][] cases = {
      {"/**/a/**/b.js", "/hello" + repeat("/a", 100_000) + "/xb.js"},
      {"/**/a/**/a/**/b.js", repeat("/a", 3_000) + "/xb.js"},
      {"/**/a/**/img/*.png", repeat("/a", 10_000) + "/x.png"},
    };
    for (String[] c : cases) {
      long steps =
          assertTimeoutPreemptively(TIMEOUT, () -> steps(c[0], c[1], false));
      assertThat(steps).as(c[0]).isLessThanOrEqualTo(4L * c[1].length());
    }
  }

  /**
   * The linear matcher answers as a plain recursive one does (exponential, but fine on short
   * inputs), over many random short patterns and paths.
   */
  @Test
  void answersAsABacktrackingMatcherDoes() {
    String[] patternSegments = {"**", "a", "b", "*", "a*", "*b", "*a*", "ab"};
    String[] pathSegments = {"a", "b", "ab", "ba", "aab", "x"};
    Random random = new Random(7);
    for (int round = 0; round < 20_000; round++) {
      StringBuilder pattern = new StringBuilder(random.nextInt(4) == 0 ? "" : "/");
      int m = 1 + random.nextInt(5);
      for (int i = 0; i < m; i++) {
        pattern.append(i > 0 ? "/" : "").append(patternSegments[random.nextInt(8)]);
      }
      StringBuilder path = new StringBuilder();
      int n = random.nextInt(7);
      for (int i = 0; i < n; i++) {
        path.append('/').append(pathSegments[random.nextInt(6)]);
      }
      if (path.length() == 0 || random.nextInt(5) == 0) {
        path.append('/');
      }
      String p = pattern.toString();
      String target = path.toString();
      if (!p.startsWith("/") && p.split("/", 2)[0].indexOf('*') < 0 && p.contains("**")) {
        // "ab/**" is refused: relative, it would match /x/ab/y (RelativeGlobTest)
        assertThatThrownBy(() -> new RequestMatcher.GlobPath(p))
            .isInstanceOf(IllegalArgumentException.class);
        continue;
      }
      assertThat(new RequestMatcher.GlobPath(p).matches(target, null))
          .as("%s vs %s", p, target)
          .isEqualTo(backtrackingMatch(p, target));
    }
  }

  /** The reference: tries every number of segments for every {@code **}. */
  private static boolean backtrackingMatch(String pattern, String path) {
    List<String> globs = new ArrayList<>();
    if (!pattern.startsWith("/")) {
      globs.add("**");
    }
    for (String part : pattern.split("/")) {
      if (!part.isEmpty()) {
        globs.add(part);
      }
    }
    String p = path.length() > 1 && path.endsWith("/")
        ? path.substring(0, path.length() - 1)
        : path;
    String[] segments = p.substring(1).split("/", -1);
    return backtrack(globs, 0, segments, 0);
  }

  private static boolean backtrack(List<String> globs, int gi, String[] segments, int si) {
    if (gi == globs.size()) {
      return si == segments.length;
    }
    String glob = globs.get(gi);
    if (glob.equals("**")) {
      for (int k = si; k <= segments.length; k++) {
        if (backtrack(globs, gi + 1, segments, k)) {
          return true;
        }
      }
      return false;
    }
    String regex = ("\\Q" + glob + "\\E").replace("*", "\\E[^/]*\\Q");
    return si < segments.length
        && Pattern.matches(regex, segments[si])
        && backtrack(globs, gi + 1, segments, si + 1);
  }
}
