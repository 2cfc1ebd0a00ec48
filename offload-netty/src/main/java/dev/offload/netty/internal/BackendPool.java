package dev.offload.netty.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The backend connections of one event loop: idle keep-alive connections per instance (at most
 * a bounded number each, the most recently used taken first, closed after the idle timeout) and
 * new connections made on this loop, so a relay never leaves its client's thread. Event loop only.
 */
final class BackendPool {
  /** Longest response line from a backend. */
  private static final int MAX_INITIAL_LINE = 8 * 1024;
  /** Largest response header section from a backend; beyond it the response is bad (502). */
  private static final int MAX_HEADER_SIZE = 64 * 1024;
  private static final int MAX_CHUNK_SIZE = 16 * 1024;

  private final EventLoop loop;
  private final BackendPools pools;
  private final Bootstrap bootstrap;
  private final Map<URI, ArrayDeque<BackendConnection>> idle = new HashMap<>();
  private int idleCount;
  private boolean sweepScheduled;

  BackendPool(EventLoop loop, BackendPools pools, boolean epoll) {
    this.loop = loop;
    this.pools = pools;
    this.bootstrap = new Bootstrap().group(loop)
        .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true);
  }

  /** Returns an idle connection to {@code target} that is still open, or null. */
  BackendConnection take(BackendTarget target) {
    ArrayDeque<BackendConnection> conns = idle.get(target.instance());
    if (conns == null) {
      return null;
    }
    BackendConnection c;
    while ((c = conns.pollLast()) != null) {
      idleCount--;
      if (c.channel.isActive()) {
        c.reused = true;
        return c;
      }
    }
    return null;
  }

  /** Connects to {@code target} on this loop; the future's channel ends in a connection. */
  ChannelFuture connect(BackendTarget target, int connectTimeoutMillis) {
    BackendConnection conn = new BackendConnection(target, this);
    return bootstrap.clone()
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast("codec",
                new HttpClientCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, MAX_CHUNK_SIZE))
                .addLast("conn", conn);
          }
        })
        .connect(target.address());
  }

  /**
   * Keeps {@code c} for the next request to its instance, or closes it when the instance has as
   * many idle connections as allowed or the forwarder is closed.
   */
  void release(BackendConnection c) {
    c.relay = null;
    ArrayDeque<BackendConnection> conns =
        idle.computeIfAbsent(c.target.instance(), k -> new ArrayDeque<>());
    if (pools.closed() || conns.size() >= pools.maxIdlePerInstance() || !c.channel.isActive()) {
      c.channel.close();
      return;
    }
    c.idleSinceNanos = pools.ticker().read();
    conns.addLast(c);
    idleCount++;
    c.channel.config().setAutoRead(true); // notice a close, or stray bytes, while it is idle
    if (!sweepScheduled) {
      sweepScheduled = true;
      loop.schedule(this::sweep, pools.idleTimeoutNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** Forgets {@code c} if it is idle here (it closed). */
  void removeIdle(BackendConnection c) {
    ArrayDeque<BackendConnection> conns = idle.get(c.target.instance());
    if (conns != null && conns.remove(c)) {
      idleCount--;
    }
  }

  /** Closes the connections idle for the idle timeout or longer; runs while any are idle. */
  private void sweep() {
    sweepScheduled = false;
    long now = pools.ticker().read();
    for (ArrayDeque<BackendConnection> conns : idle.values()) {
      for (Iterator<BackendConnection> it = conns.iterator(); it.hasNext(); ) {
        BackendConnection c = it.next();
        if (now - c.idleSinceNanos >= pools.idleTimeoutNanos() || pools.closed()) {
          it.remove();
          idleCount--;
          c.channel.close();
        }
      }
    }
    if (idleCount > 0) {
      sweepScheduled = true;
      loop.schedule(this::sweep, pools.idleTimeoutNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** Closes every idle connection (the forwarder is closing). */
  void closeIdle() {
    for (ArrayDeque<BackendConnection> conns : idle.values()) {
      BackendConnection c;
      while ((c = conns.poll()) != null) {
        c.channel.close();
      }
    }
    idleCount = 0;
  }
}
