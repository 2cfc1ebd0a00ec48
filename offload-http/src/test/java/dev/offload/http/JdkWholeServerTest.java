package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Guard;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import dev.offload.http.jdk.OffloadHttpFilter;
import dev.offload.http.jdk.OffloadHttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Offload in front of a whole JDK server of several contexts: the filter and the wrapper. */
class JdkWholeServerTest {
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final OffloadExecutor executor = OffloadExecutor.of(OffloadRouter.builder()
      .guard("admin", Guard.denyWhen(r -> r.path().startsWith("/orders/admin"), 403, "no admin"))
      .route("static", Route.get("/static/**"),
          CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
      .otherwise(dev.offload.core.OffloadStrategy.passThrough())
      .build());
  private HttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
    threads.shutdownNow();
    executor.close();
  }

  private static HttpHandler answering(String body) {
    return ex -> {
      Loopback.respond(ex, 200, body.getBytes(UTF_8));
    };
  }

  private OffloadHttpServer started() throws IOException {
    HttpServer plain = HttpServer.create(new InetSocketAddress(Loopback.LOCALHOST, 0), 0);
    OffloadHttpServer gateway = OffloadHttpServer.wrap(plain, executor);
    gateway.createContext("/orders", answering("orders"));
    gateway.createContext("/users", answering("users"));
    gateway.setExecutor(threads);
    gateway.start();
    server = gateway;
    return gateway;
  }

  private Response get(String target) throws IOException {
    try (RawClient client = new RawClient(server.getAddress().getPort())) {
      return client.send("GET " + target + " HTTP/1.1\r\nHost: gw\r\n\r\n").read();
    }
  }

  @Test
  void routesRequestsForPathsThatNoContextCovers() throws IOException {
    started();
    Response response = get("/static/app.css");
    assertThat(response.status()).isEqualTo(302);
    assertThat(response.header("Location")).isEqualTo("https://cdn.example.com/static/app.css");
  }

  @Test
  void passesThroughToEachContextAndGuardsThemAll() throws IOException {
    started();
    assertThat(get("/orders/1").bodyText()).isEqualTo("orders");
    assertThat(get("/users/1").bodyText()).isEqualTo("users");
    Response denied = get("/orders/admin/x");
    assertThat(denied.status()).isEqualTo(403);
    assertThat(denied.bodyText()).contains("no admin");
  }

  @Test
  void aPathNoContextTakesGetsA404ProblemUntilTheHostAddsItsOwnRoot() throws IOException {
    OffloadHttpServer gateway = started();
    Response missing = get("/nothing");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.header("Content-Type")).isEqualTo("application/problem+json");

    HttpContext root = gateway.createContext("/", answering("root"));
    assertThat(root.getFilters()).containsExactly(gateway.filter());
    assertThat(get("/nothing").bodyText()).isEqualTo("root");

    gateway.removeContext("/");
    assertThat(get("/nothing").status()).isEqualTo(404);
  }

  @Test
  void theFilterGoesFirstOnAContextAndOnlyOnce() throws IOException {
    HttpServer plain = HttpServer.create();
    HttpContext context = plain.createContext("/a", answering("a"));
    com.sun.net.httpserver.Filter other = com.sun.net.httpserver.Filter.beforeHandler("other",
        ex -> { });
    context.getFilters().add(other);
    OffloadHttpFilter filter = OffloadHttpFilter.of(executor).addTo(context);
    assertThat(context.getFilters()).containsExactly(filter, other);
    assertThatThrownBy(() -> filter.addTo(context))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'/a'");
  }
}
