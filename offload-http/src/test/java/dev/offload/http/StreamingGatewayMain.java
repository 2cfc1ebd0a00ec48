package dev.offload.http;

import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.jdk.OffloadHttpHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.Executors;

/**
 * A gateway in its own JVM, for {@link StreamingMemoryTest}: forwards /api/ to the backend URI
 * given as the argument, prints its port, and runs until its standard input closes.
 */
public final class StreamingGatewayMain {
  private StreamingGatewayMain() {}

  public static void main(String[] args) throws Exception {
    Backend backend = Backend.of("stream", URI.create(args[0]));
    OffloadRouter router = OffloadRouter.builder()
        .route(Route.prefix("/api/"), FailoverStrategy.to(backend))
        .build();
    OffloadExecutor executor = OffloadExecutor.builder(router)
        .forwarding(f -> f.maxRequestBodyBytes(Long.MAX_VALUE))
        .build();
    HttpServer server = HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", OffloadHttpHandler.wrap(executor, ex -> ex.close()));
    server.setExecutor(Executors.newCachedThreadPool());
    server.start();
    System.out.println(server.getAddress().getPort() + " " + Runtime.getRuntime().maxMemory());
    System.out.flush();
    while (System.in.read() >= 0) {
      // wait for the parent to close our stdin
    }
    server.stop(0);
    System.exit(0);
  }
}
