package dev.offload.http;

import com.sun.net.httpserver.HttpServer;
import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.http.jdk.JdkServerLimits;
import dev.offload.http.jdk.OffloadHttpHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;

/**
 * A JDK gateway in its own JVM (the JDK server reads its limits once per JVM), for {@link
 * JdkStalledClientsTest}: a fixed pool of {@value #THREADS} threads, set up the documented way
 * with {@link JdkServerLimits} (a 1 s request deadline) unless the argument is {@code unsafe};
 * prints its port and runs until its standard input closes.
 */
public final class StalledHeadersGatewayMain {
  static final int THREADS = 8;

  private StalledHeadersGatewayMain() {}

  public static void main(String[] args) throws Exception {
    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    boolean safe = !(args.length > 0 && args[0].equals("unsafe"));
    HttpServer server = safe
        ? JdkServerLimits.builder().maxRequestTime(Duration.ofSeconds(1)).build()
            .createServer(address, 0)
        : HttpServer.create(address, 0);
    byte[] ok = "ok".getBytes(StandardCharsets.US_ASCII);
    server.createContext("/", OffloadHttpHandler.wrap(
        OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build(), ex -> {
      ex.sendResponseHeaders(200, ok.length);
      ex.getResponseBody().write(ok);
      ex.close();
    }));
    server.setExecutor(Executors.newFixedThreadPool(THREADS));
    server.start();
    System.out.println(server.getAddress().getPort() + " "
        + JdkServerLimits.unsafeSettings().isEmpty());
    System.out.flush();
    while (System.in.read() >= 0) {
      // wait for the parent to close our stdin
    }
    server.stop(0);
    System.exit(0);
  }
}
