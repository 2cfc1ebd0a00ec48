package dev.offload.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.offload.core.guard.Identity;
import dev.offload.http.Loopback.Received;
import dev.offload.http.jdk.OffloadHttpHandler;
import dev.offload.http.servlet.OffloadFilter;
import dev.offload.http.servlet.TestJetty;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.ArgumentsProvider;
import org.junit.jupiter.params.support.ParameterDeclarations;

/**
 * The host's own server with an {@link OffloadExecutor} in front of the host's handler, as a user
 * sets it up: the JDK {@code HttpServer} with {@link OffloadHttpHandler}, embedded Jetty 12
 * (ee10) with {@link OffloadFilter}, or Netty with offload-netty's handler and non-blocking
 * forwarder. Tests parameterized over this enum run the same assertions against every adapter.
 *
 * <p>offload-http cannot depend on offload-netty (a module cycle), so {@link #NETTY} starts a
 * class that offload-netty's tests provide ({@value #NETTY_STARTER}), found by name; where it is
 * absent (offload-http's own run) the Netty cases are skipped. The system property {@value
 * #SELECTED} (a comma-separated list of names, default all) selects the gateways that run:
 * offload-netty runs these suites from offload-http's test jar with {@code NETTY} only.
 */
enum Gateway {
  /** The JDK {@code HttpServer}, the host's handler wrapped by {@link OffloadHttpHandler}. */
  JDK {
    @Override
    Running start(OffloadExecutor executor, Host host) throws IOException {
      assumeSelected(this);
      return jdk(executor, host, Executors.newCachedThreadPool());
    }
  },

  /** Jetty 12 (ee10): {@link OffloadFilter} in front of the host's servlet. */
  JETTY {
    @Override
    Running start(OffloadExecutor executor, Host host) throws Exception {
      assumeSelected(this);
      Probe probe = new Probe();
      Filter probing = (request, response, chain) -> {
        try {
          chain.doFilter(request, response);
        } catch (IOException | ServletException | RuntimeException | Error e) {
          probe.thrown.complete(e);
          throw e;
        } finally {
          probe.handled.release();
        }
      };
      TestJetty jetty = TestJetty.start(context -> {
        var requests = EnumSet.of(DispatcherType.REQUEST);
        context.addFilter(new FilterHolder(probing), "/*", requests);
        context.addFilter(new FilterHolder(new OffloadFilter(executor)), "/*", requests);
        context.addServlet(new ServletHolder(new HostServlet(host)), "/*");
      });
      return new Running(jetty.port(), probe, jetty);
    }
  },

  /** Netty: offload-netty's {@code OffloadChannelHandler} with its {@code NettyForwarder}. */
  NETTY {
    @Override
    Running start(OffloadExecutor executor, Host host) throws Exception {
      assumeSelected(this);
      Class<?> starter;
      try {
        starter = Class.forName(NETTY_STARTER);
      } catch (ClassNotFoundException e) {
        Assumptions.abort("offload-netty's tests are not on the class path");
        throw new AssertionError(e);
      }
      return ((Starter) starter.getDeclaredConstructor().newInstance()).start(executor, host);
    }
  };

  /**
   * The gateways a suite runs on, for {@code @ArgumentsSource(Gateway.Selected.class)}: those
   * named by {@value #SELECTED} when it is set (offload-netty sets {@code NETTY}); else every
   * gateway whose server is on the class path (here JDK and Jetty; Netty's starter lives in
   * offload-netty's tests). A gateway that cannot run is left out rather than reported skipped.
   */
  static final class Selected implements ArgumentsProvider {
    @Override
    public Stream<? extends Arguments> provideArguments(ParameterDeclarations parameters,
        ExtensionContext context) {
      String selected = System.getProperty(SELECTED, "");
      return Stream.of(values())
          .filter(g -> selected.isBlank() ? g != NETTY || nettyOnClassPath()
              : List.of(selected.split(",")).contains(g.name()))
          .map(Arguments::of);
    }

    private static boolean nettyOnClassPath() {
      try {
        Class.forName(NETTY_STARTER);
        return true;
      } catch (ClassNotFoundException e) {
        return false;
      }
    }
  }

  /** The class offload-netty's tests provide for {@link #NETTY}. */
  static final String NETTY_STARTER = "dev.offload.http.NettyGateway";
  /** The system property that selects the gateways that run. */
  static final String SELECTED = "offload.test.gateways";

  /** Starts a gateway that lives in another module's tests. */
  interface Starter {
    /** As {@link Gateway#start}. */
    Running start(OffloadExecutor executor, Host host) throws Exception;
  }

