package dev.offload.http.jdk;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JDK {@code HttpServer}'s own limits, which are what stands between it and a client that
 * opens connections and never finishes a request. Without {@code sun.net.httpserver.maxReqTime}
 * the JDK server has no deadline for a request: a connection that sends {@code X-A: } and stops
 * holds one of the server's threads forever (the request head is read on the executor's
 * threads), and a few dozen such connections stop a server with a fixed pool.
 *
 * <p>The JDK reads these settings from system properties <em>once</em>, when the first {@code
 * HttpServer} of the JVM is created ({@code sun.net.httpserver.ServerConfig} and {@code
 * ServerImpl} keep them in static fields). So set them before that, either on the command line
 * or with {@link #createServer}/{@link #apply()} before any other code creates a server:
 *
 * <pre>{@code
 * HttpServer server = JdkServerLimits.ofDefaults().createServer(new InetSocketAddress(8080), 0);
 * server.createContext("/", OffloadHttpHandler.wrap(executor, existingHandler));
 * server.setExecutor(Executors.newFixedThreadPool(64));
 * server.start();
 * }</pre>
 *
 * <p>What each setting does on JDK 17 (checked against its source and by test):
 *
 * <ul>
 *   <li>{@code sun.net.httpserver.maxReqTime} (seconds): a connection whose request head and
 *       body are not read completely within it is closed, also while a handler is blocked reading
 *       the body. It bounds the whole upload, so it must exceed the longest upload you accept.
 *       It also bounds how long a new connection may stay silent.
 *   <li>{@code sun.net.httpserver.maxRspTime} (seconds): a connection whose response is not
 *       completely sent within it (counted from the end of the request) is closed: it bounds a
 *       client that stops reading, and also the longest download, slow backends included.
 *   <li>{@code sun.net.httpserver.idleInterval} (seconds): how long a kept-alive connection may
 *       stay idle between requests.
 *   <li>{@code sun.net.httpserver.maxIdleConnections}: how many idle connections are kept.
 *   <li>{@code sun.net.httpserver.maxReqHeaders}: how many header fields a request may have.
 * </ul>
 *
 * <p>{@link #unsafeSettings()} says what is missing or unsafe in this JVM; {@link
 * OffloadHttpHandler#wrap} logs it once as a warning, and {@link #requireSafe()} refuses to go on.
 *
 * <p>Immutable and thread-safe.
 */
public final class JdkServerLimits {
  /** {@code sun.net.httpserver.maxReqTime}. */
  public static final String MAX_REQUEST_TIME = "sun.net.httpserver.maxReqTime";
  /** {@code sun.net.httpserver.maxRspTime}. */
  public static final String MAX_RESPONSE_TIME = "sun.net.httpserver.maxRspTime";
  /** {@code sun.net.httpserver.idleInterval}. */
  public static final String IDLE_INTERVAL = "sun.net.httpserver.idleInterval";
  /** {@code sun.net.httpserver.maxIdleConnections}. */
  public static final String MAX_IDLE_CONNECTIONS = "sun.net.httpserver.maxIdleConnections";
  /** {@code sun.net.httpserver.maxReqHeaders}. */
  public static final String MAX_REQUEST_HEADERS = "sun.net.httpserver.maxReqHeaders";

  /** Default longest time to receive a request, head and body: 60 s. */
  public static final Duration DEFAULT_MAX_REQUEST_TIME = Duration.ofSeconds(60);
  /** Default longest time to send a response: 10 minutes. */
  public static final Duration DEFAULT_MAX_RESPONSE_TIME = Duration.ofMinutes(10);
  /** Default longest idle time of a kept-alive connection: 30 s (the JDK's own default). */
  public static final Duration DEFAULT_IDLE_INTERVAL = Duration.ofSeconds(30);
  /** Default number of idle connections kept: 200 (the JDK's own default). */
  public static final int DEFAULT_MAX_IDLE_CONNECTIONS = 200;
  /** Default largest number of request header fields: 100 (the JDK allows 200). */
  public static final int DEFAULT_MAX_REQUEST_HEADERS = 100;

  /** Above this a request or idle deadline is no protection: 5 minutes. */
  static final long UNSAFE_ABOVE_SECONDS = 300;

  private static final System.Logger LOG = System.getLogger(JdkServerLimits.class.getName());
  private static final AtomicBoolean WARNED = new AtomicBoolean();
  /** Thread names of the JDK 17+ server's timers (one each per server). */
  private static final String IDLE_TIMER_THREAD = "idle-timeout-task";
  private static final String REQUEST_TIMER_THREAD = "req-rsp-timeout-task";

  private final Duration maxRequestTime;
  private final Duration maxResponseTime;
  private final Duration idleInterval;
  private final int maxIdleConnections;
  private final int maxRequestHeaders;

  private JdkServerLimits(Builder b) {
    this.maxRequestTime = b.maxRequestTime;
    this.maxResponseTime = b.maxResponseTime;
    this.idleInterval = b.idleInterval;
    this.maxIdleConnections = b.maxIdleConnections;
    this.maxRequestHeaders = b.maxRequestHeaders;
  }

  /**
   * Returns the defaults.
   *
   * @return the defaults
   */
  public static JdkServerLimits ofDefaults() {
    return builder().build();
  }

  /**
   * Returns a builder starting from the defaults.
   *
   * @return a builder starting from the defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Sets the system properties, to be read by the first {@code HttpServer} the JVM creates.
   *
   * @throws IllegalStateException if a JDK {@code HttpServer} without a request deadline was
   *     already created in this JVM: the JDK has read its settings, and these come too late
   */
  public void apply() {
    System.setProperty(MAX_REQUEST_TIME, Long.toString(maxRequestTime.toSeconds()));
    System.setProperty(MAX_RESPONSE_TIME, Long.toString(maxResponseTime.toSeconds()));
    System.setProperty(IDLE_INTERVAL, Long.toString(idleInterval.toSeconds()));
    System.setProperty(MAX_IDLE_CONNECTIONS, Integer.toString(maxIdleConnections));
    System.setProperty(MAX_REQUEST_HEADERS, Integer.toString(maxRequestHeaders));
    if (createdWithoutDeadline()) {
      throw new IllegalStateException("JdkServerLimits.apply() came too late: an HttpServer "
          + "without " + MAX_REQUEST_TIME + " was already created in this JVM, and the JDK "
          + "reads its settings once; apply the limits before the first HttpServer.create, or "
          + "pass them as -D options");
    }
  }

  /**
   * {@linkplain #apply() Applies} the limits, then creates an unstarted server bound to {@code
   * address}: the safe way to get a JDK server for offload.
   *
   * @param address the address
   * @param backlog the backlog
   * @return the server, bound and not started
   * @throws IllegalStateException as {@link #apply()}
   * @throws IOException from {@link HttpServer#create(InetSocketAddress, int)}
   */
  public HttpServer createServer(InetSocketAddress address, int backlog) throws IOException {
    requireNonNull(address, "address");
    apply();
    return HttpServer.create(address, backlog);
  }

  /**
   * Returns what is missing or unsafe in this JVM's settings of the JDK server, one sentence
   * each; empty when safe. Reads the system properties and, where a server already exists,
   * whether the JDK runs its request deadline timer.
   *
   * @return what is missing or unsafe in this JVM's settings of the JDK server, one sentence each;
   *     empty when safe
   */
  public static List<String> unsafeSettings() {
    List<String> unsafe = new ArrayList<>();
    long request = seconds(MAX_REQUEST_TIME);
    if (request <= 0) {
      unsafe.add(MAX_REQUEST_TIME + " is not set: a client that never finishes its request "
          + "holds a server thread forever");
    } else if (request > UNSAFE_ABOVE_SECONDS) {
      unsafe.add(MAX_REQUEST_TIME + "=" + request + " s lets stalled clients hold threads "
          + "for longer than " + UNSAFE_ABOVE_SECONDS + " s");
    }
    if (seconds(MAX_RESPONSE_TIME) <= 0) {
      unsafe.add(MAX_RESPONSE_TIME + " is not set: a client that stops reading its response "
          + "holds a server thread forever");
    }
    if (seconds(IDLE_INTERVAL) > UNSAFE_ABOVE_SECONDS) {
      unsafe.add(IDLE_INTERVAL + " is above " + UNSAFE_ABOVE_SECONDS + " s");
    }
    if (createdWithoutDeadline()) {
      unsafe.add("an HttpServer runs without a request deadline: " + MAX_REQUEST_TIME
          + " was not set when the JDK read its settings (at the JVM's first HttpServer)");
    }
    return unsafe;
  }

  /**
   * Throws when {@link #unsafeSettings()} is not empty.
   *
   * @throws IllegalStateException naming every unsafe setting
   */
  public static void requireSafe() {
    List<String> unsafe = unsafeSettings();
    if (!unsafe.isEmpty()) {
      throw new IllegalStateException("unsafe JDK HttpServer settings (see JdkServerLimits): "
          + String.join("; ", unsafe));
    }
  }

  /** Logs {@link #unsafeSettings()} as one warning, the first time this JVM finds any. */
  static void warnOnceIfUnsafe() {
    if (WARNED.get()) {
      return;
    }
    List<String> unsafe = unsafeSettings();
    if (!unsafe.isEmpty() && WARNED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.WARNING, "unsafe JDK HttpServer settings, use "
          + "JdkServerLimits.ofDefaults().createServer(...) or -D options: "
          + String.join("; ", unsafe));
    }
  }

  /**
   * Whether a JDK server exists (its idle timer thread runs) and none runs the request/response
   * deadline timer, which the JDK starts for each server only when it read a deadline.
   */
  private static boolean createdWithoutDeadline() {
    ThreadGroup root = Thread.currentThread().getThreadGroup();
    while (root.getParent() != null) {
      root = root.getParent();
    }
    Thread[] threads = new Thread[root.activeCount() + 16];
    int n = root.enumerate(threads, true);
    boolean server = false;
    for (int i = 0; i < n; i++) {
      String name = threads[i].getName();
      if (name.equals(REQUEST_TIMER_THREAD)) {
        return false;
      }
      server |= name.equals(IDLE_TIMER_THREAD);
    }
    return server;
  }

  private static long seconds(String property) {
    try {
      return Long.parseLong(System.getProperty(property, "-1").strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Builds {@link JdkServerLimits}; starts from the defaults. Not thread-safe. */
  public static final class Builder {
    private Duration maxRequestTime = DEFAULT_MAX_REQUEST_TIME;
    private Duration maxResponseTime = DEFAULT_MAX_RESPONSE_TIME;
    private Duration idleInterval = DEFAULT_IDLE_INTERVAL;
    private int maxIdleConnections = DEFAULT_MAX_IDLE_CONNECTIONS;
    private int maxRequestHeaders = DEFAULT_MAX_REQUEST_HEADERS;

    private Builder() {}

    /**
     * Sets {@code sun.net.httpserver.maxReqTime}: the longest time to receive a request, head
     * and body (default {@link #DEFAULT_MAX_REQUEST_TIME}).
     *
     * @param time the time
     * @return this builder
     * @throws IllegalArgumentException naming {@code maxRequestTime} unless whole seconds, at
     * least 1 (the JDK counts in seconds)
     */
    public Builder maxRequestTime(Duration time) {
      this.maxRequestTime = wholeSeconds("maxRequestTime", time);
      return this;
    }

    /**
     * Sets {@code sun.net.httpserver.maxRspTime}: the longest time to send a response (default
     * {@link #DEFAULT_MAX_RESPONSE_TIME}); it bounds the longest download too.
     *
     * @param time the time
     * @return this builder
     * @throws IllegalArgumentException naming {@code maxResponseTime} unless whole seconds, at
     * least 1
     */
    public Builder maxResponseTime(Duration time) {
      this.maxResponseTime = wholeSeconds("maxResponseTime", time);
      return this;
    }

    /**
     * Sets {@code sun.net.httpserver.idleInterval} (default {@link #DEFAULT_IDLE_INTERVAL}).
     *
     * @param time the time
     * @return this builder
     * @throws IllegalArgumentException naming {@code idleInterval} unless whole seconds, at
     * least 1
     */
    public Builder idleInterval(Duration time) {
      this.idleInterval = wholeSeconds("idleInterval", time);
      return this;
    }

    /**
     * Sets {@code sun.net.httpserver.maxIdleConnections} (default {@value
     * #DEFAULT_MAX_IDLE_CONNECTIONS}).
     *
     * @param n the most idle connections kept
     * @return this builder
     * @throws IllegalArgumentException naming {@code maxIdleConnections} if negative
     */
    public Builder maxIdleConnections(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxIdleConnections must not be negative, got " + n);
      }
      this.maxIdleConnections = n;
      return this;
    }

    /**
     * Sets {@code sun.net.httpserver.maxReqHeaders} (default {@value
     * #DEFAULT_MAX_REQUEST_HEADERS}).
     *
     * @param n the most request header fields accepted
     * @return this builder
     * @throws IllegalArgumentException naming {@code maxRequestHeaders} if not positive
     */
    public Builder maxRequestHeaders(int n) {
      if (n <= 0) {
        throw new IllegalArgumentException("maxRequestHeaders must be positive, got " + n);
      }
      this.maxRequestHeaders = n;
      return this;
    }

    private static Duration wholeSeconds(String setting, Duration time) {
      requireNonNull(time, setting);
      if (time.toSeconds() < 1 || time.toNanosPart() != 0) {
        throw new IllegalArgumentException(
            setting + " must be whole seconds, at least 1 (the JDK counts in seconds), got "
                + time);
      }
      return time;
    }

    /**
     * Returns the limits.
     *
     * @return the limits
     */
    public JdkServerLimits build() {
      return new JdkServerLimits(this);
    }
  }
}
