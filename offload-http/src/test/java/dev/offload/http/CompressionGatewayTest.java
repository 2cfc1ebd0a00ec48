package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/** Gzip of forwarded answers through a real gateway on both servers. */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class CompressionGatewayTest {
  private static final String TEXT = "{\"order\": 42, \"item\": \"book\"}\n".repeat(200);

  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();

  private static void answer(HttpExchange ex, Map<String, String> headers, String body) {
    try {
      headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
      byte[] bytes = body.getBytes(UTF_8);
      ex.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private Response get(Map<String, String> backendHeaders, String body, List<String> request)
      throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    b.responder = ex -> answer(ex, backendHeaders, body);
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("b", b.uri())))
        .build();
    Gateway.Running gw = closer.add(server.start(OffloadExecutor.builder(router)
        .compression(Compression.gzip().build()).build(), Gateway.Host.answering("host")));
    StringBuilder sb = new StringBuilder("GET /api/x HTTP/1.1\r\nHost: gw.example\r\n");
    request.forEach(line -> sb.append(line).append("\r\n"));
    try (RawClient client = new RawClient(gw.port())) {
      return client.send(sb.append("\r\n").toString()).read();
    }
  }

  private static String gunzip(byte[] body) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
      return new String(in.readAllBytes(), UTF_8);
    }
  }

  @Test
  void aCompressibleAnswerIsGzippedForAClientThatAcceptsIt() throws Exception {
    Response r = get(Map.of("Content-Type", "application/json", "ETag", "\"v1\""), TEXT,
        List.of("Accept-Encoding: br;q=1, gzip;q=0.8"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
    assertThat(r.header("Vary")).containsIgnoringCase("Accept-Encoding");
    assertThat(r.header("ETag")).isEqualTo("\"v1-gzip\"");
    assertThat(r.body().length).isLessThan(TEXT.length() / 10);
    assertThat(gunzip(r.body())).isEqualTo(TEXT);
  }

  @Test
  void aClientThatDoesNotAcceptGzipGetsTheIdentityBodyWithVary() throws Exception {
    for (String accept : List.of("Accept-Encoding: gzip;q=0", "Accept-Encoding: identity",
        "Accept-Encoding: gzip;q=oops")) {
      Response r = get(Map.of("Content-Type", "text/plain"), TEXT, List.of(accept));
      assertThat(r.header("Content-Encoding")).as(accept).isNull();
      assertThat(r.header("Vary")).as(accept).containsIgnoringCase("Accept-Encoding");
      assertThat(new String(r.body(), UTF_8)).as(accept).isEqualTo(TEXT);
    }
  }

  @Test
  void noTransformSmallIncompressibleOrEncodedAnswersAreLeftAlone() throws Exception {
    List<String> gzip = List.of("Accept-Encoding: gzip");
    assertThat(get(Map.of("Content-Type", "text/plain", "Cache-Control", "no-transform"), TEXT,
        gzip).header("Content-Encoding")).isNull();
    assertThat(get(Map.of("Content-Type", "text/plain"), "short", gzip)
        .header("Content-Encoding")).isNull();
    assertThat(get(Map.of("Content-Type", "image/png"), TEXT, gzip)
        .header("Content-Encoding")).isNull();
    Response encoded = get(Map.of("Content-Type", "text/plain", "Content-Encoding", "br"), TEXT,
        gzip);
    assertThat(encoded.header("Content-Encoding")).isEqualTo("br");
    assertThat(new String(encoded.body(), UTF_8)).isEqualTo(TEXT);
  }
}
