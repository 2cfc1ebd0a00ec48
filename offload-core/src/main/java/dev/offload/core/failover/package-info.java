/** Forwarding to backends, and failover between them. */
package dev.offload.core.failover;
