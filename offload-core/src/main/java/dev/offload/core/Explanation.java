package dev.offload.core;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Why the router decided what it did for one request: the target check, each guard's verdict,
 * each route tried (up to the one that matched) and why it did or did not match, the strategy
 * chosen, the inputs it read, and the decision. {@link #toString()} reads well in a log or test
 * failure:
 *
 * <pre>
 * GET /static/app.css
 *   guard 'auth' (requireHeader(Authorization)): admit
 *   route #1 'GET|HEAD /static/**': matched
 *   strategy: CdnStrategy.redirectTo(https://cdn.example.com)
 *   decision: redirect 302 https://cdn.example.com/static/app.css
 * </pre>
 *
 * @param request the request line as received
 * @param targetError why the target was refused before routing, if it was
 * @param guards each guard consulted, in order
 * @param routes each route tried, in order, up to the match
 * @param route the name of the route that matched, if any
 * @param strategy the strategy that decided
 * @param inputs what the strategy read (load figures and such), by name
 * @param decision the decision; its handle, if any, was already completed as dropped
 * @param failure a description of the exception, if a strategy or guard threw
 */
public record Explanation(
    String request,
    Optional<String> targetError,
    List<GuardStep> guards,
    List<RouteStep> routes,
    Optional<String> route,
    String strategy,
    Map<String, Object> inputs,
    Decision decision,
    Optional<String> failure) {

  /**
   * Copies the collections.
   *
   * @param request the request
   * @param targetError the target error
   * @param guards the guards
   * @param routes the routes
   * @param route the route
   * @param strategy the strategy
   * @param inputs the inputs
   * @param decision the decision
   * @param failure the failure
   */
  public Explanation {
    guards = List.copyOf(guards);
    routes = List.copyOf(routes);
    inputs = Map.copyOf(inputs);
  }

  /**
   * One guard's verdict.
   *
   * @param name the guard's name
   * @param description what the guard is
   * @param verdict what it said
   */
  public record GuardStep(String name, String description, String verdict) {}

  /**
   * One route tried.
   *
   * @param number its position in the table, from 1
   * @param name its name
   * @param matched whether it matched
   * @param reason why not, or "matched"
   */
  public record RouteStep(int number, String name, boolean matched, String reason) {}

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(request).append('\n');
    targetError.ifPresent(e -> sb.append("  target refused: ").append(e).append('\n'));
    for (GuardStep g : guards) {
      sb.append("  guard '").append(g.name()).append("' (").append(g.description()).append("): ")
          .append(g.verdict()).append('\n');
    }
    for (RouteStep r : routes) {
      sb.append("  route #").append(r.number()).append(" '").append(r.name()).append("': ")
          .append(r.matched() ? "matched" : "no, " + r.reason()).append('\n');
    }
    sb.append("  strategy: ").append(strategy).append('\n');
    if (!inputs.isEmpty()) {
      sb.append("  inputs: ").append(new TreeMap<>(inputs)).append('\n');
    }
    failure.ifPresent(f -> sb.append("  failure: ").append(f).append('\n'));
    sb.append("  decision: ").append(describe(decision));
    return sb.toString();
  }

  static String describe(Decision decision) {
    if (decision instanceof Decision.Redirect r) {
      return "redirect " + r.status() + " " + r.location();
    } else if (decision instanceof Decision.Forward f) {
      return "forward to " + f.backend().name() + " at " + f.instance();
    } else if (decision instanceof Decision.Reject r) {
      return "reject " + r.status() + " " + r.reason();
    } else if (decision instanceof Decision.Offload o) {
      return "offload to queue " + o.queue();
    } else if (decision instanceof Decision.ServeCached c) {
      return "serve from memory " + c.response();
    }
    return "pass through to the host's handler";
  }
}
