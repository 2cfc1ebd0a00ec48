package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RelativeGlobTest {
  private static boolean matches(Route route, String path) {
    return route.matches(OffloadRequest.get(path).build());
  }

  @Test
  void aRelativeGlobStartingWithALiteralSegmentAndHoldingDoubleStarIsRefusedWithTheFix() {
    assertThatThrownBy(() -> Route.get("static/**"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'static/**'")
        .hasMessageContaining("/x/static/y")
        .hasMessageContaining("'/static/**'")
        .hasMessageContaining("'**/static/**'");
    assertThatThrownBy(() -> Route.path("assets/**/*.js")).hasMessageContaining("'/assets/**/*.js'");
  }

  @Test
  void relativeGlobsThatSayAnyDepthStayAllowed() {
    assertThat(matches(Route.path("*.css"), "/a/b/site.css")).isTrue();
    assertThat(matches(Route.path("**/static/**"), "/x/static/y")).isTrue();
    assertThat(matches(Route.get("/static/**"), "/x/static/y")).isFalse();
  }
}
