package com.example.shop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ShopGatewayTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final OffloadRouter router = ShopGateway.router(registry);

  @Test
  void staticFilesGoToTheCdnAndTheRestToTheShop() {
    Decision css = router.decide(OffloadRequest.get("/static/app.css").build());
    Decision.Redirect redirect = assertInstanceOf(Decision.Redirect.class, css);
    assertEquals("https://cdn.example.com/static/app.css", redirect.location());
    assertInstanceOf(Decision.PassThrough.class,
        router.decide(OffloadRequest.get("/orders/7").build()));
    Decision.Reject admin = assertInstanceOf(Decision.Reject.class,
        router.decide(OffloadRequest.get("/orders/admin").build()));
    assertEquals(401, admin.status());
  }

  @Test
  void theWrappedServerRoutesEveryPathAndShutsDownCleanly() throws Exception {
    HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(5)).build();
    try (ShopGateway shop = ShopGateway.start(0, router)) {
      String base = "http://127.0.0.1:" + shop.port();
      HttpResponse<String> css = client.send(HttpRequest.newBuilder(URI.create(base
          + "/static/app.css")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(302, css.statusCode(), "a path no context covers is routed too");
      HttpResponse<String> orders = client.send(HttpRequest.newBuilder(URI.create(base
          + "/orders/7")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals("orders", orders.body());
    }
    assertEquals(1.0, registry.get("offload.decisions").tag("route", "static").counter().count());
  }
}
