package dev.offload.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;

class DemoArgsTest {
  @Test
  void redisTakesAUriAndRefusesAnythingElseByName() {
    assertThat(Demo.Args.parse("--redis", "redis://127.0.0.1:6379").options().redis())
        .contains(URI.create("redis://127.0.0.1:6379"));
    assertThat(Demo.Args.parse().options().redis()).isEmpty();
    assertThatThrownBy(() -> Demo.Args.parse("--redis")).hasMessageContaining("--redis needs");
    assertThatThrownBy(() -> Demo.Args.parse("--redis", "not a uri"))
        .hasMessageContaining("'not a uri'");
    assertThatThrownBy(() -> Demo.Args.parse("--redis", "ftp://x"))
        .hasMessageContaining("'ftp://x'");
  }
}
