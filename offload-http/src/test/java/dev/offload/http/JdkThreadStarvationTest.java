package dev.offload.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.Loopback.RawClient;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The JDK {@code HttpServer} runs each exchange on a thread of its executor until the handler
 * returns: a refusal must not leave that thread waiting for a body the client holds back.
 */
class JdkThreadStarvationTest {
  private static final int THREADS = 2;
  @RegisterExtension final Closer closer = new Closer();



  @Test
  void moreClientsHoldingBackARefusedBodyThanThreadsDoNotStarveTheServer() throws Exception {
    Loopback.Backend b = closer.add(new Loopback.Backend());
    Backend target = Backend.of("b", b.uri());
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"),
            (FailoverStrategy) (request, context) -> BackendLoad.of(target).forward(context))
        .build();
    OffloadExecutor executor = OffloadExecutor.builder(router)
        .forwarding(f -> f.maxRequestBodyBytes(1024)).build();
    Gateway.Running gw = closer.add(Gateway.jdk(executor, Gateway.Host.answering("host"),
        Executors.newFixedThreadPool(THREADS)));

    for (int i = 0; i < THREADS + 1; i++) {
      RawClient slow = closer.add(new RawClient(gw.port()));
      slow.send("POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5000\r\n\r\n")
          .send(new byte[100]); // and never the rest, nor a close
      assertThat(slow.read().status()).as("slow client %d", i).isEqualTo(413);
    }
    gw.awaitHandled(THREADS + 1);
    try (RawClient client = new RawClient(gw.port())) {
      Loopback.Response response =
          client.send("GET /other HTTP/1.1\r\nHost: gw\r\n\r\n").read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("host");
    }
  }
}
