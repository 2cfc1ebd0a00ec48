package dev.offload.core.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code Cache-Control} parser, directive by directive; field lines separated by {@code ;;}. */
class CacheControlTest {

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "max-age=60                                   | max-age=60",
      "MAX-AGE=60, Public                           | public max-age=60",
      "max-age = 60                                 | max-age=60",
      "max-age=\"60\"                               | max-age=60",
      // quoted strings may hold commas and directive names; they are values, not directives
      "no-cache=\"Set-Cookie, private\", max-age=5  | no-cache max-age=5",
      "community=\"no-store, private\", max-age=5   | max-age=5",
      "x-private=1, s-maxage=10                     | s-maxage=10",
      "foo-no-store, max-age=1                      | max-age=1",
      // duplicates: the most restrictive wins
      "max-age=60, max-age=10                       | max-age=10",
      "max-age=10;;max-age=60                       | max-age=10",
      "public;;private                              | private public",
      // invalid delta-seconds: stale, not absent
      "max-age=soon                                 | max-age=0",
      "max-age=-1                                   | max-age=0",
      "max-age                                      | max-age=0",
      "max-age=99999999999999999999                 | max-age=2147483648",
      // broken syntax: that directive is skipped, the rest parsed
      "max-age=60 garbage, no-store                 | no-store",
      "max-age=\"60, no-store                       | ``",
      ",,, ,no-store,,                              | no-store",
      "stale-while-revalidate=30, stale-if-error=60 | stale-while-revalidate=30 stale-if-error=60",
      "must-revalidate, proxy-revalidate            | must-revalidate proxy-revalidate",
      "                                             | ``",
  })
  void parsesDirectiveByDirective(String fieldLines, String expected) {
    List<String> lines = fieldLines == null ? List.of("") : Arrays.asList(fieldLines.split(";;"));
    assertThat(CacheControl.parse(lines).toString()).isEqualTo(expected == null ? "" : expected);
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource({"0,0", "60,60", "abc,0", "'',0", "2147483649,2147483648"})
  void parsesDeltaSeconds(String value, long expected) {
    assertThat(CacheControl.deltaSeconds(value)).isEqualTo(expected);
  }
}
