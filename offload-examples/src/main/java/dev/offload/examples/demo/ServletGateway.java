package dev.offload.examples.demo;

import static java.util.Objects.requireNonNull;

import dev.offload.http.OffloadExecutor;
import dev.offload.http.servlet.OffloadFilter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The second example: the demo's router as a Jakarta Servlet {@link OffloadFilter} in embedded
 * Jetty 12, in front of a servlet that is the host application ({@code /hello}, {@code
 * /static/*}, {@code /metrics}). The same router, so the same route table, guards, edge cache
 * and backends as the JDK gateway.
 *
 * <pre>{@code
 * ServletContextHandler context = new ServletContextHandler();
 * context.addFilter(new FilterHolder(new OffloadFilter(executor)), "/*",
 *     EnumSet.of(DispatcherType.REQUEST));
 * context.addServlet(new ServletHolder(new HostServlet(...)), "/*");   // your existing servlet
 * }</pre>
 *
 * <p>{@code java -cp offload-demo.jar dev.offload.examples.demo.ServletGateway --port 8080}
 * runs the demo with this gateway on port 8081 next to the JDK one on 8080.
 */
public final class ServletGateway implements AutoCloseable {
  private final Server server;
  private final ServerConnector connector;
  private final OffloadExecutor executor;

  private ServletGateway(Server server, ServerConnector connector, OffloadExecutor executor) {
    this.server = server;
    this.connector = connector;
    this.executor = executor;
  }

  /**
   * Starts Jetty on {@code 127.0.0.1:port} with {@code router} as a filter in front of the host
   * servlet.
   *
   * @param demo the running demo, whose router, registry and thumbnail workers it shares
   * @param port the port, 0 for a free one
   * @return the running gateway
   * @throws Exception if Jetty cannot start (a port in use, for one)
   */
  public static ServletGateway start(DemoGateway demo, int port) throws Exception {
    requireNonNull(demo, "demo");
    PrometheusMeterRegistry registry = demo.registry();
    OffloadExecutor executor = OffloadExecutor.builder(demo.router())
        .offloadHandler(demo.tasks())
        .build();
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    // only the initial REQUEST dispatch is routed (never a forward, include or error page)
    context.addFilter(new FilterHolder(new OffloadFilter(executor)), "/*",
        EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new HostServlet(new HostApplication(
        "hello from the host application (servlet)", DemoGateway.hostFiles(), registry))), "/*");
    server.setHandler(context);
    server.setStopTimeout(10_000); // graceful: requests in flight finish
    server.start();
    return new ServletGateway(server, connector, executor);
  }

  /**
   * Returns the address Jetty listens on.
   *
   * @return {@code http://127.0.0.1:port}
   */
  public URI uri() {
    return URI.create("http://127.0.0.1:" + connector.getLocalPort());
  }

  /**
   * Returns the executor of the router's decisions in this gateway.
   *
   * @return the executor the filter uses
   */
  public OffloadExecutor executor() {
    return executor;
  }

  /** Stops Jetty, letting requests in flight finish (at most 10 s), then closes the executor. */
  @Override
  public void close() {
    try {
      server.stop();
      executor.close();
    } catch (Exception e) {
      throw new IllegalStateException("Jetty did not stop cleanly", e);
    }
  }

  /**
   * Runs the demo with this gateway too: {@code --port P} puts the JDK gateway on P, the CDN
   * and backends on P+10..P+12, and Jetty on P+1.
   *
   * @param args {@code --port P} (default 8080)
   * @throws Exception if the demo cannot start
   */
  public static void main(String[] args) throws Exception {
    int port = DemoGateway.DEFAULT_PORT;
    if (args.length == 2 && args[0].equals("--port")) {
      port = Integer.parseInt(args[1]);
    } else if (args.length != 0) {
      System.err.println("usage: ServletGateway [--port P]");
      System.exit(2);
    }
    DemoGateway demo = DemoGateway.start(
        DemoGateway.Options.defaults().withPorts(DemoGateway.Ports.from(port)));
    ServletGateway jetty = start(demo, port + 1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      jetty.close();
      demo.close();
    }, "servlet-gateway-shutdown"));
    System.out.println(demo.describe());
    System.out.println("jetty gateway  " + jetty.uri() + "   (the same router as a Servlet filter)");
    System.out.println("ready: " + jetty.uri());
    Thread.currentThread().join();
  }

  /** The host application as a servlet. */
  static final class HostServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient HostApplication host;

    HostServlet(HostApplication host) {
      this.host = host;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      HostApplication.Answer answer = host.answer(request.getRequestURI());
      response.setStatus(answer.status());
      response.setContentType(answer.contentType());
      answer.headers().forEach(response::setHeader);
      response.setContentLength(answer.body().length);
      response.getOutputStream().write(answer.body());
    }
  }
}
