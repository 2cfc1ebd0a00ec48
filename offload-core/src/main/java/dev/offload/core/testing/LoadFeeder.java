package dev.offload.core.testing;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.offload.core.Backend;
import dev.offload.core.Completion;
import dev.offload.core.Decision;
import dev.offload.core.DecisionHandle;
import dev.offload.core.FailureKind;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Outcome;
import dev.offload.core.failover.BackendLoad;
import dev.offload.core.failover.InstanceLoad;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Puts a backend under the load a test describes, so the test can assert where the router sends
 * the next request and why: completions with their latencies, statuses and failures go into the
 * backend's {@link BackendLoad} at the ticker's current time, and in-flight counts are set by
 * holding slots.
 *
 * <pre>{@code
 * FakeTicker ticker = new FakeTicker();
 * LoadFeeder orders = LoadFeeder.of(ordersBackend, ticker);
 * orders.instance(0).succeeded(100, Duration.ofMillis(400)).failed(3, FailureKind.READ_TIMEOUT)
 *     .inFlight(250);
 * assertThat(BackendLoad.of(ordersBackend).instance(0).snapshot(ticker.read()).p99())
 *     .isEqualTo(Duration.ofMillis(400));
 * assertThat(router.decide(get("/api/orders"))).isInstanceOf(Decision.Forward.class);
 * }</pre>
 *
 * <p>{@link #next(OffloadRouter, OffloadRequest)} and {@link #nextInstance(OffloadRouter,
 * OffloadRequest)} decide a request for real (a failover strategy may switch, a half-open circuit
 * gives a probe) and give back what the decision holds, so a test can ask again and again where the
 * next request goes:
 *
 * <pre>{@code
 * orders.instance(0).answered(5, 503, Duration.ofMillis(5)); // five 5xx in a row: ejected
 * assertThat(LoadFeeder.nextInstance(router, get("/api/orders"))).isEqualTo(b);
 * }</pre>
 *
 * <p>Not thread-safe: one test drives it.
 */
public final class LoadFeeder {
  private final Ticker ticker;
  private final Instance[] instances;

  private LoadFeeder(BackendLoad load, Ticker ticker) {
    this.ticker = ticker;
    this.instances = new Instance[load.instances().size()];
    for (int i = 0; i < instances.length; i++) {
      instances[i] = new Instance(load.instance(i));
    }
  }

  /**
   * Returns a feeder for {@code backend}'s load, at the times {@code ticker} reads.
   *
   * @param backend the backend
   * @param ticker the router's ticker
   * @return a feeder for {@code backend}'s load, at the times {@code ticker} reads
   */
  public static LoadFeeder of(Backend backend, Ticker ticker) {
    return new LoadFeeder(BackendLoad.of(requireNonNull(backend, "backend")),
        requireNonNull(ticker, "ticker"));
  }

  /**
   * Decides {@code request} on {@code router} and, if the decision holds something (an in-flight
   * slot, a probe), gives it back at once as dropped work, which records nothing.
   *
   * @param router the router under test
   * @param request the request
   * @return the decision
   */
  public static Decision next(OffloadRouter router, OffloadRequest request) {
    requireNonNull(router, "router");
    requireNonNull(request, "request");
    Decision decision = router.decide(request);
    if (decision instanceof Decision.Holding holding) {
      holding.handle().tryComplete(Outcome.DROPPED, FailureKind.NONE, Completion.NO_STATUS, 0);
    }
    return decision;
  }

  /**
   * Returns the instance {@code router} forwards {@code request} to, as {@link #next} does.
   *
   * @param router the router under test
   * @param request the request
   * @return the instance's base URI
   * @throws AssertionError naming the decision if it is not a forward
   */
  public static URI nextInstance(OffloadRouter router, OffloadRequest request) {
    Decision decision = next(router, request);
    if (decision instanceof Decision.Forward forward) {
      return forward.instance();
    }
    throw new AssertionError("expected a forward, got " + decision);
  }

