/**
 * Implementation detail of {@code dev.offload.core.failover}: it carries no compatibility promise
 * and may change in any release.
 */
package dev.offload.core.failover.internal;
