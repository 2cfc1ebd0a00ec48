package dev.offload.http.jdk;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.offload.core.OffloadRouter;
import dev.offload.http.OffloadExecutor;
import java.io.IOException;

/**
 * Puts an {@link OffloadRouter} in front of an existing JDK {@code HttpServer} handler.
 *
 * <pre>{@code
 * // JdkServerLimits: the JDK server's request and response deadlines, before the first server
 * HttpServer server = JdkServerLimits.ofDefaults().createServer(new InetSocketAddress(8080), 0);
 * server.createContext("/", OffloadHttpHandler.wrap(router, existingHandler));
 * server.setExecutor(Executors.newFixedThreadPool(64)); // forwarding blocks a thread per request
 * server.start();
 * }</pre>
 *
 * <p>Each request is decided by the router; a pass-through reaches {@code next} untouched (its
 * headers and body unread), and an exception {@code next} throws propagates unchanged. Every other
 * decision is executed by the {@link OffloadExecutor}. When the executor aborts an exchange (a
 * backend failed mid-body, the client left) or answers with {@code Connection: close}, this
 * handler throws an {@link IOException} after the executor returns, which is how the JDK server
 * is made to close the connection without ending the response cleanly. Neither then waits for
 * the rest of a request body the client announced and holds back (a thread never waits on a
 * client for a refused body): the response is flushed and the connection closed at once.
 *
 * <p>Unlike Jetty, the JDK server does not linger on close: closing with request body bytes still
 * unread makes the socket send a reset, so a client that is still sending its body (after a 413
 * for a too large {@code Content-Length}, say) may see the reset instead of the response.
 *
 * <p>Without {@code sun.net.httpserver.maxReqTime} the JDK server has no deadline for a request
 * and a client that stops in the middle of its request head holds a thread forever: {@link
 * #wrap} logs a warning, once per JVM, when {@link JdkServerLimits#unsafeSettings()} finds that
 * or another unsafe setting.
 *
 * <p>Thread-safe: one instance serves every request of its context.
 */
public final class OffloadHttpHandler implements HttpHandler {
  private final OffloadExecutor executor;
  private final HttpHandler next;

  private OffloadHttpHandler(OffloadExecutor executor, HttpHandler next) {
    this.executor = executor;
    this.next = next;
  }

  /**
   * Wraps {@code next} with an executor of {@code router}'s decisions with default settings.
   *
   * @param router the router
   * @param next the host's handler, for pass-through requests
   * @return the handler, to register as a context's
   */
  public static OffloadHttpHandler wrap(OffloadRouter router, HttpHandler next) {
    return wrap(OffloadExecutor.of(requireNonNull(router, "router")), next);
  }

  /**
   * Wraps {@code next} with {@code executor}.
   *
   * @param executor the executor
   * @param next the host's handler, for pass-through requests
   * @return the handler, to register as a context's
   */
  public static OffloadHttpHandler wrap(OffloadExecutor executor, HttpHandler next) {
    JdkServerLimits.warnOnceIfUnsafe();
    return new OffloadHttpHandler(
        requireNonNull(executor, "executor"), requireNonNull(next, "next"));
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    JdkAdapter.handle(executor, exchange, next);
  }
}
