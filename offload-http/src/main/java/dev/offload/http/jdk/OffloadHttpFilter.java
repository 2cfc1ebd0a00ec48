package dev.offload.http.jdk;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import dev.offload.core.OffloadRouter;
import dev.offload.http.OffloadExecutor;
import java.io.IOException;

/**
 * Puts an {@link OffloadRouter} in front of JDK {@code HttpServer} contexts as a {@link Filter}:
 * the natural seam when a server has several contexts. Add one instance to every context; a
 * pass-through continues down the context's filter chain to its handler, untouched.
 *
 * <pre>{@code
 * OffloadHttpFilter offload = OffloadHttpFilter.of(executor);
 * offload.addTo(server.createContext("/orders", ordersHandler),
 *     server.createContext("/users", usersHandler));
 * }</pre>
 *
 * <p>A filter only sees requests for paths that some context covers: the JDK answers the rest
 * with its own 404 before any filter runs, so a route such as {@code /static/**} with no context
 * of its own is never reached. {@link OffloadHttpServer#wrap} adds the catch-all context that
 * closes that gap and this filter to every context. Add this filter first, ahead of the
 * context's other filters, so that what they see has been admitted by the guards.
 *
 * <p>Behaves as {@link OffloadHttpHandler} in every other way (aborts, {@code Connection:
 * close}, the JDK server's limits). Thread-safe: one instance serves every context.
 */
public final class OffloadHttpFilter extends Filter {
  private final OffloadExecutor executor;

  private OffloadHttpFilter(OffloadExecutor executor) {
    this.executor = executor;
  }

  /**
   * Returns a filter that executes {@code executor}'s decisions. Warns once per JVM when the
   * JDK server's settings are unsafe (see {@link JdkServerLimits#unsafeSettings()}).
   *
   * @param executor decides and executes each request
   * @return the filter, to add to each context
   */
  public static OffloadHttpFilter of(OffloadExecutor executor) {
    JdkServerLimits.warnOnceIfUnsafe();
    return new OffloadHttpFilter(requireNonNull(executor, "executor"));
  }

  /**
   * Adds this filter to each of {@code contexts}, ahead of the filters they already have.
   *
   * @param contexts the contexts to put offload in front of
   * @return this filter
   * @throws IllegalArgumentException if a context has this filter already (it would decide each
   *     request twice)
   */
  public OffloadHttpFilter addTo(HttpContext... contexts) {
    requireNonNull(contexts, "contexts");
    for (HttpContext context : contexts) {
      requireNonNull(context, "context");
      if (context.getFilters().contains(this)) {
        throw new IllegalArgumentException(
            "context '" + context.getPath() + "' has this OffloadHttpFilter already");
      }
      context.getFilters().add(0, this);
    }
    return this;
  }

  /**
   * Returns the executor this filter uses.
   *
   * @return the executor
   */
  public OffloadExecutor executor() {
    return executor;
  }

  /**
   * Decides {@code exchange} and carries the decision out; a pass-through continues down {@code
   * chain}.
   *
   * @param exchange the exchange
   * @param chain the rest of the context's filters and its handler
   * @throws IOException from the chain, unchanged, or to make the JDK server close the
   *     connection after an aborted exchange or a {@code Connection: close} answer
   */
  @Override
  public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
    JdkAdapter.handle(executor, exchange, chain::doFilter);
  }

  /**
   * Returns what this filter is, for the JDK's diagnostics.
   *
   * @return a short description
   */
  @Override
  public String description() {
    return "offload: decides each request with an OffloadRouter and executes the decision";
  }
}
