/** Offloading heavy work to worker pools and queues. */
package dev.offload.core.async;
