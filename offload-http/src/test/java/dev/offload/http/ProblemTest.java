package dev.offload.http;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.http.internal.Problem;
import org.junit.jupiter.api.Test;

class ProblemTest {
  @Test
  void escapesQuotesBackslashesControlAndNonAsciiCharacters() {
    String json = new String(Problem.json(400, "a\"b\\c\u0001d\u2028é</script>"), US_ASCII);
    assertThat(json).isEqualTo("{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
        + "\"detail\":\"a\\\"b\\\\c\\u0001d\\u2028\\u00e9</script>\"}");
  }
}
