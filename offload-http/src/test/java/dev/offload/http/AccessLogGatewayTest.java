package dev.offload.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.core.testing.FakeTicker;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import dev.offload.http.log.AccessLog;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * The access log through a real gateway on both servers: one JSON line per request, whatever the
 * decision, never a credential.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class AccessLogGatewayTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant T0 = Instant.parse("2026-11-28T07:00:00Z");

  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final FakeTicker ticker = new FakeTicker();

  private Gateway.Running gateway(URI backend) throws Exception {
    OffloadRouter router = OffloadRouter.builder()
        .ticker(ticker)
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("orders", backend)))
        .route("assets", Route.prefix("/assets/"),
            CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
        .route("deny", Route.prefix("/deny/"), (request, context) -> Decision.reject(403, "no"))
        .build();
    AccessLog log = AccessLog.builder()
        .sink(lines::add)
        .clock(Clock.fixed(T0, ZoneOffset.UTC))
        .ticker(ticker)
        .build();
    closer.add(log);
    OffloadExecutor executor = OffloadExecutor.builder(router)
        .correlationIds(CorrelationIds.standard())
        .accessLog(log)
        .build();
    return closer.add(server.start(executor, Gateway.Host.answering("host!")));
  }

  private JsonNode nextLine() throws Exception {
    String line = lines.poll(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
    assertThat(line).as("an access-log line").isNotNull().doesNotContain("\n");
    return JSON.readTree(line);
  }

  @Test
  void aForwardIsLoggedWithItsBackendStatusBytesAndRequestId() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri());
    Response response;
    try (RawClient client = new RawClient(gw.port())) {
      response = client.send("GET /api/orders/42?x=1 HTTP/1.1\r\nHost: gw.example\r\n\r\n")
          .read();
    }
    JsonNode line = nextLine();
    assertThat(line.get("time").asText()).isEqualTo("2026-11-28T07:00:00Z");
    assertThat(line.get("client").asText()).isEqualTo("127.0.0.1");
    assertThat(line.get("method").asText()).isEqualTo("GET");
    assertThat(line.get("path").asText()).isEqualTo("/api/orders/42");
    assertThat(line.get("decision").asText()).isEqualTo("forward");
    assertThat(line.get("backend").asText()).isEqualTo("orders");
    assertThat(line.get("instance").asText()).isEqualTo(b.uri().toString());
    assertThat(line.get("status").asInt()).isEqualTo(200);
    assertThat(line.get("bytes").asLong()).isEqualTo(2); // "ok"
    assertThat(line.get("duration_ms").asDouble()).isZero(); // the fake ticker did not move
    assertThat(line.get("request_id").asText()).isEqualTo(response.header("X-Request-Id"));
  }

  @Test
  void everyDecisionKindIsLoggedWithWhatWasAnswered() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri());
    List<String> seen = new ArrayList<>();
    try (RawClient client = new RawClient(gw.port())) {
      for (String target : List.of("/assets/app.css", "/deny/x", "/home")) {
        client.send("GET " + target + " HTTP/1.1\r\nHost: gw.example\r\n\r\n").read();
        JsonNode line = nextLine();
        seen.add(line.get("path").asText() + " " + line.get("decision").asText() + " "
            + line.get("status").asInt());
      }
      client.send("TRACE /x HTTP/1.1\r\nHost: gw.example\r\n\r\n").read();
      JsonNode line = nextLine();
      seen.add(line.get("method").asText() + " " + line.get("decision").asText() + " "
          + line.get("status").asInt());
    }
    assertThat(seen).containsExactly("/assets/app.css redirect 302", "/deny/x reject 403",
        "/home pass_through 200", "TRACE refused 405");
  }

  @Test
  void credentialsAndQueryStringsAreNeverLogged() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri());
    try (RawClient client = new RawClient(gw.port())) {
      client.send("GET /api/x?api_key=s3cret-q HTTP/1.1\r\nHost: gw.example\r\n"
          + "Authorization: Bearer s3cret-a\r\nCookie: session=s3cret-c\r\n"
          + "X-Api-Key: s3cret-k\r\n\r\n").read();
    }
    String line = lines.poll(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
    assertThat(line).isNotNull().contains("\"path\":\"/api/x\"").doesNotContain("s3cret");
  }
}
