package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.CachedResponse;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Outcome;
import dev.offload.core.failover.BackendLoad;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every {@link Decision.Kind} is executed: a router deciding that kind, on the JDK gateway,
 * answers with what the kind means, and a holding decision's handle is completed. The switch
 * over the kinds has no default, so a kind added without a case here does not compile (or, run
 * against a newer core, throws): a new kind cannot slip past the executor untested.
 */
class ExhaustiveDispatchTest {
  /** What to decide, and what the client must get. */
  private record Scenario(OffloadStrategy strategy, int status, String body, String header,
      String headerValue) {}

  @ParameterizedTest
  @EnumSource(Decision.Kind.class)
  void everyDecisionKindIsExecutedAndItsHandleCompleted(Decision.Kind kind) throws Exception {
    AtomicReference<Decision> decided = new AtomicReference<>();
    try (Loopback.Backend backend = new Loopback.Backend()) {
      BackendLoad load = BackendLoad.of(Backend.of("b", backend.uri()));
      Scenario scenario = switch (kind) {
        case PASS_THROUGH -> new Scenario((request, context) -> Decision.passThrough(context),
            200, "host", null, null);
        case REDIRECT -> new Scenario((request, context) ->
            new Decision.Redirect(307, "https://cdn.example/page", Headers.empty()),
            307, "", "Location", "https://cdn.example/page");
        case SERVE_CACHED -> new Scenario((request, context) ->
            new Decision.ServeCached(
                CachedResponse.of(200, Headers.of("X-Cache", "hit"), "cached".getBytes(UTF_8)),
                DecisionHandle.create(context.ticker())),
            200, "cached", "X-Cache", "hit");
        case FORWARD -> new Scenario((request, context) -> load.forward(context),
            200, "ok", null, null);
        case OFFLOAD -> new Scenario((request, context) ->
            new Decision.Offload("jobs", DecisionHandle.create(context.ticker())),
            202, "", "Location", "/tasks/jobs/1");
        case REJECT -> new Scenario((request, context) -> Decision.reject(429, "slow down"),
            429, null, "Content-Type", "application/problem+json");
      };
      OffloadRouter router = OffloadRouter.builder()
          .otherwise((request, context) -> {
            Decision decision = scenario.strategy().decide(request, context);
            decided.set(decision);
            return decision;
          })
          .build();
      OffloadExecutor executor = OffloadExecutor.builder(router)
          .offloadHandler((offload, request, exchange) -> {
            offload.handle().complete(Outcome.SUCCESS, FailureKind.NONE, 202, 0);
            exchange.startResponse(202, Headers.of("Location", "/tasks/" + offload.queue() + "/1"),
                0);
            exchange.responseBody().close();
          })
          .build();

      try (Gateway.Running gw = Gateway.JDK.start(executor, Gateway.Host.answering("host"));
          RawClient client = new RawClient(gw.port())) {
        Response response = client.send("GET /page HTTP/1.1\r\nHost: a\r\n\r\n").read();
        gw.awaitHandled(1);

        assertThat(decided.get().kind()).isEqualTo(kind);
        assertThat(response.status()).isEqualTo(scenario.status());
        if (scenario.body() != null) {
          assertThat(response.bodyText()).isEqualTo(scenario.body());
        }
        if (scenario.header() != null) {
          assertThat(response.header(scenario.header())).isEqualTo(scenario.headerValue());
        }
        if (decided.get() instanceof Decision.Holding holding) {
          assertThat(holding.handle().isCompleted()).as("%s handle completed", kind).isTrue();
          assertThat(holding.handle().outcome()).hasValue(Outcome.SUCCESS);
        }
      }
      if (kind == Decision.Kind.FORWARD) {
        assertThat(backend.take().target()).isEqualTo("/page");
      }
    }
  }
}
