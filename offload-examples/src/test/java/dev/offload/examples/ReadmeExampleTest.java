package dev.offload.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.testing.FakeTicker;
import java.net.URI;
import org.junit.jupiter.api.Test;

/** The unit test the README shows, kept compiling and passing here. */
class ReadmeExampleTest {

  @Test
  void staticAssetsGoToTheCdn() {
    var ticker = new FakeTicker();
    var api = Backend.of("api", URI.create("http://127.0.0.1:8081"));
    OffloadRouter router = OffloadRouter.builder()
        .ticker(ticker)
        .route(Route.get("/static/**"), CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
        .route(Route.post("/api/images/**"), AsyncTaskStrategy.toQueue("images"))
        .route(Route.prefix("/api/"), FailoverStrategy.to(api))
        .build();                      // anything unmatched: PassThrough to the host's handler

    OffloadRequest request = OffloadRequest.get("/static/app.css").header("Accept", "text/css").build();
    Decision d = router.decide(request);

    assertThat(d).isInstanceOf(Decision.Redirect.class);
    assertThat(router.explain(request).toString())
        .contains("route #1 'GET|HEAD /static/**': matched")
        .contains("strategy: CdnStrategy.redirectTo(https://cdn.example.com)");
  }
}
