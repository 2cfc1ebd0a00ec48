package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

/**
 * A backend as the replay simulates it: {@code instances} instances behind a load balancer, each
 * working on at most {@code concurrency} requests at once; a request that finds every slot busy
 * waits (first come, first served) for the first slot to free. The replay matches it to the
 * router's {@code Forward} decisions by {@link dev.offload.core.Backend#name()}, to {@code
 * Offload} decisions by queue name, and to pass-through by {@link TrafficReplay#HOST}.
 *
 * <pre>{@code
 * SimulatedBackend.of("orders", 2, 8, ServiceTime.fromLog(Duration.ofMillis(40)))
 * }</pre>
 *
 * @param name the backend's (or queue's) name
 * @param instances how many instances serve it
 * @param concurrency requests one instance works on at once (its worker threads)
 * @param serviceTime how long one request takes once it has a slot
 */
public record SimulatedBackend(String name, int instances, int concurrency,
    ServiceTime serviceTime) {
  /** The most instances a simulated backend may have. */
  public static final int MAX_INSTANCES = 10_000;

  /**
   * Checks the values.
   *
   * @param name see {@link #name()}
   * @param instances see {@link #instances()}
   * @param concurrency see {@link #concurrency()}
   * @param serviceTime see {@link #serviceTime()}
   * @throws IllegalArgumentException if {@code name} is blank, {@code instances} is not in
   *     1..{@value #MAX_INSTANCES} or {@code concurrency} is not in 1..100000
   */
  public SimulatedBackend {
    requireNonNull(name, "name");
    requireNonNull(serviceTime, "serviceTime");
    if (name.isBlank()) {
      throw new IllegalArgumentException("simulated backend name must not be blank");
    }
    if (instances < 1 || instances > MAX_INSTANCES) {
      throw new IllegalArgumentException("instances of simulated backend " + name
          + " must be in 1.." + MAX_INSTANCES + ", got " + instances);
    }
    if (concurrency < 1 || concurrency > 100_000) {
      throw new IllegalArgumentException("concurrency of simulated backend " + name
          + " must be in 1..100000, got " + concurrency);
    }
  }

  /**
   * Returns a simulated backend.
   *
   * @param name the backend's (or queue's) name
   * @param instances how many instances serve it
   * @param concurrency requests one instance works on at once
   * @param serviceTime how long one request takes once it has a slot
   * @return the simulated backend
   * @throws IllegalArgumentException as the constructor does
   */
  public static SimulatedBackend of(String name, int instances, int concurrency,
      ServiceTime serviceTime) {
    return new SimulatedBackend(name, instances, concurrency, serviceTime);
  }

  /**
   * Returns this backend with another number of instances.
   *
   * @param count the instances
   * @return a copy with {@code count} instances
   * @throws IllegalArgumentException if {@code count} is out of range
   */
  public SimulatedBackend withInstances(int count) {
    return new SimulatedBackend(name, count, concurrency, serviceTime);
  }
}
