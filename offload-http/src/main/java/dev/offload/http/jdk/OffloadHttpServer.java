package dev.offload.http.jdk;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.offload.core.Headers;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.internal.Problem;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;

/**
 * A JDK {@code HttpServer} with offload in front of all of it, in one call: every context created
 * through it gets an {@link OffloadHttpFilter}, and a catch-all context {@code /} is there from
 * the start, so that routes see requests for paths no context of yours covers (the JDK would
 * otherwise answer those 404 itself, before any filter). A request that offload passes through
 * and no context of yours takes gets a 404 problem.
 *
 * <pre>{@code
 * HttpServer server = JdkServerLimits.ofDefaults().createServer(new InetSocketAddress(8080), 0);
 * HttpServer gateway = OffloadHttpServer.wrap(server, executor);   // before any context
 * gateway.createContext("/orders", ordersHandler);                 // your contexts, as before
 * gateway.createContext("/users", usersHandler);
 * gateway.setExecutor(Executors.newFixedThreadPool(64));
 * gateway.start();
 * ...
 * gateway.stop(1);
 * executor.close();
 * }</pre>
 *
 * <p>Create contexts through the returned server, not the wrapped one (the JDK offers no way to
 * list the contexts a server has). {@code createContext("/", handler)} makes {@code handler} the
 * catch-all's handler. Everything else is the wrapped server's. Thread-safe as the JDK server is.
 */
public final class OffloadHttpServer extends HttpServer {
  private final HttpServer server;
  private final OffloadHttpFilter filter;
  private final HttpContext root;
  private final CatchAll catchAll = new CatchAll();

  private OffloadHttpServer(HttpServer server, OffloadHttpFilter filter) {
    this.server = server;
    this.filter = filter;
    // the JDK cannot tell whether "/" exists already (17 accepts a second one silently): wrap
    // before creating contexts
    this.root = server.createContext("/", catchAll);
    filter.addTo(root);
  }

  /**
   * Puts offload in front of {@code server}: adds the catch-all context {@code /} with an {@link
   * OffloadHttpFilter}, and returns the server to create your contexts on.
   *
   * @param server a server with no contexts yet (bound or not, started or not): contexts it
   *     has already are not seen by offload, and the JDK cannot list them to check
   * @param executor decides and executes each request; close it after stopping the server
   * @return the server to create contexts on, start and stop
   */
  public static OffloadHttpServer wrap(HttpServer server, OffloadExecutor executor) {
    return new OffloadHttpServer(requireNonNull(server, "server"),
        OffloadHttpFilter.of(requireNonNull(executor, "executor")));
  }

  /**
   * Returns the filter on every context of this server.
   *
   * @return the filter
   */
  public OffloadHttpFilter filter() {
    return filter;
  }

  /**
   * Returns the wrapped server.
   *
   * @return the server given to {@link #wrap}
   */
  public HttpServer unwrap() {
    return server;
  }

  /**
   * Creates a context with the offload filter in front of {@code handler}; for {@code /}, makes
   * {@code handler} the catch-all's.
   *
   * @param path the context's path
   * @param handler the context's handler
   * @return the context
   * @throws IllegalArgumentException if the path is invalid or taken
   */
  @Override
  public HttpContext createContext(String path, HttpHandler handler) {
    requireNonNull(handler, "handler");
    if ("/".equals(path)) {
      catchAll.take(handler);
      return root;
    }
    HttpContext context = server.createContext(path, handler);
    filter.addTo(context);
    return context;
  }

  /**
   * Creates a context with the offload filter and no handler yet; for {@code /}, returns the
   * catch-all context.
   *
   * @param path the context's path
   * @return the context
   * @throws IllegalArgumentException if the path is invalid or taken
   */
  @Override
  public HttpContext createContext(String path) {
    if ("/".equals(path)) {
      return root;
    }
    HttpContext context = server.createContext(path);
    filter.addTo(context);
    return context;
  }

  /**
   * Removes the context at {@code path}; for {@code /}, puts the 404 catch-all back.
   *
   * @param path the context's path
   * @throws IllegalArgumentException if there is no such context
   */
  @Override
  public void removeContext(String path) {
    if ("/".equals(path)) {
      catchAll.take(null);
      return;
    }
    server.removeContext(path);
  }

  /**
   * Removes {@code context}; for the catch-all, puts the 404 handler back.
   *
   * @param context the context
   * @throws IllegalArgumentException if it is not this server's
   */
  @Override
  public void removeContext(HttpContext context) {
    if (context == root) {
      catchAll.take(null);
      return;
    }
    server.removeContext(context);
  }

  /**
   * Binds the wrapped server.
   *
   * @param address the address to listen on
   * @param backlog the socket backlog; 0 or less for the system's default
   * @throws IOException if binding fails
   */
  @Override
  public void bind(InetSocketAddress address, int backlog) throws IOException {
    server.bind(address, backlog);
  }

  /** Starts the wrapped server. */
  @Override
  public void start() {
    server.start();
  }

  /**
   * Sets the wrapped server's executor; forwarding blocks one of its threads per request.
   *
   * @param executor the executor, or null for the JDK's default (one thread)
   */
  @Override
  public void setExecutor(Executor executor) {
    server.setExecutor(executor);
  }

  /**
   * Returns the wrapped server's executor.
   *
   * @return the executor, or null
   */
  @Override
  public Executor getExecutor() {
    return server.getExecutor();
  }

  /**
   * Stops the wrapped server; then close the {@link OffloadExecutor}.
   *
   * @param delay the longest time in seconds to wait for exchanges to finish
   */
  @Override
  public void stop(int delay) {
    server.stop(delay);
  }

  /**
   * Returns the wrapped server's address.
   *
   * @return the address it listens on
   */
  @Override
  public InetSocketAddress getAddress() {
    return server.getAddress();
  }

  /** The catch-all's handler: the user's for {@code /}, or a 404 problem. */
  private static final class CatchAll implements HttpHandler {
    private volatile HttpHandler handler;

    void take(HttpHandler handler) {
      this.handler = handler;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
      HttpHandler h = handler;
      if (h != null) {
        h.handle(exchange);
        return;
      }
      try {
        Problem.send(new JdkServerExchange(exchange), 404, "no handler for this path",
            Headers.empty());
      } finally {
        exchange.close();
      }
    }
  }
}