  /**
   * Returns the feeder of the instance at {@code index} of the backend: the same object each
   * time, so the slots it holds are the ones {@link Instance#inFlight(int)} adjusts.
   *
   * @param index its position in the backend's instances, from 0
   * @return the instance's feeder
   * @throws IndexOutOfBoundsException if the backend has no such instance
   */
  public Instance instance(int index) {
    if (index < 0 || index >= instances.length) {
      throw new IndexOutOfBoundsException(
          "the backend has " + instances.length + " instance(s), no index " + index);
    }
    return instances[index];
  }

  /**
   * Feeds one instance.
   */
  public final class Instance {
    private final InstanceLoad instance;
    private final Deque<DecisionHandle> held = new ArrayDeque<>();

    private Instance(InstanceLoad instance) {
      this.instance = instance;
    }

    /**
     * Records {@code count} successful 200 completions that took {@code latency} each.
     *
     * @param count how many
     * @param latency how long each took
     * @return this feeder
     */
    public Instance succeeded(int count, Duration latency) {
      return completed(count, latency, Outcome.SUCCESS, FailureKind.NONE, 200);
    }

    /**
     * Records {@code count} completions with {@code status} taking {@code latency}: a status of
     * 500 or more is a {@link FailureKind#SERVER_ERROR} failure, anything else a success.
     *
     * @param count how many
     * @param status the HTTP status
     * @param latency how long each took
     * @return this feeder
     */
    public Instance answered(int count, int status, Duration latency) {
      boolean error = status >= 500;
      return completed(count, latency, error ? Outcome.FAILURE : Outcome.SUCCESS,
          error ? FailureKind.SERVER_ERROR : FailureKind.NONE, status);
    }

    /**
     * Records {@code count} failures of {@code kind}, each taking no time.
     *
     * @param count how many
     * @param kind the failure
     * @return this feeder
     */
    public Instance failed(int count, FailureKind kind) {
      return failed(count, kind, Duration.ZERO);
    }

    /**
     * Records {@code count} failures of {@code kind}, each taking {@code latency}.
     *
     * @param count how many
     * @param kind the failure
     * @param latency how long each took
     * @return this feeder
     */
    public Instance failed(int count, FailureKind kind, Duration latency) {
      requireNonNull(kind, "kind");
      if (kind == FailureKind.NONE) {
        throw new IllegalArgumentException("a failure needs a kind other than NONE");
      }
      return completed(count, latency, Outcome.FAILURE, kind, Completion.NO_STATUS);
    }

    /**
     * Records {@code count} copies of a completion.
     *
     * @param count how many
     * @param latency how long each took
     * @param outcome how it ended
     * @param failure why it failed, or NONE
     * @param status the HTTP status
     * @return this feeder
     */
    public Instance completed(int count, Duration latency, Outcome outcome, FailureKind failure,
        int status) {
      requireNonNull(latency, "latency");
      if (count < 0) {
        throw new IllegalArgumentException("count must not be negative, got " + count);
      }
      Completion completion = new Completion(outcome, failure, status, latency.toNanos(), 0);
      for (int i = 0; i < count; i++) {
        instance.record(completion, ticker.read());
      }
      return this;
    }

    /**
     * Makes this feeder hold exactly {@code count} in-flight slots on the instance (on top of
     * any that real decisions or other feeders hold), taking or giving back slots as needed.
     * Slots given back record nothing.
     *
     * @param count how many
     * @return this feeder
     */
    public Instance inFlight(int count) {
      if (count < 0) {
        throw new IllegalArgumentException("count must not be negative, got " + count);
      }
      while (held.size() < count) {
        held.push(instance.acquire(ticker));
      }
      while (held.size() > count) {
        held.pop().onDropped(); // dropped work is not recorded in the window
      }
      return this;
    }
  }
}
