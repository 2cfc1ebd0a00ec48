/** Admission guards: rate limits and authentication that run before any route. */
package dev.offload.core.guard;
