package dev.offload.netty;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.internal.Settings;
import dev.offload.http.Compression;
import dev.offload.http.OffloadExecutor;
import dev.offload.http.forward.ForwardRules;
import dev.offload.http.forward.Forwarder;
import dev.offload.netty.internal.BackendPools;
import dev.offload.netty.internal.BackendRelay;
import dev.offload.netty.internal.NettyExchange;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Forwards without blocking, on Netty's client: each {@link Decision.Forward} is relayed on the
 * client's own event loop, over a backend connection of that loop, with no thread hand-off and no
 * blocking call. Share one per {@link OffloadExecutor}; {@link OffloadServer} makes one by
 * default, and a Netty host passes it to {@link OffloadChannelHandler}.
 *
 * <pre>{@code
 * OffloadExecutor offload = OffloadExecutor.of(router);
 * NettyForwarder forwarder = NettyForwarder.of(offload);
 * // per channel:
 * ch.pipeline().addLast(OffloadServer.newDecoder(), new HttpResponseEncoder(),
 *     new OffloadChannelHandler(offload, blocking,
 *         OffloadChannelHandler.DEFAULT_REQUEST_HEAD_TIMEOUT, forwarder),
 *     new MyHostHandler());
 * }</pre>
 *
 * <p>The rules are the executor's {@link Forwarder}'s, through {@link ForwardRules}: the outgoing
 * request ({@link Forwarder#outgoing}: hop-by-hop fields, the forwarding family, {@code Via},
 * {@code Host}), the request body limit (413), 502/504 problems without backend names, the retry
 * policy, the response observer, the decision's fill (edge cache, stale-if-error, revalidation),
 * the completion record and the {@code offload.forward.*} meters. Bodies stream both ways and are
 * never aggregated: the client's body is read one socket read at a time while the backend
 * connection is writable, and the backend connection stops reading while the client's is not
 * writable, so memory per forward stays at a few socket reads.
 *
 * <p>Backend connections are pooled per event loop and per instance: HTTP/1.1 keep-alive, at
 * most {@link Builder#maxIdlePerInstance} idle ones each, closed after {@link
 * Builder#idleTimeout}, on the backend's close or on stray bytes. A request on a pooled
 * connection that fails before any response byte is sent again on a fresh connection when the
 * retry policy allows it (by default: once, idempotent methods without a body). Timeouts are the
 * backend's ({@code connectTimeout}: 504; {@code readTimeout} between reads while waiting for the
 * backend; {@code callTimeout} and the retry policy's per-try timeout for the whole exchange).
 *
 * <p>Backend host names are resolved in the background ({@link Builder#resolver}), never on a
 * loop. What it does not relay, the executor's OkHttp forwarder does on the blocking executor:
 * instances over {@code https}, instances whose host name is not resolved yet (or does not
 * resolve), channels that are neither epoll nor NIO sockets,
 * forwards that wait for a coalesced response, every forward when the executor compresses
 * answers ({@code OffloadExecutor.Builder.compression}), and every forward once the executor is
 * closed (its forwarder answers 503). Thread-safe.
 */
public final class NettyForwarder implements AutoCloseable {
  /** Default idle connections kept per event loop and backend instance. */
  public static final int DEFAULT_MAX_IDLE_PER_INSTANCE = 64;
  /**
   * Default time an idle backend connection is kept: {@value Forwarder#DEFAULT_KEEP_ALIVE_SECONDS}
   * s, as the OkHttp forwarder (below the idle timeouts of common servers).
   */
  public static final Duration DEFAULT_IDLE_TIMEOUT =
      Duration.ofSeconds(Forwarder.DEFAULT_KEEP_ALIVE_SECONDS);

  private final BackendPools pools;
  private final ForwardRules rules;
  private final boolean compressing;
  private ExecutorService ownResolver;

  private NettyForwarder(Builder b) {
    this.rules = ForwardRules.of(b.executor.forwarder(), b.executor.router().ticker());
    this.compressing = b.executor.compression() != Compression.off();
    this.pools = new BackendPools(
        rules, b.executor.router().ticker(), b.maxIdlePerInstance, b.idleTimeout.toNanos(),
        b.resolver != null ? b.resolver : ownResolver());
  }

  /** One daemon thread that resolves backend host names, idle most of the time. */
  private Executor ownResolver() {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(0, 1, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "offload-netty-resolver");
          t.setDaemon(true);
          return t;
        });
    this.ownResolver = pool;
    return pool;
  }

  /**
   * Returns a forwarder with the default pool settings and {@code executor}'s forwarding rules.
   *
   * @param executor the executor whose forwarder's settings apply
   * @return the forwarder
   */
  public static NettyForwarder of(OffloadExecutor executor) {
    return builder(executor).build();
  }

  /**
   * Returns a builder of a forwarder with {@code executor}'s forwarding rules.
   *
   * @param executor the executor whose forwarder's settings apply
   * @return the builder
   */
  public static Builder builder(OffloadExecutor executor) {
    return new Builder(requireNonNull(executor, "executor"));
  }

  /** Whether {@code forward} is relayed here on {@code channel}'s loop (else: OkHttp). */
  boolean canRelay(Channel channel, Decision.Forward forward) {
    return !compressing && !rules.forwarderClosed()
        && forward.handle().pendingResponse().isEmpty() && pools.canRelay(channel, forward);
  }

  /** Starts relaying on the client's loop. */
  BackendRelay relay(ChannelHandlerContext client, NettyExchange exchange,
      OffloadRequest request, Decision.Forward forward) {
    return pools.start(client, exchange, request, forward);
  }

  /**
   * Closes the idle backend connections; forwards under way finish, later ones go through the
   * executor's (OkHttp) forwarder. Idempotent.
   */
  @Override
  public void close() {
    pools.close();
    if (ownResolver != null) {
      ownResolver.shutdownNow();
    }
  }

  /** Builds a {@link NettyForwarder}. Not thread-safe. */
  public static final class Builder {
    private final OffloadExecutor executor;
    private int maxIdlePerInstance = DEFAULT_MAX_IDLE_PER_INSTANCE;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private Executor resolver;

    private Builder(OffloadExecutor executor) {
      this.executor = executor;
    }

    /**
     * Sets how many idle connections are kept per event loop and backend instance (default
     * {@value NettyForwarder#DEFAULT_MAX_IDLE_PER_INSTANCE}); 0 keeps none (a connection per
     * request).
     *
     * @param max at least 0
     * @return this builder
     * @throws IllegalArgumentException naming {@code maxIdlePerInstance} if negative
     */
    public Builder maxIdlePerInstance(int max) {
      if (max < 0) {
        throw new IllegalArgumentException("maxIdlePerInstance must be >= 0, got " + max);
      }
      this.maxIdlePerInstance = max;
      return this;
    }

    /**
     * Sets how long an idle backend connection is kept (default {@link #DEFAULT_IDLE_TIMEOUT});
     * keep it below the backends' own idle timeout.
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException naming {@code idleTimeout} if not positive
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = Settings.positive("idleTimeout", timeout);
      return this;
    }

    /**
     * Sets where backend host names are resolved ({@code InetAddress.getByName}, which blocks,
     * so never on an event loop). Until a name is resolved, and for a name that does not
     * resolve, forwards to it go through the OkHttp forwarder; a resolved name is used for 30 s,
     * then resolved again in the background. Default: one daemon thread of the forwarder's.
     *
     * @param resolver the executor
     * @return this builder
     */
    public Builder resolver(Executor resolver) {
      this.resolver = requireNonNull(resolver, "resolver");
      return this;
    }

    /**
     * Returns the forwarder.
     *
     * @return the forwarder
     */
    public NettyForwarder build() {
      return new NettyForwarder(this);
    }
  }
}
