package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Guard;
import dev.offload.core.GuardVerdict;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.core.Route;
import dev.offload.core.guard.IpRules;
import dev.offload.core.guard.RateLimit;
import dev.offload.core.guard.RateLimitPolicy;
import dev.offload.core.testing.FakeTicker;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Received;
import dev.offload.http.Loopback.Response;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * A guard scoped to {@code /admin} sees the normalized path, so spellings of {@code /admin} that
 * a server or the host would read as {@code /admin} either hit the guard or are refused with 400;
 * none reaches the host. Through a real gateway on both servers, with raw sockets.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class GuardPathBypassTest {
  private static final List<String> SPELLINGS =
      List.of("/admin", "//admin", "/./admin", "/admin/", "/%61dmin", "/admin;x", "/x/../admin",
          "/%2e/admin");

  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final List<Received> reachedHost = new CopyOnWriteArrayList<>();

  private Gateway.Running gateway(OffloadRouter router) throws Exception {
    Gateway.Running gateway = server.start(OffloadExecutor.of(router), request -> {
      reachedHost.add(request);
      return new Gateway.Reply(200, "host".getBytes(ISO_8859_1));
    });
    closer.add(gateway);
    return gateway;
  }

  private static int status(Gateway.Running gateway, String target) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      Response response = client.send(
          "GET " + target + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n").read();
      return response.status();
    }
  }

  /**
   * 400, or the rule's status. The JDK server reads {@code //admin} as an authority with an empty
   * path and answers 404 itself, before offload or the host sees it: refused too.
   */
  private List<Integer> refusedOr(int ruleStatus, String target) {
    return server == Gateway.JDK && target.startsWith("//")
        ? List.of(400, ruleStatus, 404) : List.of(400, ruleStatus);
  }

  @Test
  void anIpRuleScopedToAdminCannotBeBypassedBySpelling() throws Exception {
    Route admin = Route.prefix("/admin");
    IpRules loopbackDenied = IpRules.denyList().add("127.0.0.0/8").add("::1").build();
    Guard adminIsRemoteOnly = (request, context) ->
        admin.matches(request) ? loopbackDenied.check(request, context) : GuardVerdict.admit();
    Gateway.Running gw = gateway(OffloadRouter.builder().guard("admin-ip", adminIsRemoteOnly)
        .otherwise(OffloadStrategy.passThrough()).build());
    assertThat(status(gw, "/public")).isEqualTo(200);
    for (String target : SPELLINGS) {
      assertThat(status(gw, target)).as(target).isIn(refusedOr(403, target));
    }
    assertThat(status(gw, "/%61dmin")).as("decoded, then the rule").isEqualTo(403);
    assertThat(status(gw, "/admin/")).isEqualTo(403);
    assertThat(reachedHost).extracting(Received::target).containsExactly("/public");
  }

  @Test
  void aRateLimitScopedToAdminCountsEverySpelling() throws Exception {
    RateLimit adminLimit = RateLimit.builder()
        .limit(RateLimitPolicy.of("admin", 1, Duration.ofHours(1)))
        .appliesTo(Route.prefix("/admin"))
        .build();
    Gateway.Running gw = gateway(OffloadRouter.builder().ticker(new FakeTicker())
        .guard("admin-rate", adminLimit).otherwise(OffloadStrategy.passThrough()).build());
    assertThat(status(gw, "/admin")).as("the one token").isEqualTo(200);
    for (String target : SPELLINGS) {
      assertThat(status(gw, target)).as(target).isIn(refusedOr(429, target));
    }
    assertThat(status(gw, "/%61dmin")).as("decoded, then the rule").isEqualTo(429);
    assertThat(status(gw, "/admin/")).isEqualTo(429);
    assertThat(status(gw, "/public")).isEqualTo(200);
    assertThat(reachedHost).extracting(Received::target).containsExactly("/admin", "/public");
  }
}
