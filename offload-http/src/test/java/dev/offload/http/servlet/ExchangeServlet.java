package dev.offload.http.servlet;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** A servlet that wraps each request in a {@link ServletExchange} and runs a test script on it. */
final class ExchangeServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** What the test does with the exchange, on the request thread. */
  @FunctionalInterface
  interface Script {
    void run(ServletExchange exchange) throws Exception;
  }

  private final transient Script script;

  ExchangeServlet(Script script) {
    this.script = script;
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response)
      throws ServletException, IOException {
    try {
      script.run(new ServletExchange(request, response));
    } catch (IOException | ServletException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new ServletException(e);
    }
  }
}
