package dev.offload.core;

import static java.util.Objects.requireNonNull;

import dev.offload.core.internal.BaseUri;
import dev.offload.core.internal.Settings;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A named upstream service that requests can be forwarded to: a description, its instances
 * (base URIs) and per-backend timeouts. Its measured load and health per instance live in {@code
 * dev.offload.core.failover.BackendLoad}, fed by completed decision handles.
 *
 * <pre>{@code
 * Backend orders = Backend.builder("orders")
 *     .instance(URI.create("http://10.0.0.5:8080"))
 *     .readTimeout(Duration.ofSeconds(5))
 *     .build();
 * }</pre>
 *
 * <p>Only the route table names backends: nothing in a request can point the gateway at another
 * address. Immutable: share one per upstream (its load state is kept per {@code Backend} object,
 * so two routes that name the same object share it).
 */
public final class Backend {
  /** Default time to establish a connection. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** Default longest wait for the next bytes of a response. */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);
  /** Default longest time for the whole exchange; zero means no limit. */
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ZERO;

  private final String name;
  private final List<URI> instances;
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Duration callTimeout;

  private Backend(Builder b) {
    this.name = b.name;
    this.instances = List.copyOf(b.instances);
    this.connectTimeout = b.connectTimeout;
    this.readTimeout = b.readTimeout;
    this.callTimeout = b.callTimeout;
  }

  /**
   * Returns a backend with one instance and default timeouts.
   *
   * @param name the name
   * @param instance the instance
   * @return a backend with one instance and default timeouts
   */
  public static Backend of(String name, URI instance) {
    return builder(name).instance(instance).build();
  }

  /**
   * Returns a builder.
   *
   * @param name the name
   * @return a builder
   * @throws IllegalArgumentException if {@code name} is blank or holds characters other than
   * letters, digits, {@code - _ .}
   */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /**
   * Returns the name, used in metrics and explanations.
   *
   * @return the name, used in metrics and explanations
   */
  public String name() {
    return name;
  }

  /**
   * Returns the instances' base URIs.
   *
   * @return the instances' base URIs
   */
  public List<URI> instances() {
    return instances;
  }

  /**
   * Returns the connect timeout.
   *
   * @return the connect timeout
   */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /**
   * Returns the read timeout.
   *
   * @return the read timeout
   */
  public Duration readTimeout() {
    return readTimeout;
  }

  /**
   * Returns the whole-call timeout; zero means none.
   *
   * @return the whole-call timeout; zero means none
   */
  public Duration callTimeout() {
    return callTimeout;
  }

  @Override
  public String toString() {
    return name + instances;
  }

  /** Builds a {@link Backend}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final List<URI> instances = new ArrayList<>();
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration readTimeout = DEFAULT_READ_TIMEOUT;
    private Duration callTimeout = DEFAULT_CALL_TIMEOUT;

    private Builder(String name) {
      requireNonNull(name, "name");
      if (name.isBlank() || !name.matches("[A-Za-z0-9._-]+")) {
        throw new IllegalArgumentException(
            "backend name must be letters, digits, '-', '_' or '.', got '" + name + "'");
      }
      this.name = name;
    }

    /**
     * Adds an instance.
     *
     * @param uri the instance's base URI
     * @return this builder
     * @throws IllegalArgumentException unless {@code uri} is an absolute http or https URI with a
     * host, no user info, no query and no fragment, not already added
     */
    public Builder instance(URI uri) {
      BaseUri.check("backend " + name + ": instance", uri);
      if (instances.contains(uri)) {
        throw new IllegalArgumentException(
            "backend " + name + ": instance '" + uri + "' is already added");
      }
      instances.add(uri);
      return this;
    }

    /**
     * Sets the connect timeout; must be positive.
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = Settings.positive("connectTimeout", timeout);
      return this;
    }

    /**
     * Sets the read timeout; must be positive.
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = Settings.positive("readTimeout", timeout);
      return this;
    }

    /**
     * Sets the whole-call timeout; zero means none; must not be negative.
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder callTimeout(Duration timeout) {
      requireNonNull(timeout, "callTimeout");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("callTimeout must not be negative, got " + timeout);
      }
      this.callTimeout = timeout;
      return this;
    }

    /**
     * Returns the backend.
     *
     * @return the backend
     * @throws IllegalStateException if no instance was added
     */
    public Backend build() {
      if (instances.isEmpty()) {
        throw new IllegalStateException("backend " + name + " needs at least one instance()");
      }
      return new Backend(this);
    }
  }
}
