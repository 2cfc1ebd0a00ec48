package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.Loopback.RawBackend;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Received;
import dev.offload.http.Loopback.Response;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * What reaches the backend of the request's header fields: the forwarding family, underscore
 * look-alikes, octets above 0x7f, {@code Via} and {@code Max-Forwards}. Raw requests through a
 * real gateway on both servers to a backend that records what it parsed (or the raw octets).
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class ForwardingHeadersTest {
  /** Sent by a client that wants the backend to believe it is someone or somewhere else. */
  private static final List<String> FORWARDING_FAMILY = List.of(
      "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server", "X-Forwarded-Scheme",
      "X-Forwarded-Ssl", "X-Real-IP", "True-Client-IP", "X-Original-URL", "X-Rewrite-URL",
      "Front-End-Https", "X-Client-IP", "X-Cluster-Client-IP", "CF-Connecting-IP",
      "Fastly-Client-IP", "X-ProxyUser-Ip", "X-Host", "X-Forwarded-Client-Cert");

  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();



  private Gateway.Running gateway(URI backend, UnaryOperator<OffloadExecutor.Builder> config)
      throws Exception {
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("b", backend)))
        .build();
    return closer.add(server.start(config.apply(OffloadExecutor.builder(router)).build(),
        Gateway.Host.answering("host")));
  }

  private static String request(String requestLine, List<String> headerLines) {
    StringBuilder sb = new StringBuilder(requestLine + "\r\nHost: gw.example\r\n");
    for (String line : headerLines) {
      sb.append(line).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }

  private static List<String> spoofed(List<String> names) {
    List<String> lines = new ArrayList<>();
    for (String name : names) {
      lines.add(name + ": 6.6.6.6");
    }
    return lines;
  }

  @Test
  void stripsTheWholeForwardingFamilyAndMethodOverridesFromAnUntrustedPeer() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), x -> x);
    List<String> lines = new ArrayList<>(spoofed(FORWARDING_FAMILY));
    lines.add("X-HTTP-Method-Override: DELETE");
    lines.add("X-Kept: yes");
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("GET /api/x HTTP/1.1", lines)).read().status())
          .isEqualTo(200);
    }
    Received r = b.take();
    for (String name : FORWARDING_FAMILY) {
      assertThat(r.header(name)).as(name).isNull();
    }
    assertThat(r.header("X-HTTP-Method-Override")).isNull();
    assertThat(r.header("X-Kept")).isEqualTo("yes");
    assertThat(r.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
  }

  @Test
  void keepsTheForwardingFamilyFromATrustedProxyButNeverAMethodOverride() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), x -> x.trustedProxies("127.0.0.1"));
    List<String> lines = new ArrayList<>(spoofed(FORWARDING_FAMILY));
    lines.add("X-HTTP-Method-Override: DELETE");
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("GET /api/x HTTP/1.1", lines)).read().status())
          .isEqualTo(200);
    }
    Received r = b.take();
    for (String name : FORWARDING_FAMILY) {
      assertThat(r.header(name)).as(name).isEqualTo("6.6.6.6");
    }
    assertThat(r.header("X-HTTP-Method-Override")).isNull();
  }

  @Test
  void dropsHeaderNamesWithUnderscoresByDefault() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), x -> x);
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("GET /api/x HTTP/1.1", List.of(
          "X_Forwarded_For: 6.6.6.6", "Transfer_Encoding: chunked", "Content_Length: 5",
          "X_Custom: 1"))).read().status()).isEqualTo(200);
    }
    Received r = b.take();
    assertThat(r.headers().keySet()).noneMatch(name -> name.contains("_"));
    assertThat(r.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
  }

  @Test
  void allowedUnderscoresAreRelayedButNeverALookAlikeOfAFieldWeDropOrRebuild()
      throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), x -> x.forwarding(f -> f.allowUnderscoresInHeaders(true)));
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("GET /api/x HTTP/1.1", List.of(
          "X_Forwarded_For: 6.6.6.6", "Transfer_Encoding: chunked", "Content_Length: 5",
          "X_Real_IP: 6.6.6.6", "X_Custom: 1"))).read().status()).isEqualTo(200);
    }
    Received r = b.take();
    assertThat(r.header("X_Custom")).isEqualTo("1");
    assertThat(r.headers().keySet())
        .doesNotContain("x_forwarded_for", "transfer_encoding", "content_length", "x_real_ip");
  }

  @Test
  void octetsAbove0x7fInAHeaderValueReachTheBackendUnchanged() throws Exception {
    RawBackend b = closer.add(new RawBackend(s -> s.getOutputStream()
        .write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(ISO_8859_1))));
    Gateway.Running gw = gateway(b.uri(), x -> x);
    byte[] value = {'c', 'a', 'f', (byte) 0xc3, (byte) 0xa9, ' ', (byte) 0xe2, (byte) 0x82,
        (byte) 0xac};
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    raw.write("GET /api/x HTTP/1.1\r\nHost: gw\r\nX-Name: ".getBytes(ISO_8859_1));
    raw.write(value);
    raw.write("\r\n\r\n".getBytes(ISO_8859_1));
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(raw.toByteArray()).read().status()).isEqualTo(200);
    }
    String head = b.requests.poll(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
    // the JDK server spells the name X-name; the value's octets are what counts
    assertThat(head).as("the backend's request head, one char per octet")
        .containsIgnoringCase("X-Name: " + new String(value, ISO_8859_1) + "\r\n");
  }

  @Test
  void aHeaderValueThatIsNotUtf8IsRefusedRatherThanAltered() throws Exception {
    RawBackend b = closer.add(new RawBackend(s -> s.getOutputStream()
        .write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(ISO_8859_1))));
    Gateway.Running gw = gateway(b.uri(), x -> x);
    try (RawClient client = new RawClient(gw.port())) {
      // "café" in ISO-8859-1: the lone octet e9 is not UTF-8, and OkHttp only writes UTF-8
      Response response =
          client.send("GET /api/x HTTP/1.1\r\nHost: gw\r\nX-Name: caf\u00e9\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(400);
    }
    assertThat(b.requests).as("nothing reached the backend").isEmpty();
  }

  @Test
  void viaNamesTheProtocolVersionTheRequestWasReceivedWith() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), x -> x);
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("GET /api/x HTTP/1.0", List.of())).read().status())
          .isEqualTo(200);
    }
    assertThat(b.take().header("Via")).isEqualTo("1.0 offload");
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("GET /api/x HTTP/1.1", List.of())).read().status())
          .isEqualTo(200);
    }
    assertThat(b.take().header("Via")).isEqualTo("1.1 offload");
  }

  @Test
  void optionsWithMaxForwardsZeroIsAnsweredByTheGatewayAndAPositiveOneIsDecremented()
      throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Gateway.Running gw = gateway(b.uri(), x -> x);
    try (RawClient client = new RawClient(gw.port())) {
      Response response =
          client.send(request("OPTIONS /api/x HTTP/1.1", List.of("Max-Forwards: 0"))).read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("Allow")).contains("GET").contains("OPTIONS");
      assertThat(response.body()).isEmpty();
      response = client.send(request("OPTIONS /api/x HTTP/1.1", List.of("Max-Forwards: 3")))
          .read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("ok");
    }
    Received r = b.take();
    assertThat(r.method()).isEqualTo("OPTIONS");
    assertThat(r.header("Max-Forwards")).isEqualTo("2");
    assertThat(b.received).as("the first OPTIONS never reached the backend").isEmpty();
    try (RawClient client = new RawClient(gw.port())) {
      assertThat(client.send(request("GET /api/x HTTP/1.1", List.of("Max-Forwards: 0"))).read()
          .status()).isEqualTo(200);
    }
    assertThat(b.take().header("Max-Forwards")).as("only OPTIONS heeds it").isEqualTo("0");
  }
}
