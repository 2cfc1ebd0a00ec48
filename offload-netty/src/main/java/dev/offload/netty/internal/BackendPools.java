package dev.offload.netty.internal;

import com.google.common.base.Ticker;
import dev.offload.core.Decision;
import dev.offload.core.OffloadRequest;
import dev.offload.core.internal.ThrottledLog;
import dev.offload.http.forward.ForwardRules;
import dev.offload.http.forward.Forwarder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.URI;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The state of one non-blocking forwarder: a {@link BackendPool} per event loop, the targets of
 * the instances it has seen, and its settings. Thread-safe; each pool is used on its own loop.
 */
public final class BackendPools {
  /** The OkHttp forwarder's logger: one place to configure backend failure logging. */
  private static final System.Logger LOG = System.getLogger(Forwarder.class.getName());

  private final ForwardRules rules;
  private final Ticker ticker;
  private final int maxIdlePerInstance;
  private final long idleTimeoutNanos;
  private final ThrottledLog failures;
  private final ConcurrentMap<EventLoop, BackendPool> byLoop = new ConcurrentHashMap<>();
  private final ConcurrentMap<URI, Target> targets = new ConcurrentHashMap<>();
  private final Executor resolver;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Creates the pools.
   *
   * @param rules the forwarding rules (limits, retry policy, observer, metrics)
   * @param ticker the router's clock: idle ages and the call deadline
   * @param maxIdlePerInstance idle connections kept per event loop and instance
   * @param idleTimeoutNanos how long an idle connection is kept
   * @param resolver where host names are resolved ({@code InetAddress.getByName} blocks)
   */
  public BackendPools(ForwardRules rules, Ticker ticker, int maxIdlePerInstance,
      long idleTimeoutNanos, Executor resolver) {
    this.resolver = resolver;
    this.rules = rules;
    this.ticker = ticker;
    this.maxIdlePerInstance = maxIdlePerInstance;
    this.idleTimeoutNanos = idleTimeoutNanos;
    this.failures = new ThrottledLog(LOG, ticker, ThrottledLog.DEFAULT_INTERVAL);
  }

  /**
   * Returns whether {@code forward} can be relayed without blocking on {@code channel}'s loop:
   * an epoll or NIO socket channel, a plain-HTTP instance whose address is known (an IP literal,
   * or a host name resolved in the background), and the forwarder open.
   *
   * @param channel the client's channel
   * @param forward the forward
   * @return whether to relay it here
   */
  public boolean canRelay(Channel channel, Decision.Forward forward) {
    return !closed.get()
        && (channel instanceof EpollSocketChannel || channel instanceof NioSocketChannel)
        && target(forward.instance()) != null;
  }

  /**
   * Starts relaying {@code forward} for the exchange on {@code client}'s channel (event loop).
   *
   * @param client the offload handler's context on the client's channel
   * @param exchange the exchange
   * @param request the request as the router saw it
   * @param forward the forward
   * @return the relay, which takes the request body and the client's events from now on
   */
  public BackendRelay start(ChannelHandlerContext client, NettyExchange exchange,
      OffloadRequest request, Decision.Forward forward) {
    BackendRelay relay = new BackendRelay(this, poolFor(client.channel()), client, exchange,
        request, forward);
    relay.start();
    return relay;
  }

  /**
   * Returns where to connect for {@code instance}, or null to leave the forward to the OkHttp
   * forwarder: not plain HTTP, or a host name not resolved yet. A host name is resolved on the
   * resolver, never on the loop, and again once {@link #DNS_TTL_NANOS} has passed (the old
   * address serves meanwhile); a name that does not resolve is asked again after the same time.
   */
  BackendTarget target(URI instance) {
    Target t = targets.get(instance);
    if (t == null) {
      t = targets.computeIfAbsent(instance, Target::new);
    }
    if (t.fixed) {
      return t.current;
    }
    if (!t.asked || ticker.read() - t.resolvedAtNanos >= DNS_TTL_NANOS) {
      t.refresh();
    }
    return t.current;
  }

  /** How long a resolved host name is used before it is resolved again: 30 s, as the JVM. */
  static final long DNS_TTL_NANOS = TimeUnit.SECONDS.toNanos(30);

  /** One instance's target; for a host name, resolved in the background. */
  private final class Target {
    final URI instance;
    final boolean fixed;
    volatile BackendTarget current;
    volatile long resolvedAtNanos;
    volatile boolean asked;
    private final AtomicBoolean resolving = new AtomicBoolean();

    Target(URI instance) {
      this.instance = instance;
      InetAddress literal = BackendTarget.relayable(instance) ? BackendTarget.literal(instance)
          : null;
      this.fixed = !BackendTarget.relayable(instance) || literal != null;
      this.current = literal == null ? null : BackendTarget.of(instance, literal);
    }

    void refresh() {
      if (!resolving.compareAndSet(false, true)) {
        return;
      }
      asked = true;
      Runnable resolve = () -> {
        try {
          current = BackendTarget.of(instance, InetAddress.getByName(instance.getHost()));
        } catch (UnknownHostException | SecurityException e) {
          LOG.log(System.Logger.Level.DEBUG, "cannot resolve {0}: {1}", instance.getHost(),
              e.getMessage()); // the OkHttp forwarder tries, and reports it
          current = null;
        } finally {
          resolvedAtNanos = ticker.read();
          resolving.set(false);
        }
      };
      try {
        resolver.execute(resolve);
      } catch (RejectedExecutionException e) {
        resolving.set(false); // closed: the OkHttp forwarder takes the forwards
      }
    }
  }

  private BackendPool poolFor(Channel channel) {
    EventLoop loop = channel.eventLoop();
    BackendPool pool = byLoop.get(loop);
    if (pool == null) {
      pool = byLoop.computeIfAbsent(loop,
          l -> new BackendPool(l, this, channel instanceof EpollSocketChannel));
    }
    return pool;
  }

  /** Closes the idle connections; relays under way finish, later forwards are not relayed. */
  public void close() {
    if (closed.compareAndSet(false, true)) {
      byLoop.forEach((loop, pool) -> {
        if (!loop.isShuttingDown()) {
          loop.execute(pool::closeIdle);
        }
      });
    }
  }

  boolean closed() {
    return closed.get();
  }

  ForwardRules rules() {
    return rules;
  }

  Ticker ticker() {
    return ticker;
  }

  int maxIdlePerInstance() {
    return maxIdlePerInstance;
  }

  long idleTimeoutNanos() {
    return idleTimeoutNanos;
  }

  ThrottledLog failures() {
    return failures;
  }
}
