package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.guard.ApiKeyAuthenticator;
import dev.offload.core.guard.AuthenticationGuard;
import dev.offload.core.guard.Identity;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Received;
import dev.offload.http.Loopback.Response;
import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * A client cannot forge the identity an authentication guard establishes: raw requests through
 * a real gateway on both servers, to a backend and a host that record what they received.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class IdentityForgeryTest {
  private static final Identity ALICE = Identity.of("alice", Set.of("orders:read"));
  private static final List<String> FORGED = List.of(
      "X-Auth-Subject: admin", "x-auth-subject: root", "X-AUTH-SCOPES: admin",
      "X_Auth_Subject: admin", "x_auth_scopes: admin");

  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final BlockingQueue<Received> atHost = new LinkedBlockingQueue<>();

  private Gateway.Running gateway(URI backend, UnaryOperator<OffloadExecutor.Builder> config)
      throws Exception {
    OffloadRouter router = OffloadRouter.builder()
        .guard("api-key", AuthenticationGuard.of(
            ApiKeyAuthenticator.inHeader("X-Api-Key").key("k-alice", ALICE).build()))
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("b", backend)))
        .build();
    return closer.add(server.start(config.apply(OffloadExecutor.builder(router)).build(),
        request -> {
          atHost.add(request);
          return new Gateway.Reply(200, "host".getBytes(UTF_8));
        }));
  }

  private static String request(String target, List<String> headerLines) {
    StringBuilder sb = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: gw.example\r\n");
    for (String line : headerLines) {
      sb.append(line).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }

  private static List<String> with(String first, List<String> rest) {
    List<String> lines = new java.util.ArrayList<>();
    lines.add(first);
    lines.addAll(rest);
    return lines;
  }

  private Received forwardedWithForgedIdentity(UnaryOperator<OffloadExecutor.Builder> config)
      throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), config);
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("/api/orders", with("X-Api-Key: k-alice", FORGED))).read()
          .status()).isEqualTo(200);
    }
    return b.take();
  }

  @Test
  void backendReceivesTheEstablishedIdentityAndNeverTheClientsForgery() throws Exception {
    Received r = forwardedWithForgedIdentity(x -> x);
    assertThat(r.headers().get("x-auth-subject")).containsExactly("alice");
    assertThat(r.headers().get("x-auth-scopes")).containsExactly("orders:read");
    assertThat(r.headers()).doesNotContainKeys("x_auth_subject", "x_auth_scopes");
  }

  @Test
  void underscoreLookAlikesNeverReachTheBackendEvenWhenUnderscoresAreAllowed() throws Exception {
    Received r = forwardedWithForgedIdentity(
        x -> x.forwarding(f -> f.allowUnderscoresInHeaders(true)));
    assertThat(r.headers().get("x-auth-subject")).containsExactly("alice");
    assertThat(r.headers().get("x-auth-scopes")).containsExactly("orders:read");
    assertThat(r.headers()).doesNotContainKeys("x_auth_subject", "x_auth_scopes");
  }

  @Test
  void forgedIdentityWithoutAValidKeyIsRefusedAndReachesNoOne() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), x -> x);
    try (RawClient client = new RawClient(gw.port())) {
      Response missing = client.send(request("/api/orders", FORGED)).read();
      assertThat(missing.status()).isEqualTo(401);
      assertThat(missing.header("WWW-Authenticate")).startsWith("ApiKey ");
      Response wrong = client.send(request("/home", with("X-Api-Key: k-guess", FORGED))).read();
      assertThat(wrong.status()).isEqualTo(401);
    }
    gw.awaitHandled(2);
    assertThat(b.received).isEmpty();
    assertThat(atHost).isEmpty();
  }

  @Test
  void hostReceivesTheIdentityAsARequestAttributeOnAPassThrough() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), x -> x);
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("/home", with("X-Api-Key: k-alice", FORGED))).read()
          .status()).isEqualTo(200);
    }
    Received r = atHost.poll(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
    assertThat(r).isNotNull();
    assertThat(r.identity()).isEqualTo(ALICE);
    // the documented limit: the host's request is the client's, forged headers included
    assertThat(r.headers().get("x-auth-subject")).isNotNull();
  }
}
