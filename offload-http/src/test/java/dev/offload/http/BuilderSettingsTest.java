package dev.offload.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.http.forward.Forwarder;
import dev.offload.http.jdk.JdkServerLimits;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Settings added for hostile clients reject bad values, naming the setting. */
class BuilderSettingsTest {
  @Test
  void requestBodyTimeoutsMustBePositive() {
    assertThatThrownBy(() -> Forwarder.builder().requestBodyIdleTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("requestBodyIdleTimeout");
    assertThatThrownBy(() -> Forwarder.builder().requestBodyTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("requestBodyTimeout");
    Forwarder forwarder = Forwarder.builder().requestBodyIdleTimeout(Duration.ofMillis(1500))
        .build();
    assertThat(forwarder.requestBodyIdleTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(forwarder.requestBodyTimeout()).isEqualTo(Forwarder.DEFAULT_REQUEST_BODY_TIMEOUT);
  }

  @Test
  void jdkServerLimitsAreWholeSecondsBecauseTheJdkCountsInSeconds() {
    assertThatThrownBy(() -> JdkServerLimits.builder().maxRequestTime(Duration.ofMillis(500)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRequestTime")
        .hasMessageContaining("PT0.5S");
    assertThatThrownBy(() -> JdkServerLimits.builder().maxResponseTime(Duration.ofMillis(1500)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxResponseTime");
    assertThatThrownBy(() -> JdkServerLimits.builder().maxRequestHeaders(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRequestHeaders");
  }
}
