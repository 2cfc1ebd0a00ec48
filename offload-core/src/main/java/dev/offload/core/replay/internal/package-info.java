/** The replay's simulation and parsing internals; no compatibility promise. */
package dev.offload.core.replay.internal;
