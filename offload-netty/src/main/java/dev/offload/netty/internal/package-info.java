/**
 * Implementation of the Netty adapter: the exchange bridge and the strict request decoder. No
 * compatibility promise: anything here may change in any release.
 */
package dev.offload.netty.internal;
