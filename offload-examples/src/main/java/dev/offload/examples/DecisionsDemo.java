package dev.offload.examples;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.Guard;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.async.AsyncTaskStrategy;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.testing.FakeTicker;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.net.URI;
import java.util.List;

/**
 * Builds a router and prints, for a handful of requests, what it decides and why. No server,
 * no I/O: this is exactly what a unit test of your routing sees.
 */
public final class DecisionsDemo {
  private DecisionsDemo() {}

  /** Builds the demo router. */
  static OffloadRouter router(FakeTicker ticker, SimpleMeterRegistry registry, Backend api) {
    return OffloadRouter.builder()
        .ticker(ticker)
        .meterRegistry(registry)
        .guard("blocklist", Guard.denyWhen(
            r -> r.clientAddress().getHostAddress().equals("198.51.100.66"), 403, "blocked"))
        .route("static", Route.get("/static/**"),
            CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
        .route("images", Route.post("/api/images/**"), AsyncTaskStrategy.toQueue("images"))
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(api))
        .build();
  }

  /** The requests the demo decides. */
  static List<OffloadRequest> requests() {
    return List.of(
        OffloadRequest.get("/static/app.css").header("Accept", "text/css").build(),
        OffloadRequest.post("/api/images/42/resize").header("Content-Type", "image/png").build(),
        OffloadRequest.get("/api/orders?page=2").build(),
        OffloadRequest.get("/index.html").build(),
        OffloadRequest.get("/static/%2e%2e/%2e%2e/etc/passwd").build(),
        OffloadRequest.get("/api/orders").clientAddress("198.51.100.66").build());
  }

  /** Decides and explains each request, then prints the metrics. */
  static void run(PrintStream out) {
    FakeTicker ticker = new FakeTicker();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Backend api = Backend.of("api", URI.create("http://127.0.0.1:8081"));
    OffloadRouter router = router(ticker, registry, api);
    out.println(router);
    out.println();
    for (OffloadRequest request : requests()) {
      Decision decision = router.decide(request);
      out.println(request + "  =>  " + decision.kind().tag());
      if (decision instanceof Decision.Holding holding) {
        holding.handle().onSuccess(); // a real adapter completes it after executing the decision
      }
      out.println(router.explain(request));
      out.println();
    }
    out.println("metrics:");
    for (Meter meter : registry.getMeters()) {
      out.println("  " + meter.getId().getName() + " " + meter.getId().getTags() + " = "
          + meter.measure().iterator().next().getValue());
    }
  }

  /**
   * Runs the demo.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    run(System.out);
  }
}
