package dev.offload.http.servlet;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Completion;
import dev.offload.core.OffloadRouter;
import dev.offload.core.ResponseFill;
import dev.offload.http.HostHandler;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.ServerExchange;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * A Jakarta Servlet 6 {@link Filter} that puts an {@link OffloadRouter} in front of the host's
 * own servlets: each request is decided first, and only a pass-through reaches the rest of the
 * filter chain, untouched. Everything else (redirect, cached answer, forward to a backend,
 * offload, reject) is answered here by the shared {@link OffloadExecutor}.
 *
 * <pre>{@code
 * OffloadRouter router = OffloadRouter.builder()
 *     .route("static", Route.get("/static/**"), CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
 *     .route("api", Route.prefix("/api/"), FailoverStrategy.to(Backend.of("api", URI.create("http://127.0.0.1:8081"))))
 *     .build();
 *
 * // in a ServletContainerInitializer or ServletContextListener:
 * servletContext.addFilter("offload", new OffloadFilter(router))
 *     .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
 *
 * // or with embedded Jetty 12 (ee10):
 * context.addFilter(new FilterHolder(new OffloadFilter(router)), "/*", EnumSet.of(DispatcherType.REQUEST));
 * }</pre>
 *
 * <p>Map it first, ahead of the host's filters, so that requests it answers cost the host
 * nothing. It routes only a request's initial {@link DispatcherType#REQUEST} dispatch: forwards,
 * includes, error and async dispatches, and non-HTTP requests, go straight down the chain.
 *
 * <p>An exception from the chain propagates unchanged. When the executor aborts an exchange
 * whose response is already under way (a backend that fails in the middle of a relayed body),
 * this filter throws an {@link IOException} after the response was committed, which makes the
 * container abort the client's connection: a truncated body never looks complete. A host filter
 * mapped outside this one must not swallow that exception.
 *
 * <p>The client address comes from {@code getRemoteAddr()}, which must be the socket peer: do
 * not enable a container feature that rewrites it from request headers (Jetty's {@code
 * ForwardedRequestCustomizer}, Tomcat's {@code RemoteIpValve}), or a client could spoof it.
 * Configure {@code OffloadExecutor.Builder.trustedProxies} instead: offload then resolves the
 * client from {@code X-Forwarded-For} itself, trusting only the proxies named there.
 *
 * <p>Thread-safe and stateless: one instance serves every request; {@link #init} and {@link
 * #destroy} do nothing (the router and executor outlive the filter and are owned by the caller).
 */
public final class OffloadFilter implements Filter {
  /** What the filter needs from an executor; package-private so tests can script it. */
  @FunctionalInterface
  interface ExchangeHandler {
    /** Answers the exchange, or runs {@code host} to pass the request through. */
    void execute(ServerExchange exchange, HostHandler<ServletException> host)
        throws IOException, ServletException;
  }

  private final ExchangeHandler handler;

  /**
   * Returns a filter that executes {@code router}'s decisions with a default executor.
   *
   * @param router the router
   */
  public OffloadFilter(OffloadRouter router) {
    this(OffloadExecutor.of(requireNonNull(router, "router")));
  }

  /**
   * Returns a filter that executes decisions with {@code executor}.
   *
   * @param executor the executor
   */
  public OffloadFilter(OffloadExecutor executor) {
    this(requireNonNull(executor, "executor")::execute);
  }

  OffloadFilter(ExchangeHandler handler) {
    this.handler = requireNonNull(handler, "handler");
  }

  /**
   * Decides the request and either answers it or passes it down {@code chain}.
   *
   * @throws IOException from the executor or the chain, unchanged; or, when the executor aborted
   *     the exchange, an {@code IOException} that makes the container abort the connection
   * @throws ServletException from the chain, unchanged
   * @throws IllegalStateException if the executor started a response and still passed the
   *     request through
   */
  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (!(request instanceof HttpServletRequest httpRequest)
        || !(response instanceof HttpServletResponse httpResponse)
        || request.getDispatcherType() != DispatcherType.REQUEST) {
      chain.doFilter(request, response);
      return;
    }
    ServletExchange exchange = new ServletExchange(httpRequest, httpResponse);
    boolean[] passedThrough = {false};
    handler.execute(exchange, (responseHeaders, fill) -> {
      if (exchange.isAborted()) {
        return new HostHandler.HostResponse(Completion.NO_STATUS, 0); // the abort wins
      }
      if (exchange.isStarted()) {
        throw new IllegalStateException(
            "the executor started a response and then passed the request through: it must "
                + "either answer the exchange or pass it through");
      }
      passedThrough[0] = true;
      for (int i = 0; i < responseHeaders.size(); i++) {
        httpResponse.setHeader(responseHeaders.name(i), responseHeaders.value(i));
      }
      if (fill == ResponseFill.NONE) {
        chain.doFilter(request, response);
        return new HostHandler.HostResponse(httpResponse.getStatus(), 0);
      }
      FillingResponse filling = new FillingResponse(httpResponse, fill, responseHeaders);
      boolean returned = false;
      try {
        chain.doFilter(request, filling);
        returned = true;
      } finally {
        filling.end(returned, returned && request.isAsyncStarted());
      }
      return new HostHandler.HostResponse(httpResponse.getStatus(), 0);
    });
    if (!passedThrough[0] && exchange.isAborted()) {
      throw new AbortedExchangeException(
          exchange.isStarted()
              ? "offload aborted the response after it started; the connection is to be aborted"
              : "offload aborted the exchange before a response was started");
    }
  }
}
