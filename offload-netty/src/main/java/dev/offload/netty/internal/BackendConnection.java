package dev.offload.netty.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * One HTTP/1.1 connection to a backend instance, last in its channel's pipeline: hands what it
 * reads to the relay using it, and closes itself when it reads anything while idle in the pool.
 * Event loop only.
 */
final class BackendConnection extends ChannelInboundHandlerAdapter {
  final BackendTarget target;
  final BackendPool pool;
  Channel channel;
  BackendRelay relay;
  long idleSinceNanos;
  boolean reused;

  BackendConnection(BackendTarget target, BackendPool pool) {
    this.target = target;
    this.pool = pool;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.channel = ctx.channel();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    BackendRelay r = relay;
    if (r == null) {
      ReferenceCountUtil.release(msg); // bytes on an idle connection: it is out of step
      ctx.close();
      return;
    }
    r.backendRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    BackendRelay r = relay;
    if (r != null) {
      r.backendReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    BackendRelay r = relay;
    if (r != null) {
      r.backendWritabilityChanged();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    pool.removeIdle(this);
    BackendRelay r = relay;
    if (r != null) {
      r.backendClosed(this, null);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    BackendRelay r = relay;
    if (r != null) {
      r.backendClosed(this, cause);
    }
    ctx.close();
  }
}
