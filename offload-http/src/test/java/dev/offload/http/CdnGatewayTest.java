package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cdn.AssetManifest;
import dev.offload.core.cdn.CachePolicy;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ArgumentsSource;

/** {@link CdnStrategy} through both adapters, on loopback. */
class CdnGatewayTest {
  private static final URI CDN = URI.create("https://cdn.example.com");

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final AtomicInteger hostCalls = new AtomicInteger();
  private final Gateway.Host host = request -> {
    hostCalls.incrementAndGet();
    return new Gateway.Reply(200, ("host saw " + request.target()).getBytes(UTF_8));
  };

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private Gateway.Running gateway(Gateway server) throws Exception {
    CachePolicy docs = CachePolicy.builder()
        .publicCache()
        .maxAge(Duration.ofMinutes(5))
        .sMaxAge(Duration.ofHours(1))
        .staleWhileRevalidate(Duration.ofSeconds(30))
        .vary("Accept-Encoding")
        .tags(request -> List.of("docs", "page-" + request.path().substring("/docs/".length())))
        .build();
    AssetManifest manifest = AssetManifest.of(Map.of("/assets/app.css", "/assets/app.3f2a9c1b.css"));
    OffloadRouter router = OffloadRouter.builder()
        .route("assets", Route.get("/assets/**"), CdnStrategy.redirect(CDN).fingerprinted(manifest))
        .route("docs", Route.get("/docs/**"), CdnStrategy.cacheHeaders(docs))
        .build();
    Gateway.Running running = server.start(OffloadExecutor.of(router), host);
    closeables.add(running);
    return running;
  }

  private static Response get(Gateway.Running gw, String target) throws Exception {
    try (RawClient client = new RawClient(gw.port())) {
      return client.send("GET " + target + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
          .read();
    }
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void cacheHeadersAreSetOnTheHostsResponse(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server);

    Response response = get(gw, "/docs/intro");

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyText()).isEqualTo("host saw /docs/intro");
    assertThat(response.header("Cache-Control"))
        .isEqualTo("public, max-age=300, s-maxage=3600, stale-while-revalidate=30");
    assertThat(response.header("Vary")).isEqualTo("Accept-Encoding");
    assertThat(response.header("Surrogate-Key")).isEqualTo("docs page-intro");
    assertThat(response.header("Cache-Tag")).isEqualTo("docs,page-intro");
    assertThat(hostCalls).hasValue(1);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void fingerprintedAssetIsRedirectedToItsImmutableCdnUrl(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server);

    Response css = get(gw, "/assets/app.css");
    assertThat(css.status()).isEqualTo(302);
    assertThat(css.header("Location")).isEqualTo("https://cdn.example.com/assets/app.3f2a9c1b.css");
    assertThat(css.header("Cache-Control")).isEqualTo("public, max-age=300");

    Response other = get(gw, "/assets/new.js?v=2");
    assertThat(other.status()).isEqualTo(302);
    assertThat(other.header("Location")).isEqualTo("https://cdn.example.com/assets/new.js?v=2");
    assertThat(hostCalls).hasValue(0);
  }

  @ParameterizedTest
  @ArgumentsSource(Gateway.Selected.class)
  void hostileAssetTargetsNeverLeaveTheCdn(Gateway server) throws Exception {
    Gateway.Running gw = gateway(server);
    for (String target : List.of("/assets//evil.com/x", "/assets/..%2f..%2fevil.com",
        "/assets/%5cevil.com", "/assets/x%0d%0aSet-Cookie:%20a=1", "/assets/%2e%2e/%2e%2e/x")) {
      Response response = get(gw, target);
      if (response.status() == 302) {
        assertThat(response.header("Location")).as(target).startsWith("https://cdn.example.com/");
        assertThat(URI.create(response.header("Location")).getRawAuthority()).as(target)
            .isEqualTo("cdn.example.com");
      } else {
        assertThat(response.status()).as(target).isEqualTo(400);
      }
      assertThat(response.headers()).as(target).doesNotContainKey("set-cookie");
    }
    assertThat(hostCalls).hasValue(0);
  }
}
