package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.testing.FakeTicker;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Received;
import dev.offload.http.Loopback.Response;
import dev.offload.http.guard.ExternalAuthorizer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * The external authorizer through both adapters: the call is made by the executor, never by
 * {@code decide}; answers are cached on the ticker; it fails closed; the identity it returns
 * reaches the backend and a forged one does not.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class ExternalAuthorizerTest {
  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final BlockingQueue<Received> atHost = new LinkedBlockingQueue<>();
  private final FakeTicker ticker = new FakeTicker();
  private Loopback.Backend authz;
  private Loopback.Backend backend;

  @BeforeEach
  void services() throws Exception {
    authz = closer.add(new Loopback.Backend());
    authz.responder = ex -> {
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      if ("Bearer good".equals(auth)) {
        ex.getResponseHeaders().set("X-Auth-Subject", "alice");
        Loopback.respond(ex, 200, new byte[0]);
      } else if (auth == null) {
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"authz\"");
        Loopback.respond(ex, 401, new byte[0]);
      } else {
        Loopback.respond(ex, 403, new byte[0]);
      }
    };
    backend = closer.add(new Loopback.Backend());
  }

  private OffloadRouter router(URI authzUri) {
    return OffloadRouter.builder()
        .ticker(ticker)
        .guard("authz", ExternalAuthorizer.builder(authzUri.resolve("/check"))
            .cacheTtl(Duration.ofSeconds(30))
            .ticker(ticker)
            .skip(Route.prefix("/public/"))
            .build())
        .route("cdn", Route.prefix("/img/"), CdnStrategy.redirectTo(URI.create("https://cdn.example")))
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("b", backend.uri())))
        .build();
  }

  private Gateway.Running gateway(OffloadRouter router) throws Exception {
    return closer.add(server.start(OffloadExecutor.builder(router).build(), request -> {
      atHost.add(request);
      return new Gateway.Reply(200, "host".getBytes(UTF_8));
    }));
  }

  private static String request(String target, String... headerLines) {
    StringBuilder sb = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: gw.example\r\n");
    for (String line : headerLines) {
      sb.append(line).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }

  @Test
  void theExecutorCallsTheAuthorizerAndTheBackendGetsItsIdentityNotAForgedOne() throws Exception {
    OffloadRouter router = router(authz.uri());
    Decision decided = router.decide(OffloadRequest.get("/api/orders")
        .header("Authorization", "Bearer good").build());
    router.explain(OffloadRequest.get("/api/orders").header("Authorization", "Bearer good")
        .build());
    assertThat(authz.received).isEmpty(); // decide and explain made no call
    ((Decision.Holding) decided).handle().onDropped();

    Gateway.Running gw = gateway(router);
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send(request("/api/orders?x=1", "Authorization: Bearer good",
          "X-Auth-Subject: admin", "X_Auth_Subject: admin")).read();
      assertThat(response.status()).isEqualTo(200);
    }
    Received asked = authz.take();
    assertThat(asked.header("X-Original-URI")).isEqualTo("/api/orders?x=1");
    assertThat(asked.header("X-Original-Method")).isEqualTo("GET");
    assertThat(asked.header("Authorization")).isEqualTo("Bearer good");
    Received forwarded = backend.take();
    assertThat(forwarded.headers().get("x-auth-subject")).containsExactly("alice");
    assertThat(forwarded.headers()).doesNotContainKey("x_auth_subject");
  }

  @Test
  void answersAreCachedForTheTtlOnTheTicker() throws Exception {
    Gateway.Running gw = gateway(router(authz.uri()));
    try (RawClient client = new RawClient(gw.port())) {
      for (int i = 0; i < 3; i++) {
        assertThat(client.send(request("/api/a", "Authorization: Bearer good")).read().status())
            .isEqualTo(200);
      }
      assertThat(authz.received).hasSize(1);
      ticker.advance(31, TimeUnit.SECONDS);
      assertThat(client.send(request("/api/a", "Authorization: Bearer good")).read().status())
          .isEqualTo(200);
    }
    assertThat(authz.received).hasSize(2);
    assertThat(backend.received).hasSize(4);
  }

  @Test
  void deniedRequestsReachNoOneWithTheAuthorizersStatus() throws Exception {
    Gateway.Running gw = gateway(router(authz.uri()));
    try (RawClient client = new RawClient(gw.port())) {
      Response missing = client.send(request("/home")).read();
      assertThat(missing.status()).isEqualTo(401);
      assertThat(missing.header("WWW-Authenticate")).isEqualTo("Bearer realm=\"authz\"");
      Response wrong = client.send(request("/api/a", "Authorization: Bearer bad")).read();
      assertThat(wrong.status()).isEqualTo(403);
      // cached denial, applied in decide
      assertThat(client.send(request("/api/a", "Authorization: Bearer bad")).read().status())
          .isEqualTo(403);
    }
    gw.awaitHandled(3);
    assertThat(authz.received).hasSize(2);
    assertThat(backend.received).isEmpty();
    assertThat(atHost).isEmpty();
  }

  @Test
  void anUnreachableAuthorizerFailsClosedWith503() throws Exception {
    Gateway.Running gw = gateway(
        router(URI.create("http://127.0.0.1:" + Loopback.closedPort())));
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("/home", "Authorization: Bearer good")).read().status())
          .isEqualTo(503);
    }
    gw.awaitHandled(1);
    assertThat(atHost).isEmpty();
  }

  @Test
  void skippedRoutesAreNotAskedAndAnUnskippedRedirectIsRefused() throws Exception {
    Gateway.Running gw = gateway(router(authz.uri()));
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("/public/x")).read().status()).isEqualTo(200);
      assertThat(client.send(request("/img/a.png", "Authorization: Bearer good")).read()
          .status()).isEqualTo(500);
    }
    assertThat(authz.received).isEmpty();
    assertThat(atHost.poll(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS).target())
        .isEqualTo("/public/x");
    assertThat(List.copyOf(atHost)).isEmpty();
  }
}