  private static void assumeSelected(Gateway gateway) {
    String selected = System.getProperty(SELECTED, "");
    Assumptions.assumeTrue(selected.isBlank()
            || List.of(selected.split(",")).contains(gateway.name()),
        () -> gateway + " is not selected by -D" + SELECTED + "=" + selected);
  }

  /**
   * Starts the gateway on 127.0.0.1 and an ephemeral port; pass-through requests reach {@code
   * host}.
   */
  abstract Running start(OffloadExecutor executor, Host host) throws Exception;

  /**
   * Starts the JDK gateway with {@code threads} as the server's executor (a fixed pool, to test
   * starvation); stopping the gateway shuts them down.
   */
  static Running jdk(OffloadExecutor executor, Host host, ExecutorService threads)
      throws IOException {
    Probe probe = new Probe();
    var wrapped = OffloadHttpHandler.wrap(executor, ex -> {
      Reply reply = host.handle(received(ex));
      reply.headers().forEach((name, value) -> ex.getResponseHeaders().set(name, value));
      Loopback.respond(ex, reply.status(), reply.body());
    });
    HttpServer server = HttpServer.create(new InetSocketAddress(Loopback.LOCALHOST, 0), 0);
    server.createContext("/", ex -> {
      try {
        wrapped.handle(ex);
      } catch (IOException | RuntimeException | Error e) {
        probe.thrown.complete(e);
        throw e;
      } finally {
        probe.handled.release();
      }
    });
    server.setExecutor(threads);
    server.start();
    return new Running(server.getAddress().getPort(), probe, () -> {
      server.stop(0);
      threads.shutdownNow();
    });
  }

  private static Received received(HttpExchange ex) throws IOException {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    ex.getRequestHeaders()
        .forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
    return new Received(ex.getRequestMethod(), ex.getRequestURI().toString(), headers,
        ex.getRequestBody().readAllBytes(), ex.getAttribute(Identity.ATTRIBUTE_NAME));
  }

  /** The host's own handler, the same on both servers. */
  @FunctionalInterface
  interface Host {
    /** Answers a request that passed through; runtime exceptions propagate to the server. */
    Reply handle(Received request) throws IOException;

    /** A host that answers 200 with {@code body}. */
    static Host answering(String body) {
      Reply reply = new Reply(200, body.getBytes(UTF_8));
      return request -> reply;
    }
  }

  /** What the host answers: a status, header fields and a body. */
  record Reply(int status, byte[] body, Map<String, String> headers) {
    Reply(int status, byte[] body) {
      this(status, body, Map.of());
    }
  }

  /** A started gateway; closing stops it at once. */
  static final class Running implements AutoCloseable {
    private final int port;
    private final Probe probe;
    private final AutoCloseable stop;

    Running(int port, Probe probe, AutoCloseable stop) {
      this.port = port;
      this.probe = probe;
      this.stop = stop;
    }

    int port() {
      return port;
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + port);
    }

    /**
     * Waits until the adapter has returned or thrown for {@code n} exchanges, so that metrics
     * and decision handles are final.
     */
    void awaitHandled(int n) throws InterruptedException {
      if (!probe.handled.tryAcquire(n, Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        throw new AssertionError("the gateway did not finish " + n + " exchange(s)");
      }
    }

    /** Returns the first exception that came out of the adapter (the handler or the filter). */
    Throwable awaitThrown() throws Exception {
      return probe.thrown.get(Loopback.TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws Exception {
      stop.close();
    }
  }

  /** Sits outside the adapter: counts finished exchanges and records what the adapter threw. */
  static final class Probe {
    final Semaphore handled = new Semaphore(0);
    final CompletableFuture<Throwable> thrown = new CompletableFuture<>();
  }

  /** The host's servlet: hands the request to the {@link Host} and writes its reply. */
  private static final class HostServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient Host host;

    HostServlet(Host host) {
      this.host = host;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (String name : Collections.list(req.getHeaderNames())) {
        headers.put(name.toLowerCase(Locale.ROOT), Collections.list(req.getHeaders(name)));
      }
      String target = req.getQueryString() == null
          ? req.getRequestURI() : req.getRequestURI() + "?" + req.getQueryString();
      Reply reply = host.handle(new Received(req.getMethod(), target, headers,
          req.getInputStream().readAllBytes(), req.getAttribute(Identity.ATTRIBUTE_NAME)));
      resp.setStatus(reply.status());
      reply.headers().forEach(resp::setHeader);
      resp.setContentLength(reply.body().length);
      try (OutputStream out = resp.getOutputStream()) {
        out.write(reply.body());
      }
    }
  }
}
