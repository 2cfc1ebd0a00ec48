package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import java.net.URI;
import org.junit.jupiter.api.Test;

class BackendNamesTest {
  private final Backend orders = Backend.of("orders", URI.create("http://127.0.0.1:8081"));
  private final Backend otherOrders = Backend.of("orders", URI.create("http://127.0.0.1:8082"));

  @Test
  void twoDifferentBackendsWithOneNameAreRefusedAtBuild() {
    assertThatThrownBy(() -> OffloadRouter.builder()
        .route("a", Route.prefix("/a"), FailoverStrategy.to(orders))
        .route("b", Route.prefix("/b"), OffloadStrategy.of("b", FailoverStrategy.to(otherOrders)))
        .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("two different backends are named 'orders'")
        .hasMessageContaining("route 'a'").hasMessageContaining("route 'b'")
        .hasMessageContaining("8082");
  }

  @Test
  void anEdgeCacheOriginCountsToo() {
    EdgeCache cache = EdgeCache.builder().maximumBytes(1 << 20).build();
    assertThatThrownBy(() -> OffloadRouter.builder()
        .route("img", Route.get("/img/**"), CdnStrategy.edgeCache(cache).from(otherOrders))
        .otherwise(FailoverStrategy.to(orders))
        .build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("otherwise");
  }

  @Test
  void oneBackendSharedByRoutesIsFine() {
    assertThatCode(() -> OffloadRouter.builder()
        .route("a", Route.prefix("/a"), FailoverStrategy.to(orders))
        .route("b", Route.prefix("/b"), FailoverStrategy.to(orders))
        .build()).doesNotThrowAnyException();
  }
}
