package dev.offload.http.servlet;

import java.net.URI;
import java.util.function.Consumer;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.ForwardedRequestCustomizer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * An embedded Jetty 12 (ee10) on 127.0.0.1 and an ephemeral port, for tests; public so that the
 * server-agnostic tests in {@code dev.offload.http} can run their gateway on it too.
 */
public final class TestJetty implements AutoCloseable {
  private final Server server;
  private final ServerConnector connector;

  private TestJetty(Server server, ServerConnector connector) {
    this.server = server;
    this.connector = connector;
  }

  /** Starts a server whose root context is configured by {@code setup}. */
  public static TestJetty start(Consumer<ServletContextHandler> setup) throws Exception {
    return start(setup, false);
  }

  /**
   * Starts a server; with {@code forwarded}, the connector applies {@code X-Forwarded-*} headers
   * (Jetty's {@link ForwardedRequestCustomizer}), as a host behind a TLS-terminating proxy does.
   */
  static TestJetty start(Consumer<ServletContextHandler> setup, boolean forwarded)
      throws Exception {
    Server server = new Server();
    HttpConfiguration config = new HttpConfiguration();
    if (forwarded) {
      config.addCustomizer(new ForwardedRequestCustomizer());
    }
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(config));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    setup.accept(context);
    server.setHandler(context);
    server.start();
    return new TestJetty(server, connector);
  }

  public int port() {
    return connector.getLocalPort();
  }

  URI uri(String target) {
    return URI.create("http://127.0.0.1:" + port() + target);
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
