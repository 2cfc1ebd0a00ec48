package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Received;
import dev.offload.http.Loopback.Response;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * Requests a hostile client writes by hand, refused by the executor whatever the server in front
 * lets through: through a real gateway on both servers, with raw sockets.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class HostileRequestLineTest {
  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final List<Received> passedThrough = new java.util.concurrent.CopyOnWriteArrayList<>();
  private Loopback.Backend backend;
  private Gateway.Running gateway;


  /** /api/ is forwarded to a recording backend; everything else passes through to the host. */
  private Gateway.Running gateway() throws Exception {
    backend = new Loopback.Backend();
    closer.add(backend);
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"),
            FailoverStrategy.to(Backend.of("b", backend.uri())))
        .build();
    gateway = server.start(OffloadExecutor.of(router), request -> {
      passedThrough.add(request);
      return new Gateway.Reply(200, "host".getBytes(ISO_8859_1));
    });
    closer.add(gateway);
    return gateway;
  }

  @Test
  void anHttp11RequestWithoutHostIs400AndClosesTheConnection() throws Exception {
    Gateway.Running gw = gateway();
    for (String target : List.of("/api/x", "/host/x")) {
      try (RawClient client = new RawClient(gw.port())) {
        Response response = client.send("GET " + target + " HTTP/1.1\r\n\r\n").read();
        assertThat(response.status()).as(target).isEqualTo(400);
        assertThat(client.closedByServer()).as(target).isTrue();
      }
    }
    assertThat(backend.received).as("never forwarded").isEmpty();
    assertThat(passedThrough).as("never passed through").isEmpty();
  }

  @Test
  void anHttp10RequestWithoutHostIsStillServed() throws Exception {
    Gateway.Running gw = gateway();
    try (RawClient client = new RawClient(gw.port())) {
      Response response = client.send("GET /api/x HTTP/1.0\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("ok");
    }
    assertThat(backend.take().target()).isEqualTo("/api/x");
  }

  @Test
  void aRawOctetAbove0x7fInTheRequestTargetIs400() throws Exception {
    Gateway.Running gw = gateway();
    for (String target : List.of("/api/caf\u00e9", "/host/caf\u00e9", "/api/x?q=\u00e9")) {
      try (RawClient client = new RawClient(gw.port())) {
        // ISO-8859-1 puts each char as one octet: "é" is the raw octet 0xe9
        Response response =
            client.send("GET " + target + " HTTP/1.1\r\nHost: gw\r\n\r\n").read();
        assertThat(response.status()).as(target).isEqualTo(400);
      }
    }
    assertThat(backend.received).as("never forwarded").isEmpty();
    assertThat(passedThrough).as("never passed through").isEmpty();
  }

  @Test
  void aContentLengthBodyCutShortIsNeverForwardedAsComplete() throws Exception {
    Gateway.Running gw = gateway();
    try (RawClient client = new RawClient(gw.port())) {
      client.send("POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 100\r\n\r\n0123456789");
      client.socket.shutdownOutput(); // the client's body ends after 10 of 100 octets
      Response response = readOrNull(client);
      if (response != null) {
        assertThat(response.status()).isEqualTo(400);
      }
      assertThat(client.closedByServer()).isTrue();
    }
    gw.awaitHandled(1);
    assertThat(backend.received).as("the backend never saw a complete request").isEmpty();
  }

  private static Response readOrNull(RawClient client) throws IOException {
    try {
      return client.readOrClosed();
    } catch (java.io.EOFException e) {
      return null;
    }
  }
}
