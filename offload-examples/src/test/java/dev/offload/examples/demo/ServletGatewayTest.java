package dev.offload.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The demo's router as a Servlet filter in embedded Jetty 12 answers like the JDK gateway. */
class ServletGatewayTest {
  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .followRedirects(HttpClient.Redirect.NEVER)
      .build();

  @Test
  void theSameRouterInJettyRedirectsCachesGuardsForwardsAndPassesThrough() throws Exception {
    try (DemoGateway demo = DemoGateway.start(DemoGateway.Options.defaults()
            .withPorts(DemoGateway.Ports.ephemeral()).withOrders(2, Duration.ZERO));
        ServletGateway jetty = ServletGateway.start(demo, 0)) {
      HttpResponse<String> asset = get(jetty, "/assets/app.css", null);
      HttpResponse<String> miss = get(jetty, "/static/app.js", null);
      HttpResponse<String> hit = get(jetty, "/static/app.js", null);
      HttpResponse<String> noKey = get(jetty, "/api/orders/1", null);
      HttpResponse<String> order = get(jetty, "/api/orders/1", DemoGateway.API_KEY);
      HttpResponse<String> hello = get(jetty, "/hello", null);

      assertThat(asset.statusCode()).isEqualTo(302);
      assertThat(asset.headers().firstValue("Location"))
          .hasValue(demo.cdnUri() + demo.assetManifest().get("/assets/app.css"));
      assertThat(miss.headers().firstValue("X-Cache-Status")).hasValue("MISS");
      assertThat(hit.headers().firstValue("X-Cache-Status")).hasValue("HIT");
      assertThat(hit.body()).isEqualTo(miss.body()).contains("DOMContentLoaded");
      assertThat(noKey.statusCode()).isEqualTo(401);
      assertThat(order.statusCode()).isEqualTo(200);
      assertThat(order.body()).contains("\"servedBy\" : \"orders\"");
      assertThat(demo.orders().received()).isEqualTo(1);
      assertThat(hello.body()).isEqualTo("hello from the host application (servlet)\n");
    }
  }

  private HttpResponse<String> get(ServletGateway jetty, String target, String key)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(jetty.uri().resolve(target))
        .timeout(Duration.ofSeconds(10));
    if (key != null) {
      b.header(DemoGateway.API_KEY_HEADER, key);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
