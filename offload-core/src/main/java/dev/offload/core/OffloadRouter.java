package dev.offload.core;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.internal.PathNormalizer;
import dev.offload.core.internal.Settings;
import dev.offload.core.internal.ThrottledLog;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides, per request and without I/O, what happens to it: guards run first and may reject;
 * then the first route (in the order given) that matches hands the request to its strategy;
 * a request no route takes goes to {@code otherwise} (by default: pass through to the host's
 * own handler).
 *
 * <pre>{@code
 * OffloadRouter router = OffloadRouter.builder()
 *     .guard("api-key", Guard.requireHeader("X-Api-Key"))
 *     .route("static", Route.get("/static/**"), CdnStrategy.redirectTo(URI.create("https://cdn.example.com")))
 *     .route("images", Route.post("/api/images/**"), AsyncTaskStrategy.toQueue("images"))
 *     .route("api", Route.prefix("/api/"), FailoverStrategy.to(apiBackend))
 *     .meterRegistry(registry)
 *     .build();
 * Decision decision = router.decide(request);
 * System.out.println(router.explain(request));
 * }</pre>
 *
 * <p>Before anything else, a request whose target was refused by normalization
 * ({@link OffloadRequest#targetError()}) is rejected with 400, and so is a path with parameters
 * ({@code ;}), since servers disagree about what such a path means (see {@link
 * Builder#allowPathParameters}). A pass-through whose raw path is not canonical (dot segments,
 * repeated slashes) is rejected with 400 too: the host would read another path than the guards.
 *
 * <p>A strategy or guard that throws an exception (or returns null) does not take the router
 * down: the decision becomes a 500 {@link Decision.Reject}, the failure is logged and counted in
 * {@code offload.strategy.errors}, and {@link #explain} shows the cause. That holds for a checked
 * exception too, which Kotlin, Groovy or Lombok's {@code @SneakyThrows} throw undeclared; an
 * {@link Error} propagates.
 *
 * <p>Immutable and thread-safe: build one and share it. {@code decide} takes no lock and, with
 * no meter registry, allocates only the decision it returns.
 */
public final class OffloadRouter {
  private static final System.Logger LOG = System.getLogger(OffloadRouter.class.getName());
  /** The metric tag {@code route} of decisions that no route made. */
  static final String NO_ROUTE = "none";
  /**
   * The metric tag {@code route} under which executors count, in {@code offload.decisions} with
   * {@code decision=reject}, the requests they refuse before the router sees them (a malformed
   * {@code Host}, ambiguous framing, {@code CONNECT}, {@code TRACE}); no route may take this name.
   */
  public static final String BEFORE_ROUTING = "before_routing";

  private final Ticker ticker;
  private final MeterRegistry registry;
  private final ThrottledLog failures;
  private final CompiledGuard[] guards;
  private final CompiledRoute[] routes;
  private final RouteIndex index;
  private final boolean anyPrefixProtection;
  private final boolean allowPathParameters;
  private final OffloadStrategy otherwise;
  private final Context otherwiseContext;
  private final RouterMetrics metrics;
  private final int routeSlotBase;

  private OffloadRouter(Builder b) {
    this.ticker = b.ticker;
    this.registry = b.registry;
    this.failures = new ThrottledLog(LOG, ticker, ThrottledLog.DEFAULT_INTERVAL);
    this.guards = new CompiledGuard[b.guards.size()];
    for (int i = 0; i < guards.length; i++) {
      Map.Entry<String, Guard> g = b.guards.get(i);
      guards[i] = new CompiledGuard(g.getKey(), g.getValue(), new Context(g.getKey(), ticker));
    }
    this.routes = new CompiledRoute[b.routes.size()];
    List<RequestMatcher> matchers = new ArrayList<>();
    boolean protects = false;
    for (int i = 0; i < routes.length; i++) {
      RouteEntry r = b.routes.get(i);
      routes[i] = new CompiledRoute(i + 1, r.name, r.route.matcher, r.strategy,
          new Context(r.name, ticker));
      matchers.add(r.route.matcher);
      protects |= r.route.matcher.protectsPrefix();
    }
    this.index = new RouteIndex(matchers);
    this.anyPrefixProtection = protects;
    this.allowPathParameters = b.allowPathParameters;
    this.otherwise = b.otherwise;
    this.otherwiseContext = new Context(NO_ROUTE, ticker);
    this.routeSlotBase = 1 + guards.length;
    if (b.registry == null) {
      this.metrics = null;
    } else {
      String[] slots = new String[routeSlotBase + routes.length];
      slots[0] = NO_ROUTE;
      for (int i = 0; i < guards.length; i++) {
        slots[1 + i] = guards[i].name;
      }
      for (int i = 0; i < routes.length; i++) {
        slots[routeSlotBase + i] = routes[i].name;
      }
      this.metrics = new RouterMetrics(b.registry, slots, b.timeDecisions);
    }
  }

  /**
   * Returns a new builder.
   *
   * @return a builder with no guards, no routes and the system ticker
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the clock every part of this router reads; executors time and throttle with it too.
   *
   * @return the ticker set with {@link Builder#ticker}, or the system ticker
   */
  public Ticker ticker() {
    return ticker;
  }

  /**
   * Returns the registry this router's metrics are bound to, which executors built for this
   * router use too unless given another one.
   *
   * @return the registry set with {@link Builder#meterRegistry}, or empty
   */
  public Optional<MeterRegistry> meterRegistry() {
    return Optional.ofNullable(registry);
  }

  /**
   * Decides what to do with {@code request}. Does no I/O and never throws for a bad request or a
   * failing strategy (those become {@link Decision.Reject}s). A returned decision that holds a
   * {@link DecisionHandle} must be executed and its handle completed exactly once.
   *
   * @param request the request
   * @return the decision, never null
   */
  public Decision decide(OffloadRequest request) {
    requireNonNull(request, "request");
    long start = metrics != null && metrics.timesDecisions() ? ticker.read() : 0L;
    return decide(request, null, start);
  }

  /**
   * Explains what {@link #decide} does with {@code request}, and why. Runs the same guards and
   * strategies (so a strategy that counts calls sees this one), records no metrics, and
   * completes the handle of the decision it explains as dropped, so no resource stays held. A
   * request's {@link CorrelationId} (attribute {@link CorrelationId#KEY}) is shown as the input
   * {@code request id}.
   *
   * @param request the request
   * @return the explanation
   */
  public Explanation explain(OffloadRequest request) {
    requireNonNull(request, "request");
    Trace trace = new Trace();
    request.attribute(CorrelationId.KEY)
        .ifPresent(id -> trace.inputs.put("request id", id.toString()));
    Decision decision = decide(request, trace, 0L);
    if (decision instanceof Decision.Holding holding && !holding.handle().isCompleted()) {
      holding.handle().onDropped();
    }
    return new Explanation(
        request.toString(),
        request.targetError(),
        trace.guards,
        trace.routes,
        Optional.ofNullable(trace.route),
        trace.strategy,
        trace.inputs,
        decision,
        Optional.ofNullable(trace.failure));
  }

  private Decision decide(OffloadRequest request, Trace trace, long start) {
    if (request.targetError().isPresent()) {
      if (trace != null) {
        trace.strategy = "none: the target was refused";
      }
      return finish(0, Decision.reject(400, request.targetError().get()), start, trace);
    }
    OffloadRequest admitted = request;
    Headers guardHeaders = null;
    Headers guardRequestHeaders = null;
    List<DeferredCheck> deferred = null;
    for (int i = 0; i < guards.length; i++) {
      CompiledGuard guard = guards[i];
      Context context = trace == null ? guard.context : trace.context(guard.name, ticker);
      GuardVerdict verdict;
      try {
        verdict = guard.guard.check(admitted, context);
        if (verdict == null) {
          throw new NullPointerException("guard '" + guard.name + "' returned null");
        }
      } catch (Exception e) { // also a checked one thrown sneakily (Kotlin, Lombok); not an Error
        Decision failed = failed("guard '" + guard.name + "'", guard.name, e, trace);
        if (trace != null) {
          trace.guards.add(new Explanation.GuardStep(guard.name, guard.guard.describe(), "threw"));
          trace.strategy = "none: guard '" + guard.name + "' failed";
        }
        return finish(1 + i, failed, start, trace);
      }
      if (trace != null) {
        trace.guards.add(
            new Explanation.GuardStep(guard.name, guard.guard.describe(), verdict.toString()));
      }
      if (!verdict.admitted()) {
        if (trace != null) {
          trace.strategy = "none: guard '" + guard.name + "' denied";
        }
        return finish(1 + i, verdict.rejection().orElseThrow(), start, trace);
      }
      if (verdict.attributeKey().isPresent()) {
        admitted = attach(admitted, verdict);
      }
      if (verdict.responseHeaders().size() > 0) {
        guardHeaders = guardHeaders == null
            ? verdict.responseHeaders() : guardHeaders.plus(verdict.responseHeaders());
      }
      if (verdict.deferredCheck().isPresent()) {
        if (deferred == null) {
          deferred = new ArrayList<>(2);
        }
        deferred.add(verdict.deferredCheck().get());
      }
      if (verdict.requestHeaders().size() > 0) {
        guardRequestHeaders = guardRequestHeaders == null
            ? verdict.requestHeaders() : guardRequestHeaders.plus(verdict.requestHeaders());
      }
    }
    if (admitted.hasPathParameters()) {
      Decision.Reject refused = refusePathParameters(admitted, trace);
      if (refused != null) {
        return finish(0, refused, start, trace);
      }
    }
    int matched = trace == null ? firstMatch(admitted) : firstMatchTraced(admitted, trace);
    if (matched < 0) {
      if (trace != null) {
        trace.strategy = "otherwise: " + otherwise.describe();
      }
      Context context = trace == null ? otherwiseContext : trace.context(NO_ROUTE, ticker);
      Decision decision = withDeferred(withGuards(
          run(otherwise, NO_ROUTE, admitted, context, trace),
          guardHeaders, guardRequestHeaders, request, admitted), deferred, trace);
      return finish(0, canonicalPassThrough(decision, admitted, trace), start, trace);
    }
    CompiledRoute route = routes[matched];
    if (trace != null) {
      trace.route = route.name;
      trace.strategy = describe(route.strategy, route.name);
    }
    Context context = trace == null ? route.context : trace.context(route.name, ticker);
    Decision decision = withDeferred(withGuards(
        run(route.strategy, route.name, admitted, context, trace),
        guardHeaders, guardRequestHeaders, request, admitted), deferred, trace);
    return finish(routeSlotBase + matched, canonicalPassThrough(decision, admitted, trace), start,
        trace);
  }

  private int firstMatch(OffloadRequest request) {
    for (int i : index.candidates(request.method(), request.path())) {
      if (routes[i].matcher.matches(request)) {
        return i;
      }
    }
    return -1;
  }

  private int firstMatchTraced(OffloadRequest request, Trace trace) {
    for (int i = 0; i < routes.length; i++) {
      CompiledRoute route = routes[i];
      boolean matches = route.matcher.matches(request);
      trace.routes.add(new Explanation.RouteStep(route.number, route.name, matches,
          matches ? "matched" : route.matcher.mismatch(request)));
      if (matches) {
        return i;
      }
    }
    return -1;
  }

  private Decision run(OffloadStrategy strategy, String name, OffloadRequest request,
      Context context, Trace trace) {
    try {
      Decision decision = strategy.decide(request, context);
      if (decision == null) {
        throw new NullPointerException("strategy of route '" + name + "' returned null");
      }
      return decision;
    } catch (Exception e) { // also a checked one thrown sneakily (Kotlin, Lombok); not an Error
      return failed("strategy of route '" + name + "'", name, e, trace);
    }
  }

  private Decision failed(String what, String name, Exception e, Trace trace) {
    if (trace != null) {
      trace.failure = what + " threw " + e;
    } else {
      // first time in full, then counted: a strategy that always throws must not log a stack
      // trace per request
      failures.log(System.Logger.Level.WARNING, name, what + " threw; answering 500", e);
      if (metrics != null) {
        metrics.strategyError(name, e);
      }
    }
    return Decision.reject(500, "internal error while routing the request");
  }

  /**
   * A pass-through hands the host the raw target. When normalization rewrote it (dot segments,
   * repeated slashes), the host would read another path than the guards and routes did: {@code
   * /admin/../public/x} was admitted as {@code /public/x} but a host that dispatches on the raw
   * path runs its admin code. Refuse those rather than pass them on.
   */
  private static Decision canonicalPassThrough(Decision decision, OffloadRequest request,
      Trace trace) {
    if (!(decision instanceof Decision.PassThrough passThrough) || request.hasCanonicalPath()) {
      return decision;
    }
    passThrough.handle().tryComplete(Outcome.DROPPED, FailureKind.REJECTED_LOCALLY, 400, 0);
    String reason = "non-canonical path (dot segments or repeated slashes) is not passed through";
    if (trace != null) {
      trace.strategy = trace.strategy + ", refused: " + reason;
    }
    return Decision.reject(400, reason);
  }

  /**
   * Refuses a path with parameters ({@code ;}): servlet containers strip them, other servers do
   * not, so {@code /admin;x/secret} would be checked as one path and served as another. With
   * {@link Builder#allowPathParameters(boolean)}, only paths that fall, parameters removed, under
   * a route protecting a prefix are refused.
   */
  private Decision.Reject refusePathParameters(OffloadRequest request, Trace trace) {
    if (!allowPathParameters) {
      String reason = "path parameters (';') are not accepted";
      if (trace != null) {
        trace.strategy = "none: " + reason;
      }
      return Decision.reject(400, reason);
    }
    if (!anyPrefixProtection) {
      return null;
    }
    OffloadRequest stripped = request.withPath(PathNormalizer.stripParameters(request.path()));
    for (CompiledRoute route : routes) {
      if (route.matcher.protectsPrefix() && route.matcher.matches(stripped)) {
        String reason = "path parameters (';') are not allowed under a protected prefix";
        if (trace != null) {
          trace.strategy = "none: " + reason + " (route '" + route.name + "')";
        }
        return Decision.reject(400, reason);
      }
    }
    return null;
  }

  /**
   * Puts what admitting guards asked for where the executor finds it: response headers on a
   * holding decision's handle or into a redirect's headers (a rejection keeps its own); request
   * headers and attached attributes (the identity) on a holding decision's handle.
   */
  private static Decision withGuards(Decision decision, Headers headers, Headers requestHeaders,
      OffloadRequest request, OffloadRequest admitted) {
    if (decision instanceof Decision.Holding holding) {
      if (requestHeaders != null) {
        holding.handle().setRequestHeaders(requestHeaders);
      }
      if (admitted != request) {
        attachTo(holding.handle(), admitted, request);
      }
    }
    if (headers == null) {
      return decision;
    }
    if (decision instanceof Decision.Holding holding) {
      holding.handle().addResponseHeaders(headers);
    } else if (decision instanceof Decision.Redirect redirect) {
      return new Decision.Redirect(redirect.status(), redirect.location(),
          redirect.headers().plus(headers));
    }
    return decision;
  }

  /**
   * Has the executor run the guards' deferred checks before it executes a holding decision
   * (ahead of a pending response a strategy attached). A redirect cannot wait: refused, closed.
   */
  private static Decision withDeferred(Decision decision, List<DeferredCheck> deferred,
      Trace trace) {
    if (deferred == null) {
      return decision;
    }
    if (decision instanceof Decision.Holding holding) {
      DecisionHandle handle = holding.handle();
      handle.waitFor(new DeferredChecks(deferred, handle, handle.pendingResponse().orElse(null)));
      if (trace != null) {
        trace.strategy = trace.strategy + ", after " + deferred.size() + " deferred guard check(s)";
      }
      return decision;
    }
    if (decision instanceof Decision.Redirect) {
      String reason = "a redirect cannot wait for a guard's deferred check";
      if (trace != null) {
        trace.strategy = trace.strategy + ", refused: " + reason;
      }
      return Decision.reject(500, reason);
    }
    return decision;
  }

  /** Puts on the handle the attributes guards attached (those {@code request} did not have). */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void attachTo(DecisionHandle handle, OffloadRequest admitted,
      OffloadRequest request) {
    for (Map.Entry<AttributeKey<?>, Object> e : admitted.attributes().entrySet()) {
      if (request.attributes().get(e.getKey()) != e.getValue()) {
        handle.putAttribute((AttributeKey) e.getKey(), e.getValue());
      }
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static OffloadRequest attach(OffloadRequest request, GuardVerdict verdict) {
    AttributeKey key = verdict.attributeKey().orElseThrow();
    return request.withAttribute(key, verdict.attributeValue().orElseThrow());
  }

  private Decision finish(int slot, Decision decision, long start, Trace trace) {
    if (metrics != null && trace == null) {
      metrics.record(slot, decision.kind(), metrics.timesDecisions() ? ticker.read() - start : 0L);
    }
    return decision;
  }

  /**
   * What explanations call a route's strategy: its own description, and for a lambda (which can
   * only say what interface it implements, {@code OffloadStrategy} or {@code CdnStrategy}) that
   * plus the route's name, so that two lambda routes read apart.
   */
  static String describe(OffloadStrategy strategy, String routeName) {
    String described = strategy.describe();
    return strategy.getClass().isSynthetic()
        ? "lambda " + described + " of route '" + routeName + "'"
        : described;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("OffloadRouter{");
    for (CompiledGuard g : guards) {
      sb.append("\n  guard '").append(g.name).append("': ").append(g.guard.describe());
    }
    for (CompiledRoute r : routes) {
      sb.append("\n  #").append(r.number).append(" '").append(r.name).append("' ")
          .append(r.matcher.describe()).append(" -> ").append(describe(r.strategy, r.name));
    }
    return sb.append("\n  otherwise -> ").append(otherwise.describe()).append("\n}").toString();
  }

  private record CompiledGuard(String name, Guard guard, Context context) {}

  private record CompiledRoute(int number, String name, RequestMatcher matcher,
      OffloadStrategy strategy, Context context) {}

  private record RouteEntry(String name, Route route, OffloadStrategy strategy) {}

  /** The context of one route or guard while deciding: notes cost nothing. */
  private static class Context implements DecisionContext {
    private final String name;
    private final Ticker ticker;

    Context(String name, Ticker ticker) {
      this.name = name;
      this.ticker = ticker;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public long nanoTime() {
      return ticker.read();
    }

    @Override
    public Ticker ticker() {
      return ticker;
    }

    @Override
    public void note(String input, Object value) {}

    @Override
    public boolean explaining() {
      return false;
    }
  }

  /** What {@link #explain} collects. */
  private static final class Trace {
    final List<Explanation.GuardStep> guards = new ArrayList<>();
    final List<Explanation.RouteStep> routes = new ArrayList<>();
    final Map<String, Object> inputs = new LinkedHashMap<>();
    String route;
    String strategy = "";
    String failure;

    Context context(String name, Ticker ticker) {
      return new Context(name, ticker) {
        @Override
        public void note(String input, Object value) {
          inputs.put(requireNonNull(input, "input"), String.valueOf(value));
        }

        @Override
        public boolean explaining() {
          return true;
        }
      };
    }
  }

  /**
   * Builds an {@link OffloadRouter}. Setters reject bad values at once; {@link #build()} checks
   * the whole table. Not thread-safe.
   */
  public static final class Builder {
    private Ticker ticker = Ticker.systemTicker();
    private MeterRegistry registry;
    private boolean timeDecisions;
    private final List<Map.Entry<String, Guard>> guards = new ArrayList<>();
    private final List<RouteEntry> routes = new ArrayList<>();
    private OffloadStrategy otherwise;
    private boolean allowPathParameters;

    private Builder() {}

    /**
     * Accepts paths with parameters ({@code /a;jsessionid=1/b}), refused with 400 by default
     * because servers disagree on what they mean. When allowed, a path that falls under a route
     * protecting a prefix once its parameters are removed is still refused.
     *
     * @param allow whether it is allowed
     * @return this builder
     */
    public Builder allowPathParameters(boolean allow) {
      this.allowPathParameters = allow;
      return this;
    }

    /**
     * Sets the clock for all time reads (default: the system ticker).
     *
     * @param ticker the clock
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Binds metrics ({@code offload.decisions}, ...) to {@code registry}. Default: no metrics.
     *
     * @param registry the meter registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Also times each decision in {@code offload.decide.duration} (off by default: two clock
     * reads per request). Needs a {@link #meterRegistry}.
     *
     * @param enabled whether it is on
     * @return this builder
     */
    public Builder recordDecideDuration(boolean enabled) {
      this.timeDecisions = enabled;
      return this;
    }

    /**
     * Adds a guard named {@code guard-N} (N from 1).
     *
     * @param guard the guard
     * @return this builder
     */
    public Builder guard(Guard guard) {
      return guard("guard-" + (guards.size() + 1), guard);
    }

    /**
     * Adds a named guard; guards run in the order added, before any route.
     *
     * @param name the name
     * @param guard the guard
     * @return this builder
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public Builder guard(String name, Guard guard) {
      requireNonNull(guard, "guard");
      guards.add(Map.entry(Settings.notBlank("guard name", name), guard));
      return this;
    }

    /**
     * Adds a route named after its description, e.g. {@code GET|HEAD /static/**}.
     *
     * @param route the route
     * @param strategy the strategy
     * @return this builder
     */
    public Builder route(Route route, OffloadStrategy strategy) {
      requireNonNull(route, "route");
      return route(route.toString(), route, strategy);
    }

    /**
     * Adds a named route; the first route that matches a request decides it.
     *
     * @param name the name
     * @param route the route
     * @param strategy the strategy
     * @return this builder
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public Builder route(String name, Route route, OffloadStrategy strategy) {
      requireNonNull(route, "route");
      requireNonNull(strategy, "strategy");
      routes.add(new RouteEntry(Settings.notBlank("route name", name), route, strategy));
      return this;
    }

    /**
     * Sets what happens to requests no route takes (default: pass through).
     *
     * @param strategy the strategy
     * @return this builder
     */
    public Builder otherwise(OffloadStrategy strategy) {
      this.otherwise = requireNonNull(strategy, "otherwise");
      return this;
    }

    /**
     * Returns the router.
     *
     * @return the router
     * @throws IllegalStateException if two routes or two guards share a name, if there is no
     * route and no {@link #otherwise}, if a name is {@value OffloadRouter#NO_ROUTE} or {@value
     * OffloadRouter#BEFORE_ROUTING}, or if
     * {@code recordDecideDuration} is on without a meter registry
     */
    public OffloadRouter build() {
      if (routes.isEmpty() && otherwise == null) {
        throw new IllegalStateException(
            "the route table is empty and no otherwise(...) is set: add a route, or set "
                + "otherwise(OffloadStrategy.passThrough()) to pass everything through");
      }
      Set<String> names = new HashSet<>();
      for (RouteEntry r : routes) {
        if (!names.add(r.name)) {
          throw new IllegalStateException("duplicate route name '" + r.name
              + "': give each route its own name (a second identical route is never reached)");
        }
      }
      Set<String> guardNames = new HashSet<>();
      for (Map.Entry<String, Guard> g : guards) {
        if (!guardNames.add(g.getKey())) {
          throw new IllegalStateException("duplicate guard name '" + g.getKey() + "'");
        }
      }
      if (names.contains(NO_ROUTE) || guardNames.contains(NO_ROUTE)) {
        throw new IllegalStateException("'" + NO_ROUTE + "' is reserved for unrouted requests");
      }
      if (names.contains(BEFORE_ROUTING) || guardNames.contains(BEFORE_ROUTING)) {
        throw new IllegalStateException("'" + BEFORE_ROUTING
            + "' is reserved for requests refused before routing");
      }
      if (timeDecisions && registry == null) {
        throw new IllegalStateException("recordDecideDuration(true) needs a meterRegistry(...)");
      }
      if (otherwise == null) {
        otherwise = OffloadStrategy.passThrough();
      }
      requireDistinctBackendNames();
      return new OffloadRouter(this);
    }

    /**
     * Refuses two different {@link Backend}s with one name among what the strategies list
     * ({@link OffloadStrategy#backends()}): metrics and logs are per backend name, so they would
     * mix. One {@code Backend} object shared by several routes is fine.
     */
    private void requireDistinctBackendNames() {
      Map<String, Map.Entry<String, Backend>> seen = new LinkedHashMap<>();
      List<Map.Entry<String, OffloadStrategy>> strategies = new ArrayList<>();
      for (RouteEntry r : routes) {
        strategies.add(Map.entry("route '" + r.name + "'", r.strategy));
      }
      strategies.add(Map.entry("otherwise", otherwise));
      for (Map.Entry<String, OffloadStrategy> s : strategies) {
        for (Backend backend : s.getValue().backends()) {
          Map.Entry<String, Backend> first =
              seen.putIfAbsent(backend.name(), Map.entry(s.getKey(), backend));
          if (first != null && first.getValue() != backend) {
            throw new IllegalStateException("two different backends are named '" + backend.name()
                + "' (" + first.getKey() + ": " + first.getValue() + ", " + s.getKey() + ": "
                + backend + "): their metrics and logs would mix; give each its own name, or "
                + "share one Backend object");
          }
        }
      }
    }
  }
}
