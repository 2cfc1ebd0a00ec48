package dev.offload.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class GatewayDemoTest {

  @Test
  void demoGatewayRedirectsForwardsPassesThroughAnswersFromTheEdgeCacheRateLimitsAndRejects() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    GatewayDemo.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(out)
        .contains("GET /static/app.css?v=3  ->  302  Location: https://cdn.example.com/static/app.css?v=3")
        .contains("GET /img/logo.png  ->  200  X-Cache-Status: MISS  (host handler calls so far: 2)")
        .contains("GET /img/logo.png  ->  200  X-Cache-Status: HIT  (host handler calls so far: 2)")
        .contains("GET /api/orders?page=2  ->  200")
        .contains("GET /api/orders?page=3  ->  429  Retry-After: ")
        .contains("\"seenPath\":\"/api/orders\"")
        .contains("\"seenForwardedFor\":\"127.0.0.1\"")
        .contains("GET /index.html  ->  200")
        .contains("hello from the host application: /index.html")
        .contains("GET /admin/stats  ->  401")
        .contains("admin key required")
        .contains("GET /static/%2e%2e/%2e%2e/etc/passwd  ->  400")
        .contains("POST /api/thumbnails (2 MP PNG)  ->  202  Location: /offload/tasks/")
        .containsPattern("GET /offload/tasks/[A-Za-z0-9_-]{22}  ->  303  Location: /offload/tasks/")
        .containsPattern("/result  ->  200  image/png  320x240 PNG")
        .contains("offload.tasks.completed")
        .contains("offload.forward.requests");
  }
}
