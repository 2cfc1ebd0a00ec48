/**
 * The Netty adapter: {@link dev.offload.netty.OffloadChannelHandler} for a Netty host's own
 * pipeline, and {@link dev.offload.netty.OffloadServer}, a ready-made gateway server.
 */
package dev.offload.netty;
