package dev.offload.core.failover;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Backend;
import dev.offload.core.Decision;
import dev.offload.core.DecisionContext;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.internal.Settings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Forwards to a primary backend and, when it is unhealthy, its circuit is open or it is over a
 * {@link Load} condition, to an alternative backend (a read replica, a fallback), coming back
 * with hysteresis; sheds the lowest priorities first when every target is saturated. Built from
 * {@link FailoverStrategy#primary(Backend)}; each method returns a new strategy.
 *
 * <pre>{@code
 * Backend orders  = Backend.builder("orders").instance(a).instance(b).build();
 * Backend replica = Backend.builder("orders-replica").instance(c).build();
 * .route(Route.prefix("/api/orders"), FailoverStrategy.primary(orders)
 *     .alternative(replica)
 *     .when(Load.inFlightAbove(200).or(Load.p99Above(Duration.ofMillis(250))))
 *     .readsOnly()
 *     .shedWhenSaturated(Priority.by(request ->
 *         request.path().startsWith("/api/orders/checkout") ? Priority.HIGHEST : Priority.LOWEST)))
 * }</pre>
 *
 * <p>Per request: the primary is in trouble when its circuit is open, when fewer than the panic
 * threshold of its instances are healthy (not ejected by outlier detection), or when the {@code
 * when} condition holds. In trouble, requests go to the alternative; they come back once the
 * primary has been out of trouble for the hysteresis time (default {@value
 * #DEFAULT_HYSTERESIS_SECONDS} s). With {@link #readsOnly()} only GET, HEAD and OPTIONS go to the
 * alternative; other methods stay on the primary. When the chosen target is itself in trouble
 * (no alternative, or both over their conditions), the target is saturated: with {@link
 * #shedWhenSaturated(Priority)}, a request whose priority is below the shed level is answered 503
 * with {@code Retry-After} at once. The level starts at 1 (shedding {@link Priority#LOWEST}) and
 * rises by one each shed step (default 1 s) that saturation lasts, up to {@link
 * Priority#HIGHEST} (never shed), and falls by one each step without saturation. Within a
 * backend, instances are picked by the {@link Balancer} (power-of-two-choices by default) among
 * those not ejected, or among all of them in panic mode (no alternative, or it is in trouble
 * too). An open circuit with nowhere else to go answers 503 with {@code Retry-After}.
 *
 * <p>{@code explain} notes the figures (in flight, p99 estimate, error rate, ejected instances,
 * circuit state), the condition that fired and the target. Meters, when {@link
 * #meterRegistry(MeterRegistry)} is set: {@code offload.backend.inflight}, {@code
 * offload.backend.latency}, {@code offload.backend.ejections} (tag {@code backend}), {@code
 * offload.failover.switches} (tags {@code backend}, {@code to}), {@code offload.shed} (tags
 * {@code backend}, {@code priority}). Thread-safe, no I/O, no lock.
 */
public final class Failover implements FailoverStrategy {
  /** Default time the primary must stay out of trouble before requests return to it. */
  public static final long DEFAULT_HYSTERESIS_SECONDS = 5;
  /** Default time the primary must stay out of trouble before requests return to it. */
  public static final Duration DEFAULT_HYSTERESIS = Duration.ofSeconds(DEFAULT_HYSTERESIS_SECONDS);
  /** Default share of healthy instances below which a backend is in panic: 0.5. */
  public static final double DEFAULT_PANIC_THRESHOLD = 0.5;
  /** Default time per step of the shed level. */
  public static final Duration DEFAULT_SHED_STEP = Duration.ofSeconds(1);

  private static final String[] SHED_TAGS = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

  private final Spec spec;
  private final BackendLoad primary;
  private final BackendLoad alternative;
  private final long hysteresisNanos;
  private final long shedStepNanos;
  private final Headers retryAfter;
  private volatile boolean onAlternative;
  private volatile long lastTroubleNanos;
  private final AtomicInteger shedLevel = new AtomicInteger();
  private volatile long shedLevelChangedNanos;
  private final Counter toAlternative;
  private final Counter toPrimary;
  private final Counter[] shed;

  /** The configuration; copied by every method that derives a new strategy. */
  private static final class Spec implements Cloneable {
    Backend primary;
    Backend alternative;
    Load when;
    boolean readsOnly;
    Priority priority;
    Balancer balancer = Balancer.powerOfTwoChoices();
    Duration hysteresis = DEFAULT_HYSTERESIS;
    double panicThreshold = DEFAULT_PANIC_THRESHOLD;
    Duration shedStep = DEFAULT_SHED_STEP;
    MeterRegistry registry;

    Spec copy() {
      try {
        return (Spec) clone();
      } catch (CloneNotSupportedException e) {
        throw new AssertionError(e);
      }
    }
  }

  private Failover(Spec spec) {
    this.spec = spec;
    this.primary = BackendLoad.of(spec.primary);
    this.alternative = spec.alternative == null ? null : BackendLoad.of(spec.alternative);
    this.hysteresisNanos = spec.hysteresis.toNanos();
    this.shedStepNanos = spec.shedStep.toNanos();
    this.retryAfter = Headers.of("Retry-After",
        Long.toString(Math.max(1, (spec.shedStep.toMillis() + 999) / 1000)));
    MeterRegistry registry = spec.registry;
    if (registry != null) {
      primary.bindMetrics(registry);
      if (alternative != null) {
        alternative.bindMetrics(registry);
      }
      String name = spec.primary.name();
      toAlternative = Counter.builder("offload.failover.switches")
          .description("Switches of a failover strategy between its primary and alternative")
          .tag("backend", name).tag("to", "alternative").register(registry);
      toPrimary = Counter.builder("offload.failover.switches")
          .description("Switches of a failover strategy between its primary and alternative")
          .tag("backend", name).tag("to", "primary").register(registry);
      shed = new Counter[SHED_TAGS.length];
      for (int i = 0; i < shed.length; i++) {
        shed[i] = Counter.builder("offload.shed")
            .description("Requests answered 503 at once because every target was saturated")
            .tag("backend", name).tag("priority", SHED_TAGS[i]).register(registry);
      }
    } else {
      toAlternative = null;
      toPrimary = null;
      shed = null;
    }
  }

  static Failover primary(Backend backend) {
    Spec spec = new Spec();
    spec.primary = requireNonNull(backend, "backend");
    return new Failover(spec);
  }

  private Failover with(java.util.function.Consumer<Spec> change) {
    Spec copy = spec.copy();
    change.accept(copy);
    return new Failover(copy);
  }

  /**
   * Returns this strategy with {@code backend} as where requests go when the primary is in
   * trouble.
   *
   * @param backend the alternative (a read replica, a fallback)
   * @return the new strategy
   * @throws IllegalArgumentException if {@code backend} is the primary
   */
  public Failover alternative(Backend backend) {
    requireNonNull(backend, "backend");
    if (backend == spec.primary) {
      throw new IllegalArgumentException(
          "alternative " + backend.name() + " is the primary backend itself");
    }
    return with(s -> s.alternative = backend);
  }

  /**
   * Returns this strategy failing over when {@code condition} holds on the primary (and counting
   * the alternative saturated when it holds there).
   *
   * @param condition the load condition
   * @return the new strategy
   */
  public Failover when(Load condition) {
    requireNonNull(condition, "condition");
    return with(s -> s.when = condition);
  }

  /**
   * Returns this strategy sending only safe methods (GET, HEAD, OPTIONS) to the alternative; any
   * other method always goes to the primary.
   *
   * @return the new strategy
   */
  public Failover readsOnly() {
    return with(s -> s.readsOnly = true);
  }

  /**
   * Returns this strategy shedding requests by {@code priority} when every target is saturated.
   *
   * @param priority the priority of each request
   * @return the new strategy
   */
  public Failover shedWhenSaturated(Priority priority) {
    requireNonNull(priority, "priority");
    return with(s -> s.priority = priority);
  }

  /**
   * Returns this strategy picking instances with {@code balancer}.
   *
   * @param balancer the balancer
   * @return the new strategy
   */
  public Failover balancer(Balancer balancer) {
    requireNonNull(balancer, "balancer");
    return with(s -> s.balancer = balancer);
  }

  /**
   * Returns this strategy coming back to the primary only after it stayed out of trouble for
   * {@code time}.
   *
   * @param time zero or more
   * @return the new strategy
   * @throws IllegalArgumentException if {@code time} is negative
   */
  public Failover hysteresis(Duration time) {
    Duration checked = Settings.notNegative("hysteresis", time);
    return with(s -> s.hysteresis = checked);
  }

  /**
   * Returns this strategy with {@code threshold} as the share of healthy instances below which a
   * backend is in panic: in trouble, and (with nowhere better to go) balanced over all its
   * instances, ejected or not.
   *
   * @param threshold in [0, 1]
   * @return the new strategy
   * @throws IllegalArgumentException if {@code threshold} is outside [0, 1]
   */
  public Failover panicThreshold(double threshold) {
    if (!(threshold >= 0 && threshold <= 1)) {
      throw new IllegalArgumentException("panicThreshold must be in [0, 1], got " + threshold);
    }
    return with(s -> s.panicThreshold = threshold);
  }

  /**
   * Returns this strategy moving its shed level one step per {@code step}; {@code Retry-After} on a
   * shed request is the step in whole seconds, at least 1.
   *
   * @param step positive
   * @return the new strategy
   * @throws IllegalArgumentException if {@code step} is not positive
   */
  public Failover shedStep(Duration step) {
    Duration checked = Settings.positive("shedStep", step);
    return with(s -> s.shedStep = checked);
  }

  /**
   * Returns this strategy with its meters on {@code registry}.
   *
   * @param registry the registry
   * @return the new strategy
   */
  public Failover meterRegistry(MeterRegistry registry) {
    requireNonNull(registry, "registry");
    return with(s -> s.registry = registry);
  }

  /**
   * Returns whether requests currently go to the alternative.
   *
   * @return true after a switch, until the switch back
   */
  public boolean onAlternative() {
    return onAlternative;
  }

  /**
   * Returns the current shed level: requests with a lower priority are shed while saturated.
   *
   * @return 0 (nothing shed) .. {@link Priority#HIGHEST}
   */
  public int shedLevel() {
    return shedLevel.get();
  }

  @Override
  public Decision decide(OffloadRequest request, DecisionContext context) {
    long now = context.nanoTime();
    boolean explaining = context.explaining();
    String trouble = trouble(primary, now);
    String alternativeTrouble = null; // read at most once per decision
    boolean toAlternative = false;
    if (alternative != null) {
      if (!trouble.isEmpty()) {
        if (!explaining) {
          lastTroubleNanos = now;
          if (!onAlternative) {
            onAlternative = true;
            count(this.toAlternative);
          }
        }
        toAlternative = true;
      } else if (onAlternative) {
        toAlternative = now - lastTroubleNanos < hysteresisNanos;
        if (toAlternative) {
          alternativeTrouble = trouble(alternative, now);
          // within the hysteresis, but the alternative is over the condition now and the primary
          // is not: this request spills back to the primary (still switched over), rather than
          // piling onto the alternative while the primary idles
          toAlternative = alternativeTrouble.isEmpty();
        } else if (!explaining) {
          onAlternative = false;
          count(toPrimary);
        }
      }
    }
    boolean unsafe = spec.readsOnly && !safe(request.method());
    if (unsafe) {
      toAlternative = false;
    }
    BackendLoad target = toAlternative ? alternative : primary;
    String targetTrouble = !toAlternative ? trouble
        : alternativeTrouble != null ? alternativeTrouble : trouble(alternative, now);
    if (explaining) {
      note(context, "primary", primary, now);
      if (alternative != null) {
        note(context, "alternative", alternative, now);
      }
      context.note("failover.fired", trouble.isEmpty() ? "none" : trouble);
      if (unsafe && alternative != null) {
        context.note("failover.readsOnly", request.method() + " stays on the primary");
      }
      context.note("failover.target", target.backend().name());
    }
    Priority priority = spec.priority;
    if (priority != null) {
      int level = shedLevel(!targetTrouble.isEmpty(), now, explaining);
      if (!targetTrouble.isEmpty()) {
        int of = priority.of(request);
        if (explaining) {
          context.note("shed.priority", of);
          context.note("shed.level", level);
        }
        if (of < level) {
          if (shed != null && !explaining) {
            shed[of].increment();
          }
          return Decision.reject(503, "shed: backend " + target.backend().name()
              + " is saturated (" + targetTrouble + ")", retryAfter);
        }
      }
    }
    if (!target.allow(now, explaining)) {
      BackendLoad other = target == primary ? alternative : null;
      if (other != null && !unsafe && other.allow(now, explaining)) {
        target = other;
      } else {
        return Decision.reject(503, "circuit open for backend " + target.backend().name(),
            retryAfter);
      }
    }
    InstanceLoad[] instances = target.instanceArray();
    long eligible = eligibleMask(instances, now);
    boolean panic = Long.bitCount(eligible) < spec.panicThreshold * Math.min(64, instances.length);
    if (panic || eligible == 0) {
      eligible = -1L;
      if (explaining) {
        context.note("failover.panic", target.backend().name());
      }
    }
    int index = spec.balancer.choose(instances, eligible, now, explaining);
    return target.forwardTo(instances[Math.max(0, index)], context);
  }

  /** Why {@code load} is in trouble at {@code now}, or "" when it is not. */
  private String trouble(BackendLoad load, long now) {
    if (load.circuitState(now) == CircuitState.OPEN) {
      return "circuit open";
    }
    InstanceLoad[] instances = load.instanceArray();
    long eligible = eligibleMask(instances, now);
    if (Long.bitCount(eligible) < spec.panicThreshold * Math.min(64, instances.length)) {
      return "unhealthy: " + load.ejectedCount(now) + " of " + instances.length + " ejected";
    }
    Load when = spec.when;
    return when == null ? "" : when.firing(load, now);
  }

  private static long eligibleMask(InstanceLoad[] instances, long now) {
    long mask = 0;
    for (int i = 0; i < instances.length && i < 64; i++) {
      if (!instances[i].ejected(now)) {
        mask |= 1L << i;
      }
    }
    return mask;
  }

  /** The shed level after this request's view of saturation (unchanged while explaining). */
  private int shedLevel(boolean saturated, long now, boolean explaining) {
    int level = shedLevel.get();
    boolean stepped = now - shedLevelChangedNanos >= shedStepNanos;
    int next = level;
    if (saturated) {
      if (level == 0) {
        next = 1;
      } else if (stepped && level < Priority.HIGHEST) {
        next = level + 1;
      }
    } else if (level > 0 && stepped) {
      next = level - 1;
    }
    if (next != level && !explaining && shedLevel.compareAndSet(level, next)) {
      shedLevelChangedNanos = now;
    }
    return next;
  }

  private static void note(DecisionContext context, String role, BackendLoad load, long now) {
    String name = role + "." + load.backend().name();
    context.note(name + ".inFlight", load.inFlight());
    context.note(name + ".p99", Duration.ofNanos(load.p99EstimateNanos(now)));
    context.note(name + ".errorRate", load.errorRate(now));
    context.note(name + ".ejected", load.ejectedCount(now));
    context.note(name + ".circuit", load.circuitState(now));
  }

  private static boolean safe(String method) {
    return switch (method) {
      case "GET", "HEAD", "OPTIONS" -> true;
      default -> false;
    };
  }

  private static void count(Counter counter) {
    if (counter != null) {
      counter.increment();
    }
  }

  /**
   * Returns the primary and, when set, the alternative: the router refuses two different
   * backends of one name.
   *
   * @return the backends this strategy forwards to
   */
  @Override
  public List<Backend> backends() {
    return spec.alternative == null ? List.of(spec.primary)
        : List.of(spec.primary, spec.alternative);
  }

  @Override
  public String describe() {
    StringBuilder s = new StringBuilder("FailoverStrategy.primary(").append(spec.primary.name())
        .append(')');
    if (spec.alternative != null) {
      s.append(".alternative(").append(spec.alternative.name()).append(')');
    }
    if (spec.when != null) {
      s.append(".when(").append(spec.when.describe()).append(')');
    }
    if (spec.readsOnly) {
      s.append(".readsOnly()");
    }
    if (spec.priority != null) {
      s.append(".shedWhenSaturated()");
    }
    return s.toString();
  }

  @Override
  public String toString() {
    return describe();
  }
}
