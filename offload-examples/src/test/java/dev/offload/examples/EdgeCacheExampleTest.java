package dev.offload.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.BodySink;
import dev.offload.core.Decision;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.testing.FakeTicker;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's edge-cache snippet, kept compiling and passing here. */
class EdgeCacheExampleTest {

  @Test
  void aSecondRequestIsAnsweredFromTheEdgeCache() {
    FakeTicker ticker = new FakeTicker();
    EdgeCache cache = EdgeCache.builder()
        .maximumBytes(64 << 20)
        .maxObjectBytes(1 << 20)
        .ticker(ticker)
        .build();
    Backend images = Backend.of("images", URI.create("http://127.0.0.1:8082"));
    OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .route("img", Route.get("/img/**"), CdnStrategy.edgeCache(cache).from(images))
        .route("static", Route.get("/static/**"), CdnStrategy.edgeCache(cache))
        .build();

    OffloadRequest logo = OffloadRequest.get("/img/logo.png").header("Host", "shop.example")
        .build();
    Decision miss = router.decide(logo);
    assertThat(miss).isInstanceOf(Decision.Forward.class);
    assertThat(((Decision.Forward) miss).handle().responseHeaders().first("X-Cache-Status"))
        .contains("MISS");

    // what the forwarder does while it relays the backend's answer
    byte[] png = "png".getBytes(UTF_8);
    BodySink sink = ((Decision.Forward) miss).handle().responseFill().onResponse(200,
        Headers.of("Cache-Control", "max-age=3600", "Surrogate-Key", "logo"), png.length);
    sink.write(png, 0, png.length);
    sink.complete();
    ((Decision.Forward) miss).handle().onSuccess();

    ticker.advance(Duration.ofMinutes(1));
    Decision hit = router.decide(logo);
    assertThat(hit).isInstanceOf(Decision.ServeCached.class);
    Headers added = ((Decision.ServeCached) hit).handle().responseHeaders();
    assertThat(added.first("Age")).contains("60");
    assertThat(added.first("X-Cache-Status")).contains("HIT");

    assertThat(cache.purgeTag("logo")).isEqualTo(1);
    assertThat(router.decide(logo)).isInstanceOf(Decision.Forward.class);
  }
}
